"""Jobs: start one (it reserves credits), follow it, cancel it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from vidgen_db.models import Job, JobInsert, JobStatus
from vidgen_fastapi_example.deps import (
    AppSettings,
    IdempotencyKey,
    PageCursor,
    PageSize,
    ServiceDB,
    UserDB,
)
from vidgen_fastapi_example.schemas import PageOut

router = APIRouter(tags=["jobs"])


@router.post("/projects/{project_id}/jobs", status_code=201)
async def start_job(
    project_id: UUID,
    db: UserDB,
    service: ServiceDB,
    settings: AppSettings,
    idempotency_key: IdempotencyKey = None,
) -> Job:
    """Make the project's video: a job, queued with its credits reserved. Reserving
    credits is the service role's; the user's client first checks the project is theirs
    (404 if not). Short credits are a 402 and leave no job behind; the same
    ``Idempotency-Key`` again returns the first job and reserves nothing more."""
    project = await db.projects.get(project_id)
    return await service.jobs.create_and_queue(
        JobInsert(project_id=project.id, user_id=db.user_id),
        credits=settings.credits_per_minute * project.target_minutes,
        idempotency_key=idempotency_key,
    )


@router.get("/jobs")
async def list_jobs(
    db: UserDB,
    project_id: UUID | None = None,
    status: JobStatus | None = None,
    cursor: PageCursor = None,
    limit: PageSize = 20,
) -> PageOut[Job]:
    """The user's jobs, newest first, of one project or in one status if asked."""
    page = await db.jobs.list(project_id=project_id, status=status, limit=limit, before=cursor)
    return PageOut.of(page)


@router.get("/jobs/{job_id}")
async def get_job(job_id: UUID, db: UserDB) -> Job:
    """One of the user's jobs: another user's is a 404, as if it did not exist."""
    return await db.jobs.get(job_id)


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(job_id: UUID, db: UserDB) -> Job:
    """Cancel the job: FAILED (CANCELLED) and refunded at once if no worker holds it yet,
    else marked, and the worker stops at its next call. A READY job is a 409."""
    return await db.jobs.cancel(job_id)
