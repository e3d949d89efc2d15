"""The dashboard: the signed-in user's projects, newest first, each with its latest job
(the get_dashboard SQL function; it runs as the caller, so it needs a user client)."""

from __future__ import annotations

from .._errors import InvalidArgumentError
from ..models import GetDashboardRow
from ._base_async import AsyncRepository, page_of
from ._pagination import Cursor, Page, as_cursor

__all__ = ["AsyncDashboard"]

#: The largest page get_dashboard serves.
MAX_DASHBOARD_PAGE = 100


class AsyncDashboard(AsyncRepository):
    """``db.dashboard`` of a user client."""

    async def page(
        self, *, limit: int = 20, before: Cursor | str | None = None
    ) -> Page[GetDashboardRow]:
        """One page of the user's projects with their latest job (keyset pagination;
        ``before``: the previous page's ``next_cursor``, or its string)."""
        if (
            not isinstance(limit, int)
            or isinstance(limit, bool)
            or not 1 <= limit <= MAX_DASHBOARD_PAGE
        ):
            raise InvalidArgumentError(
                f"limit must be an integer from 1 to {MAX_DASHBOARD_PAGE}, got {limit!r}"
            )
        cursor = as_cursor(before)
        # One row more than asked tells whether there is a next page; at the maximum page
        # size a full page is taken to have one (the next may then be empty).
        fetch = min(limit + 1, MAX_DASHBOARD_PAGE)
        rows: list[GetDashboardRow] = await self._rpc(
            "get_dashboard",
            p_limit=fetch,
            p_before_created_at=None if cursor is None else cursor.created_at,
            p_before_id=None if cursor is None else cursor.id,
        )
        more = len(rows) > limit or (fetch == limit and len(rows) == limit)
        return page_of(rows[:limit], more)
