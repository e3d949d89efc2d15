# Generated from src/vidgen_db/worker/_runner_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""The worker runner: claim jobs, run a handler on each under its lease, stop cleanly.

::

    def handler(job: ClaimedJob) -> str:
        for stage in job.remaining_stages():
            with job.step(stage) as step:
                ...
        return "https://cdn.example.com/out.mp4"   # the job is finished with it

    run(handler, concurrency=4)          # SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY

The runner registers the worker, then claims up to ``concurrency`` jobs at a time. Each job
runs in its own task, with a heartbeat renewing its lease every ``heartbeat_interval``
seconds (a third of the lease by default), so a long step keeps the job. When the queue is
empty it waits, longer each time (with jitter) up to ``max_poll_interval``.

What ends a job:

* the handler returns a string (the output URL) or a :class:`JobResult`: the job is
  finished (READY, credits settled); returning None without finishing it is an error;
* the handler raises: the job is failed and refunded (a step has already recorded it);
* the heartbeat learns that the lease is lost (the job was recovered: another worker has
  it) or that the owner cancelled the job: the handler is cancelled; a lost job is left
  alone, a cancelled one is failed as CANCELLED and refunded.

On SIGTERM or SIGINT (or :meth:`WorkerRunner.stop`) it stops claiming and waits up to
``shutdown_timeout`` seconds for the running jobs; those still running are stopped and
released: back to the queue, no attempt charged. A second signal releases at once.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable
from typing import Unpack
from uuid import UUID

from .._client import ServiceDB, VidgenDB
from .._errors import (
    InvalidArgumentError,
    JobCancelledError,
    LeaseLostError,
    TransientError,
    UnknownWorkerError,
    VidgenDBError,
)
from ..models import Job
from ..repos._jobs_step import error_code_of, error_message_of
from . import _threads as compat
from ._claimed import ClaimedJob
from ._options import JobOutput, JobResult, RunnerOptions

__all__ = ["Handler", "WorkerRunner", "run"]

logger = logging.getLogger("vidgen_db.worker")

Handler = Callable[[ClaimedJob], JobOutput]


