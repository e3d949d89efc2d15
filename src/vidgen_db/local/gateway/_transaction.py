"""One transaction per request, as PostgREST runs it, in one round trip to the database.

``BEGIN`` (read committed; read only or read write), the prelude (role, search_path,
claims, request GUCs, then the role's own settings and the time zone), the pre-request
function, the request's statements (whose main statement also reads ``response.headers``
and ``response.status``, as PostgREST's does) and ``COMMIT`` (or ``ROLLBACK``) go to the
server as one multi-statement query, its values bound client-side by psycopg (quoted
literals), and come back together. The prelude is prepared (SQL ``PREPARE``) the first time
a connection runs it, other statements the fifth time (see :mod:`._prepared`).

Only a read-write transaction whose result decides between commit and rollback (a
singular response, ``max-affected``) takes a second round trip for its ``COMMIT``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import AsyncClientCursor, AsyncConnection, pq

from .._postgrest import PRELUDE_WITH_SETTINGS, prelude_params, quote_search_path, settings_params
from ._context import Ctx
from ._errors import ApiError, from_pg_error
from ._pool import ConnectError, Pool, PoolTimeout
from ._prepared import Prepared, Preparing
from ._sql import ident, qualified

__all__ = ["Rows", "Statement", "apply_response_gucs", "run_transaction"]

Rows = list[tuple[Any, ...]]
Check = Callable[[list[Rows]], None]


@dataclass(frozen=True)
class Statement:
    """One statement of a request and its bound parameters; ``response_gucs``: its one row
    ends with ``response.headers`` and ``response.status`` (else they are read after it)."""

    query: str
    params: Mapping[str, Any] | None = None
    response_gucs: bool = False
    preparable: bool = True  # False for EXPLAIN, which PREPARE does not take


_BEGIN = {
    True: "BEGIN ISOLATION LEVEL READ COMMITTED, READ ONLY",
    False: "BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE",
}
_RESPONSE_GUCS = (
    "SELECT current_setting('response.headers', true), current_setting('response.status', true)"
)


@dataclass(frozen=True)
class _Plan:
    """Everything one request's transaction sends."""

    read_only: bool
    params: dict[str, Any]
    pre_request: str | None
    statements: list[Statement]
    check: Check | None
    rollback: bool

    @property
    def deferred(self) -> bool:
        """Whether COMMIT waits for the check (a read-write transaction the result decides)."""
        return self.check is not None and not self.read_only and not self.rollback


@dataclass
class _Query:
    """The multi-statement text of one transaction and where its results are."""

    parts: list[str] = field(default_factory=list)
    results: list[int] = field(default_factory=list)  # index of each statement's result
    gucs: int | None = None  # index of the separate read of the response GUCs
    preparing: list[Preparing] = field(default_factory=list)
    deallocating: list[str] = field(default_factory=list)  # names it deallocates

    def add(self, sql: str, prepared: Prepared | None, *, threshold: int | None = None) -> int:
        parts, preparing = prepared.sql(sql, threshold=threshold) if prepared else ([sql], None)
        self.parts.extend(parts)
        if preparing is not None:
            self.preparing.append(preparing)
        return len(self.parts) - 1


def _settings(ctx: Ctx) -> dict[str, str]:
    """The impersonated role's own settings and the ``Prefer: timezone``, as PostgREST
    applies them."""
    settings = dict(ctx.cache.role_settings.get(ctx.role, {}))
    tz = ctx.prefs.timezone
    if tz is not None and tz in ctx.cache.timezones:
        settings["timezone"] = tz
        ctx.timezone_applied = True
    return settings


def _pre_request(ctx: Ctx) -> str | None:
    name = ctx.config.pre_request
    if not name:
        return None
    schema_name, _, fn_name = name.rpartition(".")
    target = qualified(schema_name, fn_name) if schema_name else ident(fn_name)
    return f"SELECT {target}()"


def _rollback_wanted(ctx: Ctx, force_rollback: bool) -> bool:
    """``db-tx-end``, and ``Prefer: tx=`` when the configuration allows overriding it."""
    tx_end = ctx.config.tx_end
    rollback = force_rollback or tx_end.startswith("rollback")
    if tx_end.endswith("allow-override") and ctx.prefs.tx is not None:
        rollback = force_rollback or ctx.prefs.tx == "rollback"
        ctx.tx_override = True
    return rollback


def _params(ctx: Ctx, statements: list[Statement]) -> dict[str, Any]:
    """The prelude's parameters and the statements' (``p0``, ``p1``...: no clash)."""
    request = ctx.request
    params: dict[str, Any] = prelude_params(
        ctx.role,
        ctx.claims,
        search_path=quote_search_path((ctx.schema, *ctx.config.extra_search_path)),
        method=ctx.method,
        path=request.url.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        cookies=request.cookies,
    )
    params.update(settings_params(_settings(ctx)))
    for stmt in statements:
        params.update(stmt.params or {})
    return params


