# Generated from src/vidgen_db/repos/_projects_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Projects: a video's prompt and settings. Users manage their own; the service role any."""

from __future__ import annotations

import uuid
from uuid import UUID

from postgrest.types import ReturnMethod

from .._errors import NotFoundError
from ..models import Project, ProjectInsert, ProjectUpdate
from ._base import Repository, row_as
from ._pagination import Cursor, Page

__all__ = ["Projects"]


class Projects(Repository):
    """``db.projects``."""

    def create(self, project: ProjectInsert) -> Project:
        """Insert a project and return it. Safe to retry: the id is chosen here (unless
        given) and a repeated insert of the same id adds nothing."""
        if "id" not in project.model_fields_set:
            project = project.model_copy(update={"id": uuid.uuid4()})
            project.model_fields_set.add("id")
        response = (
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
        return self.get(project.id)

    def get(self, project_id: UUID) -> Project:
        """The project; NotFoundError if there is none (or it is not the user's)."""
        response = (
            self._rest.table("projects").select("*").eq("id", str(project_id)).single().execute()
        )
        return row_as(Project, response.data)

    def list(
        self, *, user_id: UUID | None = None, limit: int = 20, before: Cursor | None = None
    ) -> Page[Project]:
        """Projects newest first, a page at a time. A user client lists the user's own;
        the service client everyone's, or ``user_id``'s."""
        query = self._rest.table("projects").select("*")
        owner = user_id or self._user_id
        if owner is not None:
            query = query.eq("user_id", str(owner))
        return self._page(Project, query, limit, before)

    def update(self, project_id: UUID, changes: ProjectUpdate) -> Project:
        """Apply the fields set in ``changes``; returns the updated project."""
        body = changes.to_postgrest()
        if not body:
            raise ValueError("no changes: set at least one field of the ProjectUpdate")
        response = (
            self._rest.table("projects")
            .update(body, returning=ReturnMethod.representation)
            .eq("id", str(project_id))
            .execute()
        )
        if not response.data:
            raise NotFoundError(f"project {project_id} not found")
        return row_as(Project, response.data)

    def delete(self, project_id: UUID) -> None:
        """Delete the project (and its jobs); NotFoundError if there was none."""
        response = (
            self._rest.table("projects")
            .delete(returning=ReturnMethod.representation)
            .eq("id", str(project_id))
            .execute()
        )
        if not response.data:
            raise NotFoundError(f"project {project_id} not found")
