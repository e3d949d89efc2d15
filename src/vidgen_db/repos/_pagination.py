"""Keyset pagination: pages of rows ordered by (created_at, id), newest first, and the
opaque cursors that say where a page ended."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar
from uuid import UUID

from .._errors import InvalidArgumentError

__all__ = ["MAX_PAGE_SIZE", "Cursor", "Page", "as_cursor", "check_limit", "keyset_filter"]

T = TypeVar("T")

#: Most rows one page may hold.
MAX_PAGE_SIZE = 1000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: Version 1: a version byte, microseconds since the epoch (UTC), the id's 16 bytes.
_VERSION = 1
_LAYOUT = struct.Struct(">Bq16s")
#: A checksum (not a secret): a garbled or truncated cursor is refused, not misread.
_CHECK_SIZE = 4
_TOKEN = re.compile(r"[A-Za-z0-9_-]{39}")


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=_CHECK_SIZE, person=b"vidgen-cursor").digest()


def _encode(created_at: datetime, row_id: UUID) -> str:
    micros = (created_at - _EPOCH) // _MICROSECOND
    payload = _LAYOUT.pack(_VERSION, micros, row_id.bytes)
    return base64.urlsafe_b64encode(payload + _checksum(payload)).rstrip(b"=").decode("ascii")


def _decode(token: str) -> tuple[datetime, UUID]:
    """The (created_at, id) of a cursor string; InvalidArgumentError if it is not one."""
    if not _TOKEN.fullmatch(token):
        raise InvalidArgumentError("invalid cursor: not a cursor this SDK issued")
    try:
        raw = base64.urlsafe_b64decode(token + "=")
    except (binascii.Error, ValueError):
        raise InvalidArgumentError("invalid cursor: not a cursor this SDK issued") from None
    payload, check = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    if _checksum(payload) != check:
        raise InvalidArgumentError("invalid cursor: it was changed or cut short")
    version, micros, id_bytes = _LAYOUT.unpack(payload)
    if version != _VERSION:
        raise InvalidArgumentError(f"invalid cursor: unknown version {version}")
    try:
        created_at = _EPOCH + micros * _MICROSECOND
    except OverflowError:
        raise InvalidArgumentError("invalid cursor: timestamp out of range") from None
    return created_at, UUID(bytes=id_bytes)


class Cursor(str):
    """Where a page ended: an opaque, URL-safe string (``page.next_cursor``). Pass it, or
    the string an API client sent back, as ``before=`` to get the next page.

    It is a ``str`` (JSON-serializable as it is) carrying the last row's ``created_at``
    and ``id``. ``Cursor(created_at, id)`` makes one; ``Cursor.parse(text)`` reads one,
    raising :class:`~vidgen_db.InvalidArgumentError` (a ``ValueError``) for a string that
    is not a cursor, or one that was changed or cut short. A cursor only positions a list:
    row level security still decides what a page holds."""

    __slots__ = ()

    def __new__(cls, created_at: datetime, id: UUID) -> Cursor:
        if not isinstance(created_at, datetime):
            raise InvalidArgumentError(f"cursor created_at must be a datetime, got {created_at!r}")
        if created_at.tzinfo is None or created_at.utcoffset() is None:
            raise InvalidArgumentError("cursor created_at must be timezone-aware")
        if not isinstance(id, UUID):
            raise InvalidArgumentError(f"cursor id must be a UUID, got {id!r}")
        try:
            token = _encode(created_at, id)
        except (OverflowError, struct.error):
            raise InvalidArgumentError("cursor created_at out of range") from None
        return super().__new__(cls, token)

    @classmethod
    def parse(cls, value: str) -> Cursor:
        """The cursor a string stands for; InvalidArgumentError if it is not one."""
        if isinstance(value, Cursor):
            return value
        if not isinstance(value, str):
            raise InvalidArgumentError(f"a cursor is a string, got {type(value).__name__}")
        cursor = cls(*_decode(value))
        if cursor != value:  # an encoding this SDK never issues (stray bits in the last char)
            raise InvalidArgumentError("invalid cursor: not a cursor this SDK issued")
        return cursor

    @property
    def created_at(self) -> datetime:
        """The last row's ``created_at`` (UTC)."""
        return _decode(self)[0]

    @property
    def id(self) -> UUID:
        """The last row's ``id``."""
        return _decode(self)[1]

    def __repr__(self) -> str:
        created_at, row_id = _decode(self)
        return f"Cursor(created_at={created_at!r}, id={row_id!r})"

    def __getnewargs__(self) -> tuple[datetime, UUID]:  # type: ignore[override]
        return _decode(self)


def as_cursor(before: Cursor | str | None) -> Cursor | None:
    """``before`` as a Cursor (a list method's argument: a Cursor or its string)."""
    return None if before is None else Cursor.parse(before)


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


def keyset_filter(before: Cursor) -> tuple[str, str]:
    """The PostgREST filters selecting the rows strictly after ``before`` in newest-first
    order: ``created_at=lte.<ts>``, a range the planner reads straight off a
    ``(..., created_at DESC, id DESC)`` index at any depth, and, as ``or=(...)``, the
    tie-break on id, a filter over the rows sharing the cursor's timestamp only. (The
    single OR, ``created_at < ts OR (created_at = ts AND id < id)``, is no index range:
    PostgreSQL would read every row before the cursor.) Returns the ``created_at``
    bound (an ISO timestamp) and the inside of the ``or``."""
    ts = before.created_at.isoformat()
    return ts, f'created_at.lt."{ts}",id.lt.{before.id}'
