"""Function calls: ``/rpc/<fn>`` by ``POST`` (a JSON object, a form or a raw body) or by
``GET``/``HEAD`` (arguments in the query string), answered as PostgREST answers them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from ._context import Ctx, build_node, check_max_affected, finish, strict_max_affected
from ._errors import ApiError, not_implemented
from ._query import SelectItem, StarItem, parse_columns
from ._read import explain, run_read
from ._request import Media, negotiate, parse_body, parse_query
from ._rpc import RAW_BODY_TYPES, find_function, find_raw_function, is_rpc_argument
from ._schema_cache import Column, Function, Relation
from ._sql import RESPONSE_GUCS, BodyMode, Builder, qualified
from ._sql_write import rpc_call_sql
from ._transaction import Rows, Statement, run_transaction

__all__ = ["rpc"]


@dataclass
class _Call:
    """The function a request calls, its call expression and the parameters left over."""

    fn: Function
    call: str
    rest: list[tuple[str, str]]


async def _raw_body_call(ctx: Ctx, b: Builder, name: str, raw_type: str) -> _Call:
    """A ``text``/``bytea``/``xml`` body passed to a function's single unnamed parameter."""
    raw = await ctx.request.body()
    fn = find_raw_function(ctx.cache, ctx.schema, name, raw_type)
    value: Any = raw if raw_type == "bytea" else raw.decode("utf-8", errors="replace")
    call = f"{qualified(fn.schema, fn.name)}({b.param(value)}::{raw_type})"
    return _Call(fn, call, ctx.params)


async def _post_call(ctx: Ctx, b: Builder, name: str) -> _Call:
    """``POST``: named arguments from a JSON object or a form (or one json/jsonb body)."""
    raw = await ctx.request.body()
    if raw.strip():
        args_json, value = parse_body(raw, ctx.request.headers.get("content-type"))
    else:
        args_json, value = "{}", {}
    keys = set(value) if isinstance(value, dict) else set()
    columns = next((v for k, v in ctx.params if k == "columns"), None)
    if columns is not None and isinstance(value, dict):
        keys = set(parse_columns(columns))
    fn, single = find_function(ctx.cache, ctx.schema, name, keys, True)
    if not single and not isinstance(value, dict):
        raise ApiError(400, "PGRST102", "Empty or invalid json")
    call = rpc_call_sql(b, fn, args_json, set() if single else keys, single)
    return _Call(fn, call, ctx.params)


def _get_call(ctx: Ctx, b: Builder, name: str) -> _Call:
    """``GET``/``HEAD``: arguments in the query string; repeated keys fill a VARIADIC one."""
    arg_items = [(k, v) for k, v in ctx.params if is_rpc_argument(k, v)]
    keys = {k for k, _ in arg_items}
    fn, single = find_function(ctx.cache, ctx.schema, name, keys, False)
    args: dict[str, Any] = {}
    variadic = {p.name for p in fn.params if p.variadic}
    for k, v in arg_items:
        if k in variadic:
            args.setdefault(k, []).append(v)
        else:
            args[k] = v
    call = rpc_call_sql(b, fn, json.dumps(args), keys, single)
    return _Call(fn, call, [(k, v) for k, v in ctx.params if not is_rpc_argument(k, v)])


def _strict_max_affected_error() -> ApiError:
    return ApiError(
        400,
        "PGRST128",
        "Function must return SETOF or TABLE when max-affected preference is used "
        "with handling=strict",
    )


async def rpc(ctx: Ctx, name: str) -> Response:
    """``/rpc/<name>``."""
    method = ctx.method
    if method not in ("GET", "HEAD", "POST"):
        if method == "OPTIONS":
            return Response(None, 200, headers={"Allow": "OPTIONS,GET,HEAD,POST"})
        raise ApiError(405, "PGRST101", f"Cannot use the {method} method on RPC")
    ctx.kind = "rpc"
    b = Builder()
    content_type = (ctx.request.headers.get("content-type") or "").split(";")[0].strip()
    raw_type = RAW_BODY_TYPES.get(content_type.lower()) if method == "POST" else None
    if raw_type is not None:
        call = await _raw_body_call(ctx, b, name, raw_type)
    elif method == "POST":
        call = await _post_call(ctx, b, name)
    else:
        call = _get_call(ctx, b, name)
    read_only = method != "POST" or call.fn.read_only
    ctx.params = call.rest
    media = negotiate(ctx.request.headers.get("accept"), ctx.config.plan_enabled)
    if call.fn.return_kind == "void":
        return await _void_call(ctx, media, b, call, read_only)
    if call.fn.return_kind == "record":
        raise not_implemented(
            f"calling {call.fn.schema}.{call.fn.name}: functions returning an untyped record"
        )
    return await _result_call(ctx, media, b, call, read_only)


async def _void_call(ctx: Ctx, media: Media, b: Builder, call: _Call, read_only: bool) -> Response:
    """A ``void`` function: 204."""
    stmt = f"SELECT 1::bigint, NULL::text, {RESPONSE_GUCS} FROM (SELECT {call.call}) AS pgrst_call"
    if media.kind == "plan":
        return await explain(ctx, media, b, stmt, read_only)

    def check(rows: list[Rows]) -> None:
        if not call.fn.returns_set:
            raise _strict_max_affected_error()
        check_max_affected(ctx, 0)

    main = Statement(stmt, b.params, response_gucs=True)
    checked = strict_max_affected(ctx)
    await run_transaction(ctx, read_only, [main], check=check if checked else None)
    ctx.headers["Content-Range"] = "0-0/*"  # PostgREST counts the one (void) row
    return finish(ctx, 204, None, None)


async def _result_call(
    ctx: Ctx, media: Media, b: Builder, call: _Call, read_only: bool
) -> Response:
    """A function returning a scalar, a composite or a set: read like a table."""
    fn = call.fn
    pq = parse_query(call.rest)
    relation: Relation | None = None
    if fn.return_relation is not None:
        relation = ctx.cache.relation(*fn.return_relation)
    mode: BodyMode | None = None
    if fn.return_kind == "scalar":
        pseudo = Relation(
            fn.schema, fn.name, "f", {fn.name: Column(fn.name, fn.return_type, True, None)}
        )
        items: list[SelectItem] = [StarItem()]
        node = build_node(b, ctx, fn.name, pseudo, call.call, items, pq)
        node.relation = None
        mode = "scalar"
    else:
        can_embed = relation is not None
        if relation is None:
            relation = Relation(fn.schema, fn.name, "f", {c.name: c for c in fn.out_columns})
        embeddable = relation if can_embed else None
        node = build_node(b, ctx, fn.name, embeddable, call.call, pq.select, pq)
        node.relation = relation
    if strict_max_affected(ctx) and not fn.returns_set:
        raise _strict_max_affected_error()
    singular = not fn.returns_set
    if singular and media.kind == "object":
        media = Media("json", media.content_type, media.strip_nulls)
    if fn.return_kind == "scalar" and media.kind == "csv":
        raise not_implemented("text/csv output of scalar functions")
    return await run_read(
        ctx,
        media,
        b,
        node,
        read_only=read_only,
        mode=mode,
        singular_body=singular,
        max_affected_check=True,
    )
