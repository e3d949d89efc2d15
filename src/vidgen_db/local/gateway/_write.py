"""Writes: ``POST`` (insert, upsert), ``PATCH``, ``DELETE`` and ``PUT`` of tables and views,
with PostgREST's representations, ``Location``, counts and statuses."""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import quote

from starlette.responses import Response

from ._context import (
    Ctx,
    build_node,
    check_max_affected,
    finish,
    plain,
    singular_error,
    strict_max_affected,
)
from ._errors import ApiError, not_implemented
from ._query import Filter, NodeParams
from ._read import body_mode, explain
from ._request import Media, ParsedQuery, negotiate, parse_body, parse_query
from ._schema_cache import Relation
from ._sql import BodyMode, Builder, ReadNode, qualified
from ._sql_read import node_sql
from ._sql_write import (
    Conflict,
    delete_sql,
    insert_sql,
    returning_sql,
    update_sql,
    wrap_mutation,
)
from ._transaction import Rows, Statement, run_transaction

__all__ = ["insert", "put", "update_or_delete"]

ReturnKind = Literal["all", "pk", "none"]


def _unknown_column(relation: Relation, column: str) -> ApiError:
    return ApiError(
        400,
        "PGRST204",
        f"Could not find the '{column}' column of '{relation.name}' in the schema cache",
    )


def _payload_columns(relation: Relation, pq: ParsedQuery, rows: list[dict[str, Any]]) -> list[str]:
    """The columns written: ``columns=``, else the payload's keys (the same in every row)."""
    if pq.columns is not None:
        columns = pq.columns
    else:
        columns = list(rows[0]) if rows else []
        first = set(columns)
        if any(set(r) != first for r in rows[1:]):
            raise ApiError(400, "PGRST102", "All object keys must match")
    for c in columns:
        if c not in relation.columns:
            raise _unknown_column(relation, c)
    return columns


def _returning(
    ctx: Ctx, relation: Relation, b: Builder, pq: ParsedQuery, root: NodeParams
) -> tuple[str, str | None, ReturnKind]:
    """The RETURNING clause and, for ``return=representation``, the read over its rows.

    ``root`` holds the top-level parameters that apply to the representation (for POST
    its filters; PATCH/DELETE filters already chose the rows).
    """
    ret = ctx.prefs.return_
    if ret == "representation":
        pq.by_path[()] = root
        source = "pgrst_source"
        node = build_node(b, ctx, relation.name, relation, source, pq.select, pq)
        return returning_sql(relation.name, "all"), node_sql(b, node), "all"
    if ret == "headers-only" and relation.pk and ctx.method == "POST":
        return returning_sql(relation.name, relation.pk), None, "pk"
    return returning_sql(relation.name, "none"), None, "none"


def _split_root(pq: ParsedQuery) -> NodeParams:
    """Take the top-level node parameters out of the parsed query."""
    return pq.by_path.pop((), NodeParams())


def _conflict(ctx: Ctx, relation: Relation, pq: ParsedQuery) -> Conflict | None:
    """``Prefer: resolution=``: an upsert on ``on_conflict=`` (else the primary key)."""
    prefs = ctx.prefs
    if prefs.resolution is None:
        return None
    targets = pq.on_conflict or list(relation.pk)
    for c in targets:
        if c not in relation.columns:
            raise _unknown_column(relation, c)
    ctx.resolution_applies = bool(targets)
    return ("merge" if prefs.resolution == "merge-duplicates" else "ignore"), targets


def _payload_rows(value: Any) -> tuple[list[dict[str, Any]], bool]:
    if isinstance(value, dict):
        return [value], False
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return value, True
    raise ApiError(400, "PGRST102", "Empty or invalid json")


async def insert(ctx: Ctx, relation: Relation) -> Response:
    """``POST /<table>``: insert or upsert an object or an array of objects."""
    ctx.kind = "insert"
    media = negotiate(ctx.request.headers.get("accept"), ctx.config.plan_enabled)
    raw = await ctx.request.body()
    body_text, value = parse_body(raw, ctx.request.headers.get("content-type"))
    rows, is_array = _payload_rows(value)
    pq = parse_query(ctx.params)
    root = _split_root(pq)
    root.limit = root.offset = None
    columns = _payload_columns(relation, pq, rows)
    row_keys = [set(r) & set(columns) for r in rows] if ctx.prefs.missing == "default" else None
    conflict = _conflict(ctx, relation, pq)
    b = Builder()
    returning, read_sql, ret_kind = _returning(ctx, relation, b, pq, root)
    if is_array and not rows:
        mutation: str = f"SELECT * FROM {qualified(relation.schema, relation.name)} WHERE FALSE"
        if ret_kind == "none":
            mutation = "SELECT 1 WHERE FALSE"
    else:
        mutation = insert_sql(
            b, relation, body_text, is_array, columns, row_keys, conflict, returning
        )
    if ret_kind == "pk":
        read_sql = "SELECT * FROM pgrst_source"
    return await _run_mutation(ctx, media, b, mutation, read_sql, relation, ret_kind)


def _location(relation: Relation, body: str) -> str:
    """``Location`` of the one row created: its primary key as filters."""
    first = json.loads(body)[0]
    query = "&".join(
        f"{quote(k, safe='')}="
        + ("is.null" if first[k] is None else "eq." + quote(plain(first[k]), safe=""))
        for k in relation.pk
    )
    return f"/{relation.name}?{query}"


def _status(ctx: Ctx, inserted: int | None) -> int:
    """201 when a row was created, 200 when every row of an upsert or PUT was merged."""
    if ctx.kind == "insert":
        merged_only = (
            ctx.prefs.resolution == "merge-duplicates" and inserted is not None and inserted <= 0
        )
        return 200 if merged_only else 201
    if ctx.kind == "put":
        return 201 if inserted is not None and inserted > 0 else 200
    return 200


