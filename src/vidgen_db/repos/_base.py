# Generated from src/vidgen_db/repos/_base_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""What every async repository shares: the PostgREST client, row validation, paging,
single-row reads and writes, and SQL function calls through the RPC registry."""

from __future__ import annotations

import contextlib
import gc
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar
from uuid import UUID

from postgrest import SyncPostgrestClient, SyncSelectRequestBuilder
from postgrest.types import ReturnMethod
from pydantic import BaseModel, TypeAdapter, ValidationError

from .._compat import read_request
from .._errors import InvalidArgumentError, NotFoundError, ServerError
from ..models import RPC_FUNCTIONS, InsertModel, WriteModel
from ..models._base import FROM_DATABASE
from ._pagination import Cursor, Page, as_cursor, check_limit, keyset_filter

__all__ = ["Repository"]

M = TypeVar("M", bound=BaseModel)

_adapters: dict[type[Any], TypeAdapter[Any]] = {}
#: Bodies from this size up are validated with the garbage collector paused.
_PAUSE_ABOVE_BYTES = 64 * 1024


def rows_as(model: type[M], data: Any) -> list[M]:
    """Validate PostgREST's JSON rows into ``model`` instances."""
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter.validate_python(data or [], context=FROM_DATABASE)  # type: ignore[no-any-return]


def rows_from_json(model: type[M], body: bytes) -> list[M]:
    """Validate PostgREST's JSON array of rows, as bytes, into ``model`` instances (parsed
    and validated in one pass)."""
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    with _collector_paused(len(body)):
        return adapter.validate_json(body or b"[]", context=FROM_DATABASE)  # type: ignore[no-any-return]


@contextlib.contextmanager
def _collector_paused(size: int) -> Iterator[None]:
    """Python's cyclic garbage collector held off while a large body becomes models.

    Each model instance is tracked by the collector (a decoded JSON row of plain values is
    not), so a page of 1,000 rows set off several full collections of the whole heap: more
    than half the CPU of the call. The models hold no cycles; the collector runs as usual
    once they are built."""
    if size < _PAUSE_ABOVE_BYTES or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def row_as(model: type[M], data: Any) -> M:
    """Validate one row (PostgREST's singular object, or a one-row array)."""
    if isinstance(data, list):
        if len(data) != 1:
            raise InvalidArgumentError(f"expected one row, got {len(data)}")
        data = data[0]
    return model.model_validate(data, context=FROM_DATABASE)


def page_of(rows: list[M], more: bool) -> Page[M]:
    """A page of ``rows``; when ``more``, its cursor is the last row's (created_at, id)."""
    if not more or not rows:
        return Page(items=rows, next_cursor=None)
    last: Any = rows[-1]
    if last.created_at is None or last.id is None:
        raise InvalidArgumentError("a row without created_at or id cannot end a page")
    return Page(items=rows, next_cursor=Cursor(created_at=last.created_at, id=last.id))


def validation_summary(exc: ValidationError) -> str:
    """A pydantic error as one line: each field and what is wrong with it (never the
    value, which may be huge or secret)."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]).removeprefix("p_") or "value"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def only_fields(model: WriteModel, allowed: Iterable[str], who: str) -> None:
    """ValueError (before any request) if ``model`` sets a field ``who`` may not write."""
    refused = sorted(model.model_fields_set - set(allowed))
    if refused:
        raise InvalidArgumentError(f"{who} may not set {', '.join(refused)}")


def positive(name: str, value: int) -> int:
    """``value`` if it is a positive integer (the credit functions refuse anything else)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}")
    return value


def percent(name: str, value: int | None) -> int | None:
    """``value`` if it is None or an integer from 0 to 100."""
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100
    ):
        raise InvalidArgumentError(f"{name} must be an integer from 0 to 100, got {value!r}")
    return value


