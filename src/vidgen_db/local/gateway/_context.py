"""What a request carries through its handler, and how its response is put together."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response

from ._config import GatewayConfig
from ._errors import ApiError
from ._pool import Pool
from ._query import SelectItem, has_aggregates
from ._request import ParsedQuery, Preferences
from ._schema_cache import Relation, SchemaCache
from ._sql import Builder, ReadNode
from ._sql_read import build_read_node

__all__ = [
    "Ctx",
    "Kind",
    "build_node",
    "check_max_affected",
    "error_response",
    "finish",
    "json_response",
    "lookup_relation",
    "plain",
    "singular_error",
    "strict_max_affected",
]

Kind = Literal["read", "insert", "update", "delete", "put", "rpc"]


@dataclass
class Ctx:
    """One request: who makes it, on which schema, with which preferences; and what its
    response has gathered so far (headers, a status set by the database)."""

    request: Request
    config: GatewayConfig
    cache: SchemaCache
    db: Pool
    method: str
    schema: str
    role: str
    claims: dict[str, Any]
    authenticated: bool
    prefs: Preferences
    params: list[tuple[str, str]]
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    kind: Kind = "read"
    resolution_applies: bool = False
    timezone_applied: bool = False
    tx_override: bool = False


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response, like PostgREST's encoder writes it."""
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def error_response(err: ApiError) -> Response:
    """PostgREST's error response."""
    headers = dict(err.headers)
    if err.code:
        headers["Proxy-Status"] = f"PostgREST; error={err.code}"
    return json_response(err.status, err.body(), headers)


def _preference_applied(ctx: Ctx) -> str:
    """The Preference-Applied header: the preferences honoured, in PostgREST's order."""
    p = ctx.prefs
    mutation = ctx.kind in ("insert", "update", "delete", "put")
    values = [
        f"resolution={p.resolution}" if p.resolution and ctx.resolution_applies else None,
        f"missing={p.missing}" if p.missing and ctx.kind in ("insert", "update") else None,
        f"return={p.return_}" if p.return_ and mutation else None,
        f"count={p.count}" if p.count else None,
        f"tx={p.tx}" if p.tx and ctx.tx_override else None,
        f"handling={p.handling}" if p.handling else None,
        f"timezone={p.timezone}" if ctx.timezone_applied else None,
        f"max-affected={p.max_affected}"
        if p.max_affected is not None
        and p.handling == "strict"
        and ctx.kind in ("update", "delete", "rpc")
        else None,
    ]
    return ", ".join(v for v in values if v)


def finish(ctx: Ctx, status: int, body: str | None, content_type: str | None) -> Response:
    """The response: the status (unless the database set one), headers, body."""
    if ctx.status != 200:
        status = ctx.status
    headers = dict(ctx.headers)
    applied = _preference_applied(ctx)
    if applied:
        headers["Preference-Applied"] = applied
    if ctx.method == "HEAD" or body is None:
        response = Response(None, status_code=status, headers=headers)
        if content_type and ctx.method == "HEAD":
            response.headers["Content-Type"] = content_type
        return response
    return Response(body, status_code=status, headers=headers, media_type=content_type)


def plain(value: Any) -> str:
    """A JSON value as PostgREST writes it in a URL (``true``, ``null``, ``42``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def singular_error(n: int) -> ApiError:
    """PGRST116: ``application/vnd.pgrst.object+json`` with other than one row."""
    return ApiError(
        406,
        "PGRST116",
        "Cannot coerce the result to a single JSON object",
        f"The result contains {n} rows",
    )


def strict_max_affected(ctx: Ctx) -> bool:
    """Whether ``Prefer: max-affected`` applies (it needs ``handling=strict``)."""
    return ctx.prefs.max_affected is not None and ctx.prefs.handling == "strict"


def check_max_affected(ctx: Ctx, affected: int) -> None:
    """PGRST124 when ``Prefer: max-affected`` (with ``handling=strict``) is exceeded."""
    prefs = ctx.prefs
    if prefs.max_affected is None or prefs.handling != "strict":
        return
    if affected > prefs.max_affected:
        raise ApiError(
            400,
            "PGRST124",
            "Query result exceeds max-affected preference constraint",
            f"The query affects {affected} rows",
        )


def lookup_relation(ctx: Ctx, name: str) -> Relation:
    """The table or view, or PGRST205 with PostgREST's "Perhaps you meant" hint."""
    rel = ctx.cache.relation(ctx.schema, name)
    if rel is None:
        names = [n for (s, n) in ctx.cache.relations if s == ctx.schema]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        raise ApiError(
            404,
            "PGRST205",
            f"Could not find the table '{ctx.schema}.{name}' in the schema cache",
            None,
            f"Perhaps you meant the table '{ctx.schema}.{close[0]}'" if close else None,
        )
    return rel


def build_node(
    b: Builder,
    ctx: Ctx,
    name: str,
    relation: Relation | None,
    from_sql: str,
    items: list[SelectItem],
    pq: ParsedQuery,
) -> ReadNode:
    """The read tree of a select list; PGRST123 for aggregates unless enabled, PGRST108 for
    parameters of resources that are not embedded."""
    if not ctx.config.aggregates_enabled and has_aggregates(items):
        raise ApiError(400, "PGRST123", "Use of aggregate functions is not allowed")
    node = build_read_node(
        b, ctx.cache, ctx.schema, name, relation, from_sql, name, items, pq.by_path
    )
    if pq.by_path:
        missing = next(iter(pq.by_path))[-1]
        raise ApiError(
            400,
            "PGRST108",
            f"'{missing}' is not an embedded resource in this request",
            None,
            f"Verify that '{missing}' is included in the 'select' query parameter.",
        )
    return node
