# Generated from src/vidgen_db/repos/_jobs_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Jobs: one generation run of a project. Users read their own; the worker (service role)
creates them and moves them through the pipeline with the job SQL functions, which keep
the job, its steps and its credits in one transaction (docs/credits-and-jobs.md)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from uuid import UUID

from postgrest import SyncPostgrestClient
from pydantic import JsonValue

from ..models import Job, JobInsert, JobStatus
from ._base import Repository, percent, positive
from ._job_steps import ServiceJobSteps
from ._jobs_step import RunningStep
from ._jobs_watch import watch_job
from ._logs import ServiceJobLogs
from ._pagination import Cursor, Page

__all__ = ["Jobs", "ServiceJobs"]


class Jobs(Repository):
    """``db.jobs`` of a user client (the user's jobs; read only)."""

    def __init__(
        self, rest: SyncPostgrestClient, user_id: UUID | None, *, realtime: Any | None = None
    ) -> None:
        super().__init__(rest, user_id)
        self._realtime = realtime

    def watch(
        self,
        job_id: UUID,
        *,
        poll_interval: float = 1.0,
        max_interval: float = 10.0,
        timeout: float | None = None,
    ) -> Generator[Job, None]:
        """Yield the job now and at each change of its status or progress, until it is
        READY or FAILED; through Supabase Realtime when the client has it (async clients
        made with ``from_supabase``), else by polling with backoff."""
        return watch_job(
            self.get,
            job_id,
            poll_interval=poll_interval,
            max_interval=max_interval,
            timeout=timeout,
            realtime=self._realtime,
        )

    def get(self, job_id: UUID) -> Job:
        """The job; NotFoundError if there is none (or it is not the user's)."""
        return self._get("jobs", Job, "id", job_id)

    def list(
        self,
        *,
        project_id: UUID | None = None,
        status: JobStatus | None = None,
        limit: int = 20,
        before: Cursor | None = None,
    ) -> Page[Job]:
        """Jobs newest first, a page at a time, optionally of one project or in one
        status. A user client lists the user's own; the service client everyone's."""
        query = self._rest.table("jobs").select("*")
        if self._user_id is not None:
            query = query.eq("user_id", str(self._user_id))
        if project_id is not None:
            query = query.eq("project_id", str(project_id))
        if status is not None:
            query = query.eq("status", JobStatus(status).value)
        return self._page(Job, query, limit, before)


class ServiceJobs(Jobs):
    """``db.jobs`` of the service client: creating jobs and the pipeline's transitions.
    Every transition is idempotent in SQL, so vidgen_db retries them when that is safe."""

    def __init__(
        self,
        rest: SyncPostgrestClient,
        user_id: UUID | None,
        *,
        job_steps: ServiceJobSteps,
        logs: ServiceJobLogs,
        realtime: Any | None = None,
    ) -> None:
        super().__init__(rest, user_id, realtime=realtime)
        self._steps = job_steps
        self._logs = logs

    def step(self, job_id: UUID, step_name: str, *, min_interval: float = 1.0) -> RunningStep:
        """One step of the job as a context manager: entering starts it (and moves the job
        to that stage), ``progress()`` is coalesced to one write per ``min_interval``,
        leaving completes it, an exception fails the step and the job (refunding its
        credits) and is re-raised."""
        return RunningStep(self._steps, self._logs, job_id, step_name, min_interval=min_interval)

    def create(self, job: JobInsert) -> Job:
        """Insert a job (PENDING) and return it. Safe to retry: the id is chosen here
        (unless given) and a repeated insert of the same id adds nothing."""
        return self._create("jobs", Job, job)

    def queue(self, job_id: UUID, credits: int) -> Job:
        """PENDING -> QUEUED, reserving ``credits``; InsufficientCreditsError (VG101) and
        no change when the balance is short."""
        return self._rpc_row(
            "queue_job", Job, p_job_id=job_id, p_credits=positive("credits", credits)
        )

    def advance(
        self,
        job_id: UUID,
        status: JobStatus,
        *,
        progress: int | None = None,
        message: str | None = None,
    ) -> Job:
        """Move to a later work stage, or update progress/message at the current one;
        IllegalJobTransitionError (VG201) for a move the pipeline forbids."""
        return self._rpc_row(
            "advance_job",
            Job,
            p_job_id=job_id,
            p_status=JobStatus(status),
            p_progress=percent("progress", progress),
            p_message=message,
        )

    def finish(
        self,
        job_id: UUID,
        output_url: str,
        *,
        final_credits: int | None = None,
        manifest: JsonValue | None = None,
    ) -> Job:
        """READY: settles the credits (by default the amount reserved) and records the
        output. Repeating it returns the job unchanged."""
        if final_credits is not None and (
            not isinstance(final_credits, int)
            or isinstance(final_credits, bool)
            or final_credits < 0
        ):
            raise ValueError(f"final_credits must be an integer >= 0, got {final_credits!r}")
        return self._rpc_row(
            "finish_job",
            Job,
            p_job_id=job_id,
            p_output_url=output_url,
            p_final_credits=final_credits,
            p_manifest=manifest,
        )

    def fail(
        self,
        job_id: UUID,
        error_code: str,
        error_message: str,
        *,
        failed_step: str | None = None,
    ) -> Job:
        """FAILED: records the error and the failed step (by default the current stage)
        and refunds the credits. Repeating it returns the job unchanged."""
        return self._rpc_row(
            "fail_job",
            Job,
            p_job_id=job_id,
            p_error_code=error_code,
            p_error_message=error_message,
            p_failed_step=failed_step,
        )
