"""Opaque cursors: what ``page.next_cursor`` is, what list methods take back, and what they
refuse (a forged or garbled cursor is an InvalidArgumentError: a ValueError and a
VidgenDBError, raised before any request)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import pickle
import re
import struct
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from vidgen_db import Cursor, InvalidArgumentError, Page, VidgenDBError
from vidgen_db.repos._pagination import as_cursor, keyset_filter

AT = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=UTC)
ROW = uuid.UUID("0b9e1c2a-7d4f-4e8a-9c3b-5f6a7e8d9c0b")


def test_a_cursor_is_a_url_safe_string_carrying_the_row() -> None:
    cursor = Cursor(AT, ROW)
    assert isinstance(cursor, str) and re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert type(str(cursor)) is str and str(cursor) == cursor
    assert (cursor.created_at, cursor.id) == (AT, ROW)
    assert cursor.created_at.tzinfo is UTC
    assert repr(cursor) == f"Cursor(created_at={AT!r}, id={ROW!r})"
    # It serializes as the string it is, for an API's JSON body or a query string.
    assert json.dumps({"next": cursor}) == json.dumps({"next": str(cursor)})


def test_the_string_reads_back_as_the_same_cursor() -> None:
    cursor = Cursor(AT, ROW)
    again = Cursor.parse(str(cursor))
    assert again == cursor and (again.created_at, again.id) == (AT, ROW)
    assert isinstance(again, Cursor) and Cursor.parse(cursor) is cursor
    assert as_cursor(str(cursor)) == cursor and as_cursor(None) is None
    assert pickle.loads(pickle.dumps(cursor)) == cursor
    assert copy.deepcopy(cursor) == cursor and hash(cursor) == hash(str(cursor))


def test_the_same_instant_in_any_zone_is_the_same_cursor() -> None:
    paris = AT.astimezone(timezone(timedelta(hours=1)))
    assert Cursor(paris, ROW) == Cursor(AT, ROW)
    assert Cursor(paris, ROW).created_at == AT


@pytest.mark.parametrize(
    "at",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_every_timestamp_survives_to_the_microsecond(at: datetime) -> None:
    assert Cursor.parse(str(Cursor(at, ROW))).created_at == at


def test_keyset_filter_is_an_index_range_and_a_tie_break() -> None:
    bound, tie_break = keyset_filter(Cursor(AT, ROW))
    assert bound == "2026-11-28T10:00:00.123456+00:00"
    assert tie_break == f'created_at.lt."{bound}",id.lt.{ROW}'


def test_a_page_is_its_items() -> None:
    page = Page(items=[1, 2], next_cursor=Cursor(AT, ROW))
    assert list(page) == [1, 2] and len(page) == 2


def _token(payload: bytes, check: bytes | None = None) -> str:
    check = check or hashlib.blake2b(payload, digest_size=4, person=b"vidgen-cursor").digest()
    return base64.urlsafe_b64encode(payload + check).rstrip(b"=").decode()


GOOD = str(Cursor(AT, ROW))
REFUSED = {
    "empty": "",
    "not base64": "!" * len(GOOD),
    "cut short": GOOD[:-1],
    "too long": GOOD + "A",
    "padded": GOOD + "=",
    "base64 of something else": base64.urlsafe_b64encode(b"created_at=2026-01-01").decode(),
    "plain timestamp": "2026-11-28T10:00:00+00:00",
    "a uuid": str(ROW),
    "another version": _token(struct.pack(">Bq16s", 2, 0, ROW.bytes)),
    "wrong checksum": _token(struct.pack(">Bq16s", 1, 0, ROW.bytes), b"\0\0\0\0"),
    "out of range": _token(struct.pack(">Bq16s", 1, 2**62, ROW.bytes)),
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_a_forged_or_garbled_cursor_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match="cursor") as info:
        Cursor.parse(text)
    assert isinstance(info.value, ValueError) and isinstance(info.value, VidgenDBError)


def test_every_single_character_change_is_caught() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i, char in enumerate(GOOD):
        for other in alphabet:
            if other == char:
                continue
            with pytest.raises(InvalidArgumentError):
                Cursor.parse(GOOD[:i] + other + GOOD[i + 1 :])


def test_a_cursor_is_made_only_of_an_aware_datetime_and_a_uuid() -> None:
    with pytest.raises(InvalidArgumentError, match="timezone"):
        Cursor(datetime(2026, 1, 1), ROW)
    with pytest.raises(InvalidArgumentError, match="datetime"):
        Cursor("2026-01-01", ROW)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="UUID"):
        Cursor(AT, str(ROW))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="string"):
        Cursor.parse(12)  # type: ignore[arg-type]
