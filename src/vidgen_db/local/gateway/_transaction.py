"""One transaction per request, as PostgREST runs it: the isolation level and access mode,
the prelude (role, search_path, claims, request GUCs), the role's own settings, the time
zone, the pre-request function, the statements, the response GUCs, commit or rollback."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql

from .._postgrest import PRELUDE, prelude_params, quote_search_path
from ._context import Ctx
from ._errors import ApiError, from_pg_error
from ._sql import qualified

__all__ = ["Rows", "Statement", "run_transaction"]

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Statement:
    """One statement of a request and its bound parameters."""

    query: sql.Composable | str
    params: Mapping[str, Any] | None = None


_RESPONSE_GUCS = (
    "SELECT current_setting('response.headers', true), current_setting('response.status', true)"
)


def _settings(ctx: Ctx) -> list[tuple[str, str]]:
    """The impersonated role's own settings (``ALTER ROLE ... SET``, which ``SET ROLE``
    alone would not apply) and the ``Prefer: timezone``, as PostgREST applies them."""
    settings = list(ctx.cache.role_settings.get(ctx.role, {}).items())
    tz = ctx.prefs.timezone
    if tz is not None and tz in ctx.cache.timezones:
        settings.append(("timezone", tz))
        ctx.timezone_applied = True
    return settings


def _pre_request(ctx: Ctx) -> sql.Composable | None:
    name = ctx.config.pre_request
    if not name:
        return None
    schema_name, _, fn_name = name.rpartition(".")
    target = qualified(schema_name, fn_name) if schema_name else sql.Identifier(fn_name)
    return sql.SQL("SELECT {}()").format(target)


def _rollback_wanted(ctx: Ctx, force_rollback: bool) -> bool:
    """``db-tx-end``, and ``Prefer: tx=`` when the configuration allows overriding it."""
    tx_end = ctx.config.tx_end
    rollback = force_rollback or tx_end.startswith("rollback")
    if tx_end.endswith("allow-override") and ctx.prefs.tx is not None:
        rollback = force_rollback or ctx.prefs.tx == "rollback"
        ctx.tx_override = True
    return rollback


def _prelude(ctx: Ctx) -> dict[str, str]:
    request = ctx.request
    return prelude_params(
        ctx.role,
        ctx.claims,
        search_path=quote_search_path((ctx.schema, *ctx.config.extra_search_path)),
        method=ctx.method,
        path=request.url.path,
        headers={k.lower(): v for k, v in request.headers.items()},
        cookies=request.cookies,
    )


async def run_transaction(
    ctx: Ctx,
    read_only: bool,
    statements: list[Statement],
    *,
    check: Callable[[list[Rows]], None] | None = None,
    force_rollback: bool = False,
) -> list[Rows]:
    """Run the statements in the request's transaction; their rows, in order.

    ``check`` sees the rows before the transaction ends and raises an :class:`ApiError` to
    roll it back (singular responses, ``max-affected``). Database errors become PostgREST's.
    """
    rollback = _rollback_wanted(ctx, force_rollback)
    mode = "READ ONLY" if read_only else "READ WRITE"
    gucs = _prelude(ctx)
    settings = _settings(ctx)
    pre_request = _pre_request(ctx)
    async with ctx.db.connection() as conn:
        await conn.execute(f"BEGIN ISOLATION LEVEL READ COMMITTED, {mode}")
        try:
            await conn.execute(PRELUDE, gucs)
            if settings:
                calls = ", ".join(["set_config(%s, %s, true)"] * len(settings))
                await conn.execute(f"SELECT {calls}", [x for kv in settings for x in kv])
            if pre_request is not None:
                await conn.execute(pre_request, [])
            results: list[Rows] = []
            for stmt in statements:
                cur = await conn.execute(stmt.query, stmt.params)
                results.append(await cur.fetchall())
            if check is not None:
                check(results)
            cur = await conn.execute(_RESPONSE_GUCS)
            apply_response_gucs(ctx, await cur.fetchone())
            await conn.execute("ROLLBACK" if rollback else "COMMIT")
            return results
        except psycopg.Error as err:
            await _safe_rollback(conn)
            raise from_pg_error(err, ctx.authenticated) from None
        except BaseException:
            await _safe_rollback(conn)
            raise


async def _safe_rollback(conn: AsyncConnection[Any]) -> None:
    with suppress(psycopg.Error):
        await conn.execute("ROLLBACK")


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