class Repository:
    """Base of the async repositories: ``rest`` is the client's PostgREST client;
    ``user_id`` the signed-in user's id (None for the service role)."""

    def __init__(self, rest: SyncPostgrestClient, user_id: UUID | None) -> None:
        self._rest = rest
        self._user_id = user_id

    def _me(self) -> UUID:
        """The signed-in user's id (only user clients have one)."""
        if self._user_id is None:
            raise InvalidArgumentError("this operation needs a user client")
        return self._user_id

    def _page(
        self,
        model: type[M],
        query: SyncSelectRequestBuilder,
        limit: int,
        before: Cursor | str | None,
    ) -> Page[M]:
        """One newest-first page of ``query`` (a select on a table with created_at and id,
        and an index ending in ``created_at DESC, id DESC`` after its equality filters):
        a range scan from the cursor, as fast at any depth as on the first page."""
        check_limit(limit)
        cursor = as_cursor(before)
        if cursor is not None:
            bound, tie_break = keyset_filter(cursor)
            query = query.lte("created_at", bound).or_(tie_break)
        query = query.order("created_at", desc=True).order("id", desc=True).limit(limit + 1)
        body = self._fetch(query)
        if body is not None:
            rows = rows_from_json(model, body)
        else:
            response = query.execute()
            rows = rows_as(model, response.data)
        return page_of(rows[:limit], len(rows) > limit)

    def _fetch(self, query: Any) -> bytes | None:
        """The body of a read, sent as postgrest-py would send it (through the client's
        pool, retries and error mapping) but left unparsed: the models validate the JSON
        bytes directly. None when this postgrest-py keeps its requests elsewhere."""
        parts = read_request(query)
        if parts is None:
            return None
        session, method, path, headers, params = parts
        response = session.request(method, str(path), params=params, headers=headers)
        return bytes(response.content)

    def _all(self, model: type[M], query: SyncSelectRequestBuilder) -> list[M]:
        """Every row ``query`` selects."""
        body = self._fetch(query)
        if body is not None:
            return rows_from_json(model, body)
        response = query.execute()
        return rows_as(model, response.data)

    def _get(self, table: str, model: type[M], key: str, value: object) -> M:
        """The one row whose ``key`` is ``value``; NotFoundError (PGRST116) if none is visible."""
        query = self._rest.table(table).select("*").eq(key, str(value)).single()
        body = self._fetch(query)
        if body is not None:
            return model.model_validate_json(body, context=FROM_DATABASE)
        response = query.execute()
        return row_as(model, response.data)

    def _create(self, table: str, model: type[M], row: InsertModel) -> M:
        """Insert ``row`` and return it. Safe to retry: the id is chosen here (unless given)
        and a repeated insert of the same id adds nothing (an upsert ignoring duplicates)."""
        if "id" not in row.model_fields_set:
            row = row.model_copy(update={"id": uuid.uuid4()})
            row.model_fields_set.add("id")
        response = (
            self._rest.table(table)
            .upsert(
                row.to_postgrest(),
                on_conflict="id",
                ignore_duplicates=True,
                returning=ReturnMethod.representation,
            )
            .execute()
        )
        if response.data:
            return row_as(model, response.data)
        # A retry whose first attempt had already inserted the row.
        return self._get(table, model, "id", getattr(row, "id"))  # noqa: B009

    def _update(
        self, table: str, model: type[M], key: str, value: object, changes: WriteModel
    ) -> M:
        """Apply the fields set in ``changes`` to the row whose ``key`` is ``value``."""
        body = changes.to_postgrest()
        if not body:
            raise InvalidArgumentError(
                f"no changes: set at least one field of the {type(changes).__name__}"
            )
        response = (
            self._rest.table(table)
            .update(body, returning=ReturnMethod.representation)
            .eq(key, str(value))
            .execute()
        )
        if not response.data:
            raise NotFoundError(f"{table}: no row with {key} {value}")
        return row_as(model, response.data)

    def _delete(self, table: str, row_id: UUID) -> None:
        """Delete the row with id ``row_id``; NotFoundError if there was none."""
        response = (
            self._rest.table(table)
            .delete(returning=ReturnMethod.representation)
            .eq("id", str(row_id))
            .execute()
        )
        if not response.data:
            raise NotFoundError(f"{table}: no row with id {row_id}")

    def _rpc(self, name: str, **arguments: Any) -> Any:
        """Call the SQL function ``name`` (arguments left None take the SQL default) and
        return its result validated by the registry."""
        function = RPC_FUNCTIONS[name]
        try:
            body = function.body(**{k: v for k, v in arguments.items() if v is not None})
        except ValidationError as exc:
            raise InvalidArgumentError(f"{name}: {validation_summary(exc)}") from exc
        response = self._rest.rpc(name, body).execute()
        return function.parse_result(response.data)

    def _rpc_row(self, name: str, model: type[M], **arguments: Any) -> M:
        """A function returning one row of ``model``; NotFoundError if it returned NULL."""
        result = self._rpc(name, **arguments)
        if result is None:
            raise NotFoundError(f"{name} returned no row")
        if not isinstance(result, model):
            raise ServerError(f"{name} returned {type(result).__name__}, not {model.__name__}")
        return result

    def _rpc_value(self, name: str, kind: type[Any], **arguments: Any) -> Any:
        """A function returning a scalar of ``kind``; ServerError if it returned NULL."""
        result = self._rpc(name, **arguments)
        if not isinstance(result, kind):
            raise ServerError(f"{name} returned {result!r}, not a {kind.__name__}")
        return result
