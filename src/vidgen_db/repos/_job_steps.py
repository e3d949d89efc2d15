# Generated from src/vidgen_db/repos/_job_steps_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Job steps: one row per pipeline stage of a job (SCRIPTING .. PACKAGING). Users read
their jobs' steps; the worker starts, updates, completes and fails them through SQL
functions that move the job along in the same transaction."""

from __future__ import annotations

import builtins
from uuid import UUID

from pydantic import JsonValue

from .._errors import InvalidArgumentError
from ..models import Job, JobStep
from ._base import Repository, percent

__all__ = ["JobSteps", "ServiceJobSteps"]


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

    def start(
        self,
        job_id: UUID,
        step_name: str,
        *,
        message: str | None = None,
        lease: int | None = None,
    ) -> JobStep:
        """Start (or restart) the step and move the job to that stage."""
        return self._rpc_row(
            "start_job_step",
            JobStep,
            p_job_id=job_id,
            p_step_name=step_name,
            p_message=message,
            p_lease=lease,
        )

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