async def run_transaction(
    ctx: Ctx,
    read_only: bool,
    statements: list[Statement],
    *,
    check: Check | None = None,
    force_rollback: bool = False,
) -> list[Rows]:
    """Run the statements in the request's transaction; their rows, in order.

    ``check`` sees the rows and raises an :class:`ApiError` to roll a read-write
    transaction back (singular responses, ``max-affected``). Database errors become
    PostgREST's; a connection that cannot be had raises ``psycopg.OperationalError``.
    """
    plan = _Plan(
        read_only,
        _params(ctx, statements),
        _pre_request(ctx),
        statements,
        check,
        _rollback_wanted(ctx, force_rollback),
    )
    pool: Pool = ctx.db
    retried = False
    while True:
        try:
            async with pool.connection() as conn:
                results, gucs = await _run(conn, plan, pool.statements(conn))
            break
        except psycopg.Error as err:
            if not retried and pool.prepare and _lost_prepared_statement(err):
                # A transaction-mode pooler moved us to a server without our prepared
                # statements: nothing was committed, so run it again, unprepared for good.
                pool.disable_prepare()
                retried = True
                continue
            if _connection_lost(err):
                pool.drop_idle()  # the server went away: the idle connections are dead too
            if isinstance(err, ConnectError | PoolTimeout):
                raise
            raise from_pg_error(err, ctx.authenticated) from None
    apply_response_gucs(ctx, gucs)
    return results


def _connection_lost(err: psycopg.Error) -> bool:
    """A failure to connect, a connection that broke, or a server shutting down."""
    state = err.sqlstate
    return isinstance(err, ConnectError) or (
        isinstance(err, psycopg.OperationalError)
        and (state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03"))
    )


def _lost_prepared_statement(err: psycopg.Error) -> bool:
    """A server without the statements we prepared, or with others of the same name."""
    return err.sqlstate in ("26000", "42P05") and "pgrst_" in str(err)


def _query(plan: _Plan, prepared: Prepared | None) -> _Query:
    q = _Query()
    q.add(_BEGIN[plan.read_only], None)
    q.add(PRELUDE_WITH_SETTINGS, prepared, threshold=1)
    if plan.pre_request is not None:
        q.add(plan.pre_request, prepared)
    q.results = [
        q.add(stmt.query, prepared if stmt.preparable else None) for stmt in plan.statements
    ]
    if not (plan.statements and plan.statements[0].response_gucs):
        q.gucs = q.add(_RESPONSE_GUCS, None)
    if not plan.deferred:
        q.add("ROLLBACK" if plan.rollback else "COMMIT", None)
        if prepared is not None:
            q.deallocating = list(prepared.stale)
            q.parts.extend(f"DEALLOCATE {name}" for name in q.deallocating)
    return q


async def _run(
    conn: AsyncConnection[Any], plan: _Plan, prepared: Prepared | None
) -> tuple[list[Rows], tuple[Any, ...] | None]:
    """The transaction on one connection: one query (and the COMMIT, when deferred)."""
    q = _query(plan, prepared)
    try:
        cur = AsyncClientCursor(conn)
        await cur.execute("; ".join(q.parts), plan.params)
        if prepared is not None:
            for preparing in q.preparing:
                prepared.confirm(preparing)
            q.preparing.clear()
            prepared.deallocated(q.deallocating)
        rows: dict[int, Rows] = {}
        wanted = {*q.results, q.gucs}
        for index in range(len(q.parts)):
            if index in wanted:
                rows[index] = await cur.fetchall()
            cur.nextset()
        results = [rows[i] for i in q.results]
        if q.gucs is not None:
            gucs = rows[q.gucs][0] if rows[q.gucs] else None
        else:
            gucs = results[0][0][-2:] if results[0] else None
        if plan.check is not None:
            plan.check(results)  # after COMMIT unless deferred: then read only, or rolled back
        if plan.deferred:
            await conn.execute("COMMIT")
        return results, gucs
    except (psycopg.Error, ApiError):
        await _end_transaction(conn, prepared, q.preparing)
        raise
    except BaseException:
        conn.pgconn.finish()  # cancelled mid-query: the connection's state is unknown
        raise


async def _end_transaction(
    conn: AsyncConnection[Any], prepared: Prepared | None, preparing: list[Preparing]
) -> None:
    """Roll back what is left open (an error leaves the transaction aborted), and learn
    which of the statements the failed query prepared exist (``PREPARE`` outlives it)."""
    if conn.closed:
        return
    with suppress(psycopg.Error):
        if conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            await conn.execute("ROLLBACK")
        if prepared is not None and preparing:
            cur = await conn.execute(
                "SELECT name FROM pg_prepared_statements WHERE name = ANY(%s)",
                [[p.name for p in preparing]],
            )
            existing = {row[0] for row in await cur.fetchall()}
            for p in preparing:
                if p.name in existing:
                    prepared.confirm(p)


def _response_headers(text: str) -> dict[str, str]:
    """``response.headers``: a JSON array of single-key objects with string values."""
    try:
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError
        headers: dict[str, str] = {}
        for item in items:
            if not isinstance(item, dict) or len(item) != 1:
                raise ValueError
            ((key, value),) = item.items()
            if not isinstance(value, str):
                raise ValueError
            headers[str(key)] = value
        return headers
    except ValueError:
        raise ApiError(
            500,
            "PGRST111",
            "response.headers guc must be a JSON array composed of objects with a "
            "single key and a string value",
        ) from None


def apply_response_gucs(ctx: Ctx, row: tuple[Any, ...] | None) -> None:
    """Apply ``response.headers`` / ``response.status`` set by the request's SQL."""
    if row is None:
        return
    headers_text, status_text = row
    if headers_text:
        ctx.headers.update(_response_headers(headers_text))
    if status_text:
        try:
            status = int(status_text)
            if not 100 <= status <= 599:
                raise ValueError
        except ValueError:
            raise ApiError(
                500, "PGRST112", "response.status guc must be a valid status code"
            ) from None
        ctx.status = status
