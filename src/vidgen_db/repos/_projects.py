# Generated from src/vidgen_db/repos/_projects_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Projects: a video's prompt and settings. Users manage their own; the service role any."""

from __future__ import annotations

from uuid import UUID

from ..models import Project, ProjectInsert, ProjectUpdate
from ._base import Repository
from ._idempotency import IDEMPOTENT_PROJECTS, require_same_request, with_key
from ._pagination import Cursor, Page

__all__ = ["Projects"]


class Projects(Repository):
    """``db.projects``."""

    def create(self, project: ProjectInsert, *, idempotency_key: str | None = None) -> Project:
        """Insert a project and return it. Safe to retry: the id is chosen here (unless
        given) and a repeated insert of the same id adds nothing. ``idempotency_key``
        (e.g. an API's ``Idempotency-Key`` header) names the request: repeating it returns
        the first project; reusing it with other values is IdempotencyKeyReusedError."""
        if idempotency_key is None:
            return self._create("projects", Project, project)
        keyed = with_key(IDEMPOTENT_PROJECTS, project, project.user_id, idempotency_key)
        created = self._create("projects", Project, keyed)
        require_same_request(project, created, idempotency_key)
        return created

    def get(self, project_id: UUID) -> Project:
        """The project; NotFoundError if there is none (or it is not the user's)."""
        return self._get("projects", Project, "id", project_id)

    def list(
        self,
        *,
        user_id: UUID | None = None,
        limit: int = 20,
        before: Cursor | str | None = None,
    ) -> Page[Project]:
        """Projects newest first, a page at a time. A user client lists the user's own;
        the service client everyone's, or ``user_id``'s. ``before``: the previous page's
        ``next_cursor``, or its string."""
        query = self._rest.table("projects").select("*")
        owner = user_id or self._user_id
        if owner is not None:
            query = query.eq("user_id", str(owner))
        return self._page(Project, query, limit, before)

    def update(self, project_id: UUID, changes: ProjectUpdate) -> Project:
        """Apply the fields set in ``changes``; returns the updated project."""
        return self._update("projects", Project, "id", project_id, changes)

    def delete(self, project_id: UUID) -> None:
        """Delete the project (and its jobs); NotFoundError if there was none."""
        self._delete("projects", project_id)
