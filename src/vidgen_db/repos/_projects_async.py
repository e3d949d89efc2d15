"""Projects: a video's prompt and settings. Users manage their own; the service role any."""

from __future__ import annotations

import uuid
from uuid import UUID

from postgrest.types import ReturnMethod

from .._errors import NotFoundError
from ..models import Project, ProjectInsert, ProjectUpdate
from ._base_async import AsyncRepository, row_as
from ._pagination import Cursor, Page

__all__ = ["AsyncProjects"]


class AsyncProjects(AsyncRepository):
    """``db.projects``."""

    async def create(self, project: ProjectInsert) -> Project:
        """Insert a project and return it. Safe to retry: the id is chosen here (unless
        given) and a repeated insert of the same id adds nothing."""
        if "id" not in project.model_fields_set:
            project = project.model_copy(update={"id": uuid.uuid4()})
            project.model_fields_set.add("id")
        response = await (
            self._rest.table("projects")
            .upsert(
                project.to_postgrest(),
                on_conflict="id",
                ignore_duplicates=True,
                returning=ReturnMethod.representation,
            )
            .execute()
        )
        if response.data:
            return row_as(Project, response.data)
        # A retry whose first attempt had already inserted the row.
        return await self.get(project.id)

    async def get(self, project_id: UUID) -> Project:
        """The project; NotFoundError if there is none (or it is not the user's)."""
        response = await (
            self._rest.table("projects").select("*").eq("id", str(project_id)).single().execute()
        )
        return row_as(Project, response.data)

    async def list(
        self, *, user_id: UUID | None = None, limit: int = 20, before: Cursor | None = None
    ) -> Page[Project]:
        """Projects newest first, a page at a time. A user client lists the user's own;
        the service client everyone's, or ``user_id``'s."""
        query = self._rest.table("projects").select("*")
        owner = user_id or self._user_id
        if owner is not None:
            query = query.eq("user_id", str(owner))
        return await self._page(Project, query, limit, before)

    async def update(self, project_id: UUID, changes: ProjectUpdate) -> Project:
        """Apply the fields set in ``changes``; returns the updated project."""
        body = changes.to_postgrest()
        if not body:
            raise ValueError("no changes: set at least one field of the ProjectUpdate")
        response = await (
            self._rest.table("projects")
            .update(body, returning=ReturnMethod.representation)
            .eq("id", str(project_id))
            .execute()
        )
        if not response.data:
            raise NotFoundError(f"project {project_id} not found")
        return row_as(Project, response.data)

    async def delete(self, project_id: UUID) -> None:
        """Delete the project (and its jobs); NotFoundError if there was none."""
        response = await (
            self._rest.table("projects")
            .delete(returning=ReturnMethod.representation)
            .eq("id", str(project_id))
            .execute()
        )
        if not response.data:
            raise NotFoundError(f"project {project_id} not found")
