# Generated from src/vidgen_db/repos/_job_steps_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Job steps: one row per pipeline stage of a job (SCRIPTING .. PACKAGING). Users read
their jobs' steps; the worker starts, updates, completes and fails them through SQL
functions that move the job along in the same transaction.

A step that ended may have its completion *deferred* (``defer_completion``, what
``db.jobs.step`` does): it is then written by the job's next call, in the same request
(the next step's ``start``, which completes it and starts the next one; ``db.jobs.finish``),
or by ``flush``. A job's eight stages so cost eight requests, not sixteen."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from uuid import UUID

from postgrest import SyncPostgrestClient
from pydantic import JsonValue

from .._errors import InvalidArgumentError, JobCancelledError, LeaseLostError
from ..models import Job, JobStep
from ._base import Repository, percent

__all__ = ["JobSteps", "ServiceJobSteps"]

#: Errors after which a deferred completion is dropped: the job is no longer this worker's.
_GONE = (LeaseLostError, JobCancelledError)


@dataclass(frozen=True)
class PendingCompletion:
    """A step that succeeded, to be recorded with the job's next call."""

    step_name: str
    artifacts: JsonValue | None = None
    message: str | None = None
    lease: int | None = None


class JobSteps(Repository):
    """``db.job_steps`` of a user client (read only)."""

    def list(self, job_id: UUID) -> builtins.list[JobStep]:
        """The job's steps in pipeline order."""
        query = (
            self._rest.table("job_steps")
            .select("*")
            .eq("job_id", str(job_id))
            .order("step_order")
            .order("id")
        )
        return self._all(JobStep, query)


class ServiceJobSteps(JobSteps):
    """``db.job_steps`` of the service client: the worker's step transitions.

    ``lease`` is the token of the claim that holds the job (``Job.lease_token`` of a
    claimed job): with it, each call renews the lease and raises LeaseLostError if the
    worker lost the job, JobCancelledError if its owner cancelled it. Jobs nobody claimed
    are moved without one.
    """

    def __init__(self, rest: SyncPostgrestClient, user_id: UUID | None) -> None:
        super().__init__(rest, user_id)
        self._pending: dict[UUID, PendingCompletion] = {}

    def start(
        self,
        job_id: UUID,
        step_name: str,
        *,
        message: str | None = None,
        lease: int | None = None,
    ) -> JobStep:
        """Start (or restart) the step and move the job to that stage; a deferred
        completion of the job's previous step is written in the same request
        (``next_job_step``)."""
        pending = self._pending.pop(job_id, None)
        if pending is None:
            return self._rpc_row(
                "start_job_step",
                JobStep,
                p_job_id=job_id,
                p_step_name=step_name,
                p_message=message,
                p_lease=lease,
            )
        try:
            return self._rpc_row(
                "next_job_step",
                JobStep,
                p_job_id=job_id,
                p_step_name=step_name,
                p_previous_step=pending.step_name,
                p_previous_artifacts=pending.artifacts,
                p_previous_message=pending.message,
                p_message=message,
                p_lease=lease if lease is not None else pending.lease,
            )
        except _GONE:
            raise
        except BaseException:
            self._pending.setdefault(job_id, pending)  # not known to be written: keep it
            raise

    def defer_completion(
        self,
        job_id: UUID,
        step_name: str,
        *,
        artifacts: JsonValue | None = None,
        message: str | None = None,
        lease: int | None = None,
    ) -> None:
        """Record that the step succeeded, to be written by the job's next call (the next
        step's ``start``, ``db.jobs.finish``) or by :meth:`flush`. Sends nothing."""
        self._pending[job_id] = PendingCompletion(step_name, artifacts, message, lease)

    def _take_pending(self, job_id: UUID) -> PendingCompletion | None:
        """The job's deferred completion, removed (the caller writes it)."""
        return self._pending.pop(job_id, None)

    def _restore_pending(self, job_id: UUID, pending: PendingCompletion) -> None:
        """Put back a deferred completion whose writing failed for a reason worth retrying."""
        self._pending.setdefault(job_id, pending)

    def flush(self, job_id: UUID) -> JobStep | None:
        """Write the job's deferred completion now, if there is one; returns the step."""
        pending = self._pending.pop(job_id, None)
        if pending is None:
            return None
        try:
            return self.complete(
                job_id,
                pending.step_name,
                artifacts=pending.artifacts,
                message=pending.message,
                lease=pending.lease,
            )
        except _GONE:
            raise
        except BaseException:
            self._pending.setdefault(job_id, pending)
            raise

    def flush_all(self) -> None:
        """Write every deferred completion (the service client does it when it closes)."""
        for job_id in list(self._pending):
            self.flush(job_id)

    def update(
        self,
        job_id: UUID,
        step_name: str,
        progress: int,
        *,
        message: str | None = None,
        lease: int | None = None,
    ) -> JobStep:
        """Progress (0..100) of a started step; the job's overall progress follows."""
        if progress is None:
            raise InvalidArgumentError("progress must be an integer from 0 to 100, got None")
        return self._rpc_row(
            "update_job_step",
            JobStep,
            p_job_id=job_id,
            p_step_name=step_name,
            p_progress=percent("progress", progress),
            p_message=message,
            p_lease=lease,
        )

    def complete(
        self,
        job_id: UUID,
        step_name: str,
        *,
        artifacts: JsonValue | None = None,
        message: str | None = None,
        lease: int | None = None,
    ) -> JobStep:
        """The step succeeded; ``artifacts`` (JSON) are recorded on it."""
        return self._rpc_row(
            "complete_job_step",
            JobStep,
            p_job_id=job_id,
            p_step_name=step_name,
            p_artifacts=artifacts,
            p_message=message,
            p_lease=lease,
        )

    def fail(
        self,
        job_id: UUID,
        step_name: str,
        error_code: str,
        error_message: str,
        *,
        lease: int | None = None,
    ) -> Job:
        """The step failed, and so its job: both become FAILED with the error, and the job's
        credits are refunded (``fail_job``); a job its owner cancelled is recorded as
        CANCELLED. Repeating it returns the job unchanged."""
        return self._rpc_row(
            "fail_job",
            Job,
            p_job_id=job_id,
            p_error_code=error_code,
            p_error_message=error_message,
            p_failed_step=step_name,
            p_lease=lease,
        )
