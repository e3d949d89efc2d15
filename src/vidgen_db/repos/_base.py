# Generated from src/vidgen_db/repos/_base_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""What every async repository shares: the PostgREST client, row validation, paging."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from postgrest import SyncPostgrestClient, SyncSelectRequestBuilder
from pydantic import BaseModel, TypeAdapter

from ._pagination import Cursor, Page, check_limit, keyset_filter

__all__ = ["Repository"]

M = TypeVar("M", bound=BaseModel)

_adapters: dict[type[Any], TypeAdapter[Any]] = {}


def rows_as(model: type[M], data: Any) -> list[M]:
    """Validate PostgREST's JSON rows into ``model`` instances."""
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter.validate_python(data or [])  # type: ignore[no-any-return]


def row_as(model: type[M], data: Any) -> M:
    """Validate one row (PostgREST's singular object, or a one-row array)."""
    if isinstance(data, list):
        if len(data) != 1:
            raise ValueError(f"expected one row, got {len(data)}")
        data = data[0]
    return model.model_validate(data)


class Repository:
    """Base of the async repositories: ``rest`` is the client's PostgREST client;
    ``user_id`` the signed-in user's id (None for the service role)."""

    def __init__(self, rest: SyncPostgrestClient, user_id: UUID | None) -> None:
        self._rest = rest
        self._user_id = user_id

    def _page(
        self,
        model: type[M],
        query: SyncSelectRequestBuilder,
        limit: int,
        before: Cursor | None,
    ) -> Page[M]:
        """One newest-first page of ``query`` (a select on a table with created_at and id)."""
        check_limit(limit)
        if before is not None:
            query = query.or_(keyset_filter(before))
        response = (
            query.order("created_at", desc=True).order("id", desc=True).limit(limit + 1).execute()
        )
        rows = rows_as(model, response.data)
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = Cursor(created_at=last.created_at, id=last.id)  # type: ignore[attr-defined]
        return Page(items=rows, next_cursor=next_cursor)
