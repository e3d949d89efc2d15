"""Projects and the dashboard: the signed-in user's own, by row level security."""

from __future__ import annotations

from fastapi import APIRouter

from vidgen_db.models import GetDashboardRow, Project, ProjectInsert
from vidgen_fastapi_example.deps import IdempotencyKey, PageCursor, PageSize, UserDB
from vidgen_fastapi_example.schemas import NewProject, PageOut

router = APIRouter(tags=["projects"])


@router.post("/projects", status_code=201)
async def create_project(
    body: NewProject, db: UserDB, idempotency_key: IdempotencyKey = None
) -> Project:
    """A new project. The same ``Idempotency-Key`` again returns the first project
    (a double-submitted form makes one); with other values it is a 409."""
    project = ProjectInsert(
        user_id=db.user_id,
        title=body.title,
        prompt_text=body.prompt_text,
        niche_preset=body.niche_preset,
        target_minutes=body.target_minutes,
    )
    return await db.projects.create(project, idempotency_key=idempotency_key)


@router.get("/projects")
async def list_projects(
    db: UserDB, cursor: PageCursor = None, limit: PageSize = 20
) -> PageOut[Project]:
    """The user's projects, newest first. ``cursor``: the previous page's ``next_cursor``;
    a cursor that was changed or cut short is a 422 from the SDK (InvalidArgumentError)."""
    return PageOut.of(await db.projects.list(limit=limit, before=cursor))


@router.get("/dashboard")
async def dashboard(
    db: UserDB, cursor: PageCursor = None, limit: PageSize = 20
) -> PageOut[GetDashboardRow]:
    """The user's projects with their latest job, newest first, a page at a time."""
    return PageOut.of(await db.dashboard.page(limit=limit, before=cursor))
