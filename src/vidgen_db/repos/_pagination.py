"""Keyset pagination: pages of rows ordered by (created_at, id), newest first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from .._errors import InvalidArgumentError

__all__ = ["MAX_PAGE_SIZE", "Cursor", "Page", "check_limit", "keyset_filter"]

T = TypeVar("T")

#: Most rows one page may hold.
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: pass it as ``before=`` to get the next page."""

    created_at: datetime
    id: UUID


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of rows, and the cursor of the next page (None on the last one)."""

    items: list[T]
    next_cursor: Cursor | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def check_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidArgumentError(
            f"limit must be an integer from 1 to {MAX_PAGE_SIZE}, got {limit!r}"
        )
    return limit


def keyset_filter(before: Cursor) -> str:
    """The PostgREST ``or`` filter for rows strictly after ``before`` in newest-first order."""
    if before.created_at.tzinfo is None:
        raise InvalidArgumentError("cursor created_at must be timezone-aware")
    ts = before.created_at.isoformat()
    return f'created_at.lt."{ts}",and(created_at.eq."{ts}",id.lt.{before.id})'
