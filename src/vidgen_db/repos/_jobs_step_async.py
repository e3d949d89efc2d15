"""One step of a job, as the worker runs it: start, progress, logs, success or failure.

::

    async with db.jobs.step(job_id, "SCRIPTING") as step:
        await step.log("writing the script")
        for i, scene in enumerate(scenes):
            ...
            await step.progress(100 * (i + 1) // len(scenes), f"scene {i + 1}")
        step.artifacts = {"script_url": url}

Entering starts the step (``start_job_step``, which also moves the job to that stage).
Progress is coalesced so a tight loop cannot flood the database: an update is written at
once if ``min_interval`` seconds have passed since the last write, otherwise it is kept
(only the latest) and written by the next call that comes late enough. Leaving normally
completes the step with ``step.artifacts`` and ``step.message`` (or the last progress
message), and the completion costs no request of its own: it is deferred to the job's
next call, which writes it in the same request (the next step's start, ``next_job_step``;
``db.jobs.finish``), or to ``db.job_steps.flush(job_id)`` (the service client flushes
what is left when it closes). A pending progress value is not written then: completing
sets the step to 100. ``complete()`` inside the block writes the completion at once. An exception
fails the step and the job (``job_steps.fail``: the credits are refunded in SQL) and is
re-raised unchanged; if recording the failure fails too, that error is attached to the
original (``__context__`` and a note), never raised instead of it.

Under a claim (``lease``, the claim's fencing token), every write carries the lease and
renews it. If the worker lost the job (LeaseLostError: its lease expired and another
worker has it, or will), leaving the block records nothing: the job is someone else's
now. If the job's owner cancelled it (JobCancelledError), the failure recorded is the
cancellation, and the credits are refunded.

A progress write that fails raises from ``progress()`` (inside the block: the step then
fails as above). If writing a deferred completion fails (after the client's retries), the
error is raised by the call that carried it, and the completion is kept to be written
again: the work was done, and the step may be completed, or run, again.

A log line never fails the job. ``log()`` is safe to retry (each line carries an
idempotency key, so the client's retries after a lost response store it once); a line
that still cannot be stored (the database refused it, or could not be reached after the
client's retries, or its ``data`` is over its bound) is reported as a WARNING on the
``vidgen_db.jobs`` logger and dropped: ``log()`` then returns None. It raises only what
says the job is no longer this worker's (LeaseLostError, JobCancelledError: stop working
on it) and a ``level`` that is not a LogLevel (a bug in the caller). A message over 4000
characters is cut (marked with "...").

Cancellation, ``KeyboardInterrupt`` and ``SystemExit`` (anything not an ``Exception``)
are not recorded as a failure: the worker is being stopped, not the job failing; the
step stays started and may be started again (``start_job_step`` restarts a step).

A step object is for one task: do not share it between concurrent tasks or threads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import Enum
from types import TracebackType
from typing import Self
from uuid import UUID

from pydantic import JsonValue

from .._errors import InvalidArgumentError, JobCancelledError, LeaseLostError, VidgenDBError
from ..models.enums import LogLevel
from ..models.job_steps import JobStep as JobStepRow
from ._job_steps_async import AsyncServiceJobSteps
from ._logs_async import AsyncServiceJobLogs

__all__ = ["AsyncRunningStep"]

#: Longest error message sent to ``fail_job`` (the rest is cut, marked with "...").
MAX_ERROR_MESSAGE = 4000
#: Longest error code sent to ``fail_job`` (``jobs.error_code``'s bound).
MAX_ERROR_CODE = 100
#: Longest log line ``step.log()`` sends (``job_logs.message``'s bound; the rest is cut).
MAX_LOG_MESSAGE = 4000

logger = logging.getLogger("vidgen_db.jobs")


class _State(Enum):
    NEW = "new"
    ACTIVE = "active"
    COMPLETED = "completed"  # complete() was called inside the block
    CLOSED = "closed"


def error_code_of(exc: BaseException) -> str:
    """The ``error_code`` attribute of ``exc`` if it is a non-empty string, else its class
    name."""
    code = getattr(exc, "error_code", None)
    text = code.strip() if isinstance(code, str) and code.strip() else type(exc).__name__
    return text[:MAX_ERROR_CODE]


def error_message_of(exc: BaseException) -> str:
    """``str(exc)`` (the class name when that is empty), cut to MAX_ERROR_MESSAGE."""
    text = str(exc).strip() or type(exc).__name__
    if len(text) > MAX_ERROR_MESSAGE:
        text = text[: MAX_ERROR_MESSAGE - 3] + "..."
    return text


def check_progress(pct: int) -> int:
    if isinstance(pct, bool) or not isinstance(pct, int) or not 0 <= pct <= 100:
        raise InvalidArgumentError(f"progress must be an integer from 0 to 100, got {pct!r}")
    return pct


class AsyncRunningStep:
    """One step of a job as an async context manager (see the module docstring).

    ``job_steps`` and ``logs`` are the service client's repositories the step writes
    through (``db.jobs.step()`` passes them); ``lease`` the claim's fencing token, if the
    job was claimed; ``min_interval`` the fewest seconds between two progress writes;
    ``clock`` a monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        job_steps: AsyncServiceJobSteps,
        logs: AsyncServiceJobLogs,
        job_id: UUID,
        step_name: str,
        *,
        lease: int | None = None,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min_interval < 0:
            raise InvalidArgumentError(f"min_interval must be zero or more, got {min_interval!r}")
        if not step_name:
            raise InvalidArgumentError("step_name must not be empty")
        self._steps = job_steps
        self._logs = logs
        self.lease = lease
        self.job_id = job_id
        self.step_name = str(step_name)
        self.min_interval = min_interval
        self._clock = clock
        self._state = _State.NEW
        #: What ``complete_job_step`` records when the block ends normally.
        self.artifacts: JsonValue | None = None
        #: The step's final status message, recorded with the completion.
        self.message: str | None = None
        self._pending: tuple[int, str | None] | None = None
        self._written: tuple[int, str | None] | None = None
        self._last_write: float | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(job_id='{self.job_id}', step_name={self.step_name!r}, "
            f"state={self._state.value!r})"
        )

    # -- the block -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._state is not _State.NEW:
            raise RuntimeError(f"{self!r} was already entered: use a new step object")
        await self._steps.start(self.job_id, self.step_name, lease=self.lease)
        self._last_write = self._clock()
        self._state = _State.ACTIVE
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        state = self._state
        self._state = _State.CLOSED
        if exc is None:
            if state is _State.ACTIVE:
                self._steps.defer_completion(
                    self.job_id,
                    self.step_name,
                    artifacts=self.artifacts,
                    message=self._final_message(),
                    lease=self.lease,
                )
            return
        if not isinstance(exc, Exception) or isinstance(exc, LeaseLostError):
            return  # stopped, or the job is another worker's now (see the docstring)
        try:
            await self._steps.fail(
                self.job_id,
                self.step_name,
                error_code_of(exc),
                error_message_of(exc),
                lease=self.lease,
            )
        except Exception as recording:
            exc.add_note(
                f"vidgen_db: recording the failure of step {self.step_name} of job "
                f"{self.job_id} failed too: {type(recording).__name__}: {recording}"
            )
            if exc.__context__ is None:
                if recording.__context__ is exc:
                    recording.__context__ = None  # no cycle: exc -> recording -> exc
                exc.__context__ = recording
        # Returning None re-raises ``exc`` unchanged.

    # -- inside the block ----------------------------------------------------------------

    def _require_active(self, what: str) -> None:
        if self._state is not _State.ACTIVE:
            raise RuntimeError(
                f"{what} on {self!r}: only inside its 'async with' block, before it completes"
            )

    async def progress(self, pct: int, message: str | None = None) -> None:
        """Report the step's progress (0..100) and optionally a status message. Written at
        most once per ``min_interval``; a later call or leaving the block writes the latest
        pending value."""
        check_progress(pct)
        self._require_active("progress()")
        self._pending = (pct, message)
        assert self._last_write is not None
        if self._clock() - self._last_write >= self.min_interval:
            await self._flush()

    async def flush(self) -> None:
        """Write the pending progress now, whatever the interval."""
        self._require_active("flush()")
        await self._flush()

    async def _flush(self) -> None:
        pending = self._pending
        if pending is None:
            return
        if pending == self._written:
            self._pending = None  # nothing new to say
            return
        pct, message = pending
        await self._steps.update(
            self.job_id, self.step_name, pct, message=message, lease=self.lease
        )
        self._written = pending
        self._pending = None
        self._last_write = self._clock()

    async def log(
        self,
        message: str,
        *,
        level: LogLevel | str = LogLevel.INFO,
        data: JsonValue | None = None,
    ) -> int | None:
        """Append a line to the job's log, tagged with this step; returns its number in
        the job, or None when it could not be stored (a warning says why; the job goes on:
        see the module docstring)."""
        if self._state not in (_State.ACTIVE, _State.COMPLETED):
            raise RuntimeError(f"log() on {self!r}: only inside its 'async with' block")
        try:
            level = LogLevel(level)
        except ValueError:
            raise InvalidArgumentError(f"level must be a LogLevel, got {level!r}") from None
        if len(message) > MAX_LOG_MESSAGE:
            message = message[: MAX_LOG_MESSAGE - 3] + "..."
        try:
            return await self._logs.append(
                self.job_id,
                message,
                level=level,
                step_name=self.step_name,
                data=data,
                lease=self.lease,
            )
        except (LeaseLostError, JobCancelledError):
            raise
        except VidgenDBError as exc:
            logger.warning(
                "log line of step %s of job %s dropped (%s: %s): %.200s",
                self.step_name,
                self.job_id,
                type(exc).__name__,
                exc,
                message,
            )
            return None

    async def complete(
        self, *, artifacts: JsonValue | None = None, message: str | None = None
    ) -> JobStepRow:
        """Complete the step now, in this request (a pending progress message is its
        message unless one is given), and return it; leaving the block then records nothing
        more, unless an exception escapes it (the job is then failed all the same)."""
        self._require_active("complete()")
        if artifacts is not None:
            self.artifacts = artifacts
        if message is not None:
            self.message = message
        step = await self._steps.complete(
            self.job_id,
            self.step_name,
            artifacts=self.artifacts,
            message=self._final_message(),
            lease=self.lease,
        )
        self._state = _State.COMPLETED
        return step

    def _final_message(self) -> str | None:
        """The completion's message: ``self.message``, else a progress message not yet
        written (its percentage is not: completing sets 100)."""
        if self.message is not None:
            return self.message
        return self._pending[1] if self._pending else None

    @property
    def pending_progress(self) -> int | None:
        """The progress waiting to be written, if any."""
        return None if self._pending is None else self._pending[0]