class WorkerRunner:
    """Runs ``handler`` on the jobs this worker claims (see the module docstring)."""

    def __init__(
        self,
        db: ServiceDB,
        handler: Handler,
        *,
        concurrency: int = 1,
        name: str | None = None,
        lease_seconds: int = 120,
        heartbeat_interval: float | None = None,
        poll_interval: float = 0.5,
        max_poll_interval: float = 10.0,
        shutdown_timeout: float = 30.0,
        max_running_per_user: int | None = None,
        handle_signals: bool = True,
    ) -> None:
        if not isinstance(concurrency, int) or not 1 <= concurrency <= 100:
            raise InvalidArgumentError(
                f"concurrency must be an integer from 1 to 100, got {concurrency!r}"
            )
        if lease_seconds < 1:
            raise InvalidArgumentError("lease_seconds must be at least 1")
        if poll_interval <= 0 or max_poll_interval < poll_interval or shutdown_timeout < 0:
            raise InvalidArgumentError(
                "poll_interval > 0, max_poll_interval >= poll_interval, timeout >= 0"
            )
        self._db = db
        self._handler = handler
        self.concurrency = concurrency
        self.name = name
        self.lease_seconds = lease_seconds
        self.heartbeat_interval = heartbeat_interval or lease_seconds / 3
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.shutdown_timeout = shutdown_timeout
        self.max_running_per_user = max_running_per_user
        self.handle_signals = handle_signals
        #: The registered worker's id (set by run()).
        self.worker_id: UUID | None = None
        #: Jobs this runner finished, failed, lost to another worker, and released.
        self.finished = self.failed = self.lost = self.released = 0
        self._stopping = compat.Event()
        self._urgent = False
        self._wake = compat.Event()
        self._active: dict[UUID, tuple[compat.Handle, ClaimedJob]] = {}

    def stop(self) -> None:
        """Stop claiming and shut down (a second call: release the running jobs at once)."""
        if self._stopping.is_set():
            self._urgent = True
        self._stopping.set()
        self._wake.set()

    def run(self) -> None:
        """Register, then claim and run jobs until stopped."""
        worker = self._db.workers.register(self.name)
        self.worker_id = worker.id
        logger.info("worker %s (%s) started", worker.name, worker.id)
        signals = compat.stop_signals(self.stop) if self.handle_signals else None
        with signals or contextlib.nullcontext():
            try:
                self._claim_loop()
            finally:
                self._shut_down()
        logger.info("worker %s stopped", worker.name)

    def _claim_loop(self) -> None:
        wait = self.poll_interval
        while not self._stopping.is_set():
            self._active = {k: v for k, v in self._active.items() if not v[0].done()}
            free = self.concurrency - len(self._active)
            if free <= 0:
                self._wake.clear()
                compat.wait_event(self._wake, self.max_poll_interval)
                continue
            jobs = self._claim(free)
            if not jobs:
                # An empty queue: wait longer each time, with jitter, so idle workers do
                # not poll in step.
                compat.wait_event(self._stopping, wait * random.uniform(0.5, 1.0))
                wait = min(wait * 2, self.max_poll_interval)
                continue
            wait = self.poll_interval
            for job in jobs:
                claimed = ClaimedJob(self._db, job, self._completed_steps(job))
                self._active[job.id] = (compat.spawn(self._run_job, claimed), claimed)

    def _claim(self, limit: int) -> list[Job]:
        assert self.worker_id is not None
        try:
            return self._db.jobs.claim(
                self.worker_id,
                limit=limit,
                lease_seconds=self.lease_seconds,
                max_running_per_user=self.max_running_per_user,
            )
        except UnknownWorkerError:
            self.worker_id = (self._db.workers.register(self.name)).id
        except TransientError as exc:
            logger.warning("claiming failed, will retry: %s", exc)
        return []

    def _completed_steps(self, job: Job) -> frozenset[str]:
        """The steps a job already completed (only a job that started before has any)."""
        if job.started_at is None:
            return frozenset()
        steps = self._db.job_steps.list(job.id)
        return frozenset(s.step_name for s in steps if s.state.value == "succeeded")

    def _run_job(self, claimed: ClaimedJob) -> None:
        done = compat.Event()
        beat = compat.spawn(self._heartbeat, claimed, done)
        try:
            output = self._handler(claimed)
            if not claimed.done:
                self._finish(claimed, output)
            self.finished += 1
        except compat.Cancelled:
            self._after_stop(claimed)
        except LeaseLostError:
            claimed.stop_reason = "lost"
            self._after_stop(claimed)
        except JobCancelledError:
            claimed.stop_reason = "cancelled"
            self._after_stop(claimed)
        except Exception as exc:
            self._record_failure(claimed, exc)
        finally:
            done.set()
            beat.cancel()
            self._wake.set()

    def _finish(self, claimed: ClaimedJob, output: JobOutput) -> None:
        if isinstance(output, str):
            claimed.finish(output)
        elif isinstance(output, JobResult):
            claimed.finish(
                output.output_url, final_credits=output.final_credits, manifest=output.manifest
            )
        else:
            raise TypeError(
                "the handler returned without finishing the job: return its output URL "
                "(a str) or a JobResult, or call job.finish()"
            )

    def _record_failure(self, claimed: ClaimedJob, exc: Exception) -> None:
        logger.warning("job %s failed: %s: %s", claimed.id, type(exc).__name__, exc)
        self.failed += 1
        try:
            claimed.fail(error_code_of(exc), error_message_of(exc))
        except LeaseLostError:
            pass  # the job is another worker's now
        except VidgenDBError as recording:
            # Not recorded: the lease will expire and recovery will deal with the job.
            logger.warning("recording the failure of job %s failed: %s", claimed.id, recording)

    def _after_stop(self, claimed: ClaimedJob) -> None:
        """What a stopped job needs: nothing if lost, the cancellation recorded, or (at
        shutdown, or when the runner itself is cancelled) released to the queue."""
        reason = claimed.stop_reason or "shutdown"
        try:
            if reason == "lost":
                self.lost += 1
                logger.warning("job %s: lease lost; another worker has it", claimed.id)
            elif reason == "cancelled":
                claimed.fail("CANCELLED", "cancelled by its owner")
                logger.info("job %s cancelled by its owner", claimed.id)
            elif not claimed.done:
                claimed.release()
                self.released += 1
                logger.info("job %s released", claimed.id)
        except LeaseLostError:
            pass
        except VidgenDBError as exc:
            logger.warning("job %s: %s after stopping failed: %s", claimed.id, reason, exc)

    def _heartbeat(self, claimed: ClaimedJob, done: compat.Event) -> None:
        while not compat.wait_event(done, self.heartbeat_interval):
            try:
                claimed.heartbeat()
            except LeaseLostError:
                claimed.stop_reason = "lost"
            except JobCancelledError:
                claimed.stop_reason = "cancelled"
            except VidgenDBError as exc:
                logger.warning("heartbeat of job %s failed, will retry: %s", claimed.id, exc)
                continue
            if claimed.stop_reason is not None:
                handle = self._active.get(claimed.id)
                if handle is not None:
                    handle[0].cancel()
                return

    def _shut_down(self) -> None:
        running = list(self._active.values())
        if not running:
            return
        logger.info("stopping: waiting for %s running job(s)", len(running))
        timeout = 0.0 if self._urgent else self.shutdown_timeout
        for handle, _ in running:
            handle.wait(timeout)
            timeout = 0.0 if self._urgent else timeout
        for handle, claimed in running:
            if not handle.done():
                claimed.stop_reason = claimed.stop_reason or "shutdown"
                handle.cancel()
        for handle, claimed in running:
            if handle.wait(5.0 if compat.CANCELS else 0.0) or claimed.done:
                continue
            # Work that cannot be interrupted (a thread): give its job back; fencing refuses
            # anything it still tries to write.
            try:
                claimed.release()
            except VidgenDBError as exc:
                logger.warning("job %s: releasing it failed: %s", claimed.id, exc)
            else:
                self.released += 1
                logger.info("job %s released", claimed.id)


def run(
    handler: Handler,
    db: ServiceDB | None = None,
    **options: Unpack[RunnerOptions],
) -> WorkerRunner:
    """Run a worker until it is stopped (SIGTERM, SIGINT); returns the finished runner.
    ``db`` defaults to the service client of the environment (``SUPABASE_URL``,
    ``SUPABASE_SERVICE_ROLE_KEY``), closed at the end; ``options`` are
    :class:`WorkerRunner`'s."""
    own = db is None
    client = db if db is not None else VidgenDB.from_env()
    try:
        runner = WorkerRunner(client, handler, **options)
        runner.run()
        return runner
    finally:
        if own:
            client.close()