async def _run_mutation(
    ctx: Ctx,
    media: Media,
    b: Builder,
    mutation: str,
    read_sql: str | None,
    relation: Relation,
    ret_kind: ReturnKind,
) -> Response:
    mode: BodyMode = body_mode(media) if ret_kind == "all" else "json"
    stmt = wrap_mutation(mutation, read_sql, mode)
    if media.kind == "plan":
        return await explain(ctx, media, b, stmt, False)
    check_affected = ctx.method in ("PATCH", "DELETE")

    def check(rows: list[Rows]) -> None:
        n = int(rows[0][0][0])
        if media.kind == "object" and n != 1:
            raise singular_error(n)
        if check_affected:
            check_max_affected(ctx, n)

    main = Statement(stmt, b.params, response_gucs=True)
    checked = media.kind == "object" or (check_affected and strict_max_affected(ctx))
    (rows,) = await run_transaction(ctx, False, [main], check=check if checked else None)
    n, body, inserted = int(rows[0][0]), rows[0][1], rows[0][2]
    total_text = str(n) if ctx.prefs.count else "*"
    if ctx.kind == "update":
        ctx.headers["Content-Range"] = f"{f'0-{n - 1}' if n > 0 else '*'}/{total_text}"
    elif ctx.kind != "put":
        ctx.headers["Content-Range"] = f"*/{total_text}"
    if ret_kind == "pk" and body and n == 1:
        ctx.headers["Location"] = _location(relation, body)
    status = _status(ctx, inserted)
    if ret_kind != "all":
        return finish(ctx, status if ctx.kind == "insert" else 204, None, None)
    if body is not None and media.kind == "object":
        body = body[1:-1]
    return finish(ctx, status, body, media.content_type)


async def update_or_delete(ctx: Ctx, relation: Relation) -> Response:
    """``PATCH`` / ``DELETE /<table>`` of the rows the filters select."""
    ctx.kind = "update" if ctx.method == "PATCH" else "delete"
    media = negotiate(ctx.request.headers.get("accept"), ctx.config.plan_enabled)
    pq = parse_query(ctx.params)
    root = _split_root(pq)
    if root.limit is not None or root.offset is not None:
        raise not_implemented("limit/offset on PATCH and DELETE (limited updates/deletes)")
    b = Builder()
    table = qualified(relation.schema, relation.name)
    write_node = ReadNode(ctx.schema, relation.name, relation, table, relation.name, [], root)
    columns: list[str] = []
    body_text = "{}"
    if ctx.method == "PATCH":
        raw = await ctx.request.body()
        body_text, value = parse_body(raw, ctx.request.headers.get("content-type"))
        if not isinstance(value, dict):
            raise ApiError(400, "PGRST102", "Empty or invalid json")
        columns = _payload_columns(relation, pq, [value])
    returning, read_sql, ret_kind = _returning(ctx, relation, b, pq, NodeParams())
    if ctx.method == "DELETE":
        mutation = delete_sql(b, write_node, relation, returning)
    elif columns:
        mutation = update_sql(b, write_node, relation, body_text, columns, returning)
    else:
        mutation = f"SELECT * FROM {table} WHERE FALSE"
    return await _run_mutation(ctx, media, b, mutation, read_sql, relation, ret_kind)


def _put_key(relation: Relation, root: NodeParams) -> dict[str, str]:
    """The primary key PUT names with ``eq`` filters (all and only its columns: PGRST105)."""
    pk_values: dict[str, str] = {}
    for cond in root.conditions:
        if (
            not isinstance(cond, Filter)
            or cond.op != "eq"
            or cond.negated
            or cond.modifier
            or cond.field.json_path
            or not isinstance(cond.value, str)
        ):
            pk_values = {}
            break
        pk_values[cond.field.name] = cond.value
    if (
        not relation.pk
        or set(pk_values) != set(relation.pk)
        or len(root.conditions) != len(relation.pk)
    ):
        raise ApiError(
            405,
            "PGRST105",
            "Filters must include all and only primary key columns with 'eq' operators",
        )
    return pk_values


async def put(ctx: Ctx, relation: Relation) -> Response:
    """``PUT /<table>?pk=eq.x``: insert or replace one row by its full primary key."""
    ctx.kind = "put"
    media = negotiate(ctx.request.headers.get("accept"), ctx.config.plan_enabled)
    pq = parse_query(ctx.params)
    root = _split_root(pq)
    if root.limit is not None or root.offset is not None:
        raise ApiError(
            400, "PGRST114", "limit/offset querystring parameters are not allowed for PUT"
        )
    pk_values = _put_key(relation, root)
    raw = await ctx.request.body()
    body_text, value = parse_body(raw, ctx.request.headers.get("content-type"))
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
        body_text = json.dumps(value, default=str)
    if not isinstance(value, dict):
        raise ApiError(400, "PGRST102", "Empty or invalid json")
    for k, v in pk_values.items():
        if k not in value or plain(value[k]) != v:
            raise ApiError(
                400, "PGRST115", "Payload values do not match URL in primary key column(s)"
            )
    columns = _payload_columns(relation, pq, [value])
    b = Builder()
    returning, read_sql, ret_kind = _returning(ctx, relation, b, pq, NodeParams())
    mutation = insert_sql(
        b, relation, body_text, False, columns, None, ("merge", list(relation.pk)), returning
    )
    return await _run_mutation(ctx, media, b, mutation, read_sql, relation, ret_kind)
