# Generated from src/vidgen_db/repos/_jobs_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Jobs: one generation run of a project. Users read and cancel their own; the worker
(service role) creates them, claims them under a lease and moves them through the pipeline
with the job SQL functions, which keep the job, its steps and its credits in one
transaction (docs/credits-and-jobs.md)."""

from __future__ import annotations

import builtins
import contextlib
import uuid
from collections.abc import Generator
from typing import Any
from uuid import UUID

from postgrest import SyncPostgrestClient
from pydantic import JsonValue

from .._errors import InvalidArgumentError, JobCancelledError, LeaseLostError, VidgenDBError
from ..models import Job, JobInsert, JobQueueStatsRow, JobStatus, RecoverJobsRow
from ._base import Repository, percent, positive
from ._idempotency import IDEMPOTENT_JOBS, id_for, require_same_request, with_key
from ._job_steps import ServiceJobSteps
from ._jobs_step import RunningStep
from ._jobs_watch import watch_job
from ._logs import ServiceJobLogs
from ._pagination import Cursor, Page

__all__ = ["Jobs", "ServiceJobs"]


class Jobs(Repository):
    """``db.jobs`` of a user client (the user's jobs: read them, cancel them)."""

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

    def cancel(self, job_id: UUID) -> Job:
        """Cancel the job. Not yet claimed by a worker: FAILED (``error_code``
        CANCELLED) and its credits refunded at once. Held by a worker: marked
        (``cancel_requested_at``); the worker stops at its next call and the job then ends
        FAILED/CANCELLED, refunded once. A failed job is returned unchanged;
        IllegalJobTransitionError for a READY one, NotFoundError for another user's."""
        return self._rpc_row("cancel_job", Job, p_job_id=job_id)

    def list(
        self,
        *,
        project_id: UUID | None = None,
        status: JobStatus | None = None,
        limit: int = 20,
        before: Cursor | str | None = None,
    ) -> Page[Job]:
        """Jobs newest first, a page at a time, optionally of one project or in one
        status. A user client lists the user's own; the service client everyone's.
        ``before``: the previous page's ``next_cursor``, or its string."""
        query = self._rest.table("jobs").select("*")
        if self._user_id is not None:
            query = query.eq("user_id", str(self._user_id))
        if project_id is not None:
            query = query.eq("project_id", str(project_id))
        if status is not None:
            query = query.eq("status", JobStatus(status).value)
        return self._page(Job, query, limit, before)


class ServiceJobs(Jobs):
    """``db.jobs`` of the service client: creating jobs, the worker fleet's claims and
    leases, and the pipeline's transitions. Every transition is idempotent in SQL, so
    vidgen_db retries them when that is safe. ``lease`` is the token of the claim holding
    the job (``Job.lease_token`` of a claimed job; see ``db.job_steps``)."""

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

    def step(
        self,
        job_id: UUID,
        step_name: str,
        *,
        min_interval: float = 1.0,
        lease: int | None = None,
    ) -> RunningStep:
        """One step of the job as a context manager: entering starts it (and moves the job
        to that stage), ``progress()`` is coalesced to one write per ``min_interval``,
        leaving completes it, an exception fails the step and the job (refunding its
        credits) and is re-raised; every write carries ``lease``."""
        return RunningStep(
            self._steps, self._logs, job_id, step_name, min_interval=min_interval, lease=lease
        )

    def claim(
        self,
        worker_id: UUID,
        *,
        limit: int = 1,
        lease_seconds: int = 120,
        max_running_per_user: int | None = None,
    ) -> builtins.list[Job]:
        """Claim up to ``limit`` queued jobs for the registered worker ``worker_id``
        (``db.workers.register``), oldest queued first, each held under a lease of
        ``lease_seconds`` with its fencing token in ``lease_token``; none when the queue
        is empty. Concurrent claimers never get the same job nor wait on each other; a
        user's share of held jobs is capped (``max_running_per_user``, else the database's
        setting, default 2). Safe to retry: a repeated request returns the same jobs.
        UnknownWorkerError for a worker that never registered."""
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
            raise InvalidArgumentError(f"limit must be an integer from 1 to 100, got {limit!r}")
        positive("lease_seconds", lease_seconds)
        if max_running_per_user is not None:
            positive("max_running_per_user", max_running_per_user)
        jobs: builtins.list[Job] = self._rpc(
            "claim_jobs",
            p_worker_id=worker_id,
            p_limit=limit,
            p_lease_seconds=lease_seconds,
            p_claim_id=uuid.uuid4(),
            p_max_running_per_user=max_running_per_user,
        )
        return jobs

    def heartbeat(self, job_id: UUID, lease: int) -> Job:
        """Renew the lease on a held job (a long step in progress) and return the job.
        LeaseLostError if the worker lost it, JobCancelledError if its owner cancelled it."""
        return self._rpc_row("heartbeat_job", Job, p_job_id=job_id, p_lease=lease)

    def release(self, job_id: UUID, lease: int) -> Job:
        """Give a held job back (the worker is shutting down): QUEUED again with its
        reservation and finished steps, no attempt charged. LeaseLostError if it is no
        longer held under ``lease``. A step whose completion was deferred is recorded as
        succeeded first, so the next worker does not run it again."""
        with contextlib.suppress(VidgenDBError):
            self._steps.flush(job_id)
        return self._rpc_row("release_job", Job, p_job_id=job_id, p_lease=lease)

    def recover(self, *, limit: int = 100) -> builtins.list[RecoverJobsRow]:
        """Deal with held jobs whose lease expired, each once: requeued (attempts left),
        failed (LEASE_EXPIRED) or cancelled, and refunded when failed. ``claim`` does this
        too, so calling it is optional (a cron job, ``vidgen-db jobs recover``)."""
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 10000:
            raise InvalidArgumentError(f"limit must be an integer from 1 to 10000, got {limit!r}")
        rows: builtins.list[RecoverJobsRow] = self._rpc("recover_jobs", p_limit=limit)
        return rows

    def stats(self) -> JobQueueStatsRow:
        """The queue at a glance: queued, running (held), cancelling, expired leases, the
        oldest queued job's age, workers seen in the last five minutes."""
        rows: builtins.list[JobQueueStatsRow] = self._rpc("job_queue_stats")
        return rows[0]

    def create(self, job: JobInsert, *, idempotency_key: str | None = None) -> Job:
        """Insert a job (PENDING) and return it. Safe to retry: the id is chosen here
        (unless given) and a repeated insert of the same id adds nothing.
        ``idempotency_key`` names the request: repeating it returns the first job; reusing
        it with other values is IdempotencyKeyReusedError."""
        if idempotency_key is None:
            return self._create("jobs", Job, job)
        keyed = with_key(IDEMPOTENT_JOBS, job, job.user_id, idempotency_key)
        created = self._create("jobs", Job, keyed)
        require_same_request(job, created, idempotency_key)
        return created

    def create_and_queue(
        self, job: JobInsert, credits: int, *, idempotency_key: str | None = None
    ) -> Job:
        """Insert the job and queue it, reserving ``credits``, in one request and one
        transaction: InsufficientCreditsError leaves no job behind. ``idempotency_key``
        (e.g. an API's ``Idempotency-Key`` header) names the request: repeating it returns
        the first job (and reserves nothing more); reusing it with other arguments is
        IdempotencyKeyReusedError (VG107). Without a key the job's id (chosen here unless
        given) makes the SDK's own retry safe."""
        positive("credits", credits)
        job_id = id_for(IDEMPOTENT_JOBS, job, job.user_id, idempotency_key)
        return self._rpc_row(
            "create_and_queue_job",
            Job,
            p_job_id=job_id,
            p_project_id=job.project_id,
            p_user_id=job.user_id,
            p_credits=credits,
            p_status_message=job.status_message
            if "status_message" in job.model_fields_set
            else None,
            p_manifest=job.manifest_json if "manifest_json" in job.model_fields_set else None,
        )

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
        lease: int | None = None,
    ) -> Job:
        """READY: settles the credits (by default the amount reserved), records the output
        and ends the lease; a deferred completion of the last step is written in the same
        request. Repeating it returns the job unchanged."""
        if final_credits is not None and (
            not isinstance(final_credits, int)
            or isinstance(final_credits, bool)
            or final_credits < 0
        ):
            raise InvalidArgumentError(
                f"final_credits must be an integer >= 0, got {final_credits!r}"
            )
        # A deferred completion of the last step is written by the same request.
        pending = self._steps._take_pending(job_id)
        try:
            return self._rpc_row(
                "finish_job",
                Job,
                p_job_id=job_id,
                p_output_url=output_url,
                p_final_credits=final_credits,
                p_manifest=manifest,
                p_lease=lease if lease is not None or pending is None else pending.lease,
                p_step_name=pending.step_name if pending else None,
                p_step_artifacts=pending.artifacts if pending else None,
                p_step_message=pending.message if pending else None,
            )
        except (LeaseLostError, JobCancelledError):
            raise  # the job is no longer this worker's: the completion goes with it
        except BaseException:
            if pending is not None:
                self._steps._restore_pending(job_id, pending)
            raise

    def fail(
        self,
        job_id: UUID,
        error_code: str,
        error_message: str,
        *,
        failed_step: str | None = None,
        lease: int | None = None,
    ) -> Job:
        """FAILED: records the error and the failed step (by default the current stage),
        refunds the credits and ends the lease; a job its owner cancelled is recorded as
        CANCELLED. Repeating it returns the job unchanged. Without ``lease`` this is the
        operator's override, which fails even a job a worker holds. A step whose
        completion was deferred is recorded as succeeded first, if it can be."""
        with contextlib.suppress(VidgenDBError):
            self._steps.flush(job_id)
        return self._rpc_row(
            "fail_job",
            Job,
            p_job_id=job_id,
            p_error_code=error_code,
            p_error_message=error_message,
            p_failed_step=failed_step,
            p_lease=lease,
        )
