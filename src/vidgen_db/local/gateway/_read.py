"""Reads: ``GET``/``HEAD`` of tables and views, the result sets of functions, counts, ranges
and execution plans."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from ._context import (
    Ctx,
    build_node,
    check_max_affected,
    finish,
    singular_error,
    strict_max_affected,
)
from ._errors import ApiError
from ._request import Media, compute_range, negotiate, parse_query, parse_range_header
from ._schema_cache import Relation
from ._sql import BodyMode, Builder, ReadNode, qualified
from ._sql_read import node_sql, wrap_read
from ._transaction import Rows, Statement, run_transaction

__all__ = ["body_mode", "explain", "read", "run_read"]

_PLAN_OPTIONS = frozenset({"analyze", "verbose", "settings", "buffers", "wal"})


def body_mode(media: Media) -> BodyMode:
    """How the rows become the body: JSON (nulls stripped or not) or CSV."""
    if media.kind == "csv":
        return "csv"
    return "stripped" if media.strip_nulls else "json"


async def read(ctx: Ctx, relation: Relation) -> Response:
    """``GET``/``HEAD /<table or view>``."""
    media = negotiate(ctx.request.headers.get("accept"), ctx.config.plan_enabled)
    pq = parse_query(ctx.params)
    b = Builder()
    from_sql = qualified(relation.schema, relation.name)
    node = build_node(b, ctx, relation.name, relation, from_sql, pq.select, pq)
    canonical = urlencode(sorted(ctx.params, key=lambda kv: kv[0]))
    ctx.headers["Content-Location"] = f"/{relation.name}" + (f"?{canonical}" if canonical else "")
    return await run_read(ctx, media, b, node, read_only=True, mode=None)


@dataclass(frozen=True)
class _Count:
    """How ``Prefer: count=`` is answered: which statements, and how to read their rows."""

    how: str
    exact: Statement | None
    planned: Statement | None

    def statements(self) -> list[Statement]:
        return [s for s in (self.exact, self.planned) if s is not None]

    def total(self, rows: list[Rows], max_rows: int | None) -> int:
        """``exact`` counts, ``planned`` reads the plan's estimate, ``estimated`` counts up
        to ``db-max-rows`` and estimates above it."""
        exact = int(rows[0][0][0]) if self.exact is not None and rows[0] else None
        if exact is not None and (self.planned is None or max_rows is None or exact <= max_rows):
            return exact
        plan: Any = rows[-1][0][0] if rows[-1] else None
        if isinstance(plan, str):
            plan = json.loads(plan)
        try:
            return int(plan[0]["Plan"]["Plan Rows"])
        except (TypeError, KeyError, IndexError):
            return 0


def _count(ctx: Ctx, b: Builder, count_sql: str, how: str) -> _Count:
    exact_sql = f"SELECT count(*) FROM ({count_sql}) AS pgrst_count"
    max_rows = ctx.config.max_rows
    wants_exact = how in ("exact", "estimated")
    wants_plan = how == "planned" or (how == "estimated" and max_rows is not None)
    plan_sql = f"EXPLAIN (FORMAT JSON) {count_sql}"
    return _Count(
        how,
        Statement(exact_sql, b.params) if wants_exact else None,
        Statement(plan_sql, b.params, preparable=False) if wants_plan else None,
    )


async def run_read(
    ctx: Ctx,
    media: Media,
    b: Builder,
    node: ReadNode,
    *,
    read_only: bool,
    mode: BodyMode | None,
    singular_body: bool = False,
    max_affected_check: bool = False,
) -> Response:
    """Run a read (of a relation or of a function's result set) and answer it, with
    PostgREST's ranges, counts and singular responses."""
    header_range = parse_range_header(ctx.request.headers.get("range"))
    offset, limit = compute_range(
        header_range, node.params.limit, node.params.offset, ctx.config.max_rows
    )
    mode = mode or body_mode(media)
    names = [node.name] if mode == "scalar" else None
    stmt = wrap_read(node_sql(b, node, limit=limit, offset=offset), mode, names)
    if media.kind == "plan":
        return await explain(ctx, media, b, stmt, read_only)
    how = ctx.prefs.count
    count = _count(ctx, b, node_sql(b, node, for_count=True), how) if how else None

    def check(rows: list[Rows]) -> None:
        page_total = int(rows[0][0][0])
        if media.kind == "object" and page_total != 1:
            raise singular_error(page_total)
        if max_affected_check:
            check_max_affected(ctx, page_total)

    main = Statement(stmt, b.params, response_gucs=True)
    statements = [main, *(count.statements() if count else [])]
    checked = media.kind == "object" or (max_affected_check and strict_max_affected(ctx))
    rows = await run_transaction(ctx, read_only, statements, check=check if checked else None)
    page_total, body = int(rows[0][0][0]), rows[0][0][1]
    total = count.total(rows[1:], ctx.config.max_rows) if count else None
    status = _range_status(ctx, offset, page_total, total)
    if body is not None and (media.kind == "object" or singular_body):
        body = body[1:-1]
    return finish(ctx, status, body, media.content_type)


def _range_status(ctx: Ctx, lower: int, page_total: int, total: int | None) -> int:
    """Set ``Content-Range``; 206 for a partial page, 416 PGRST103 beyond the end."""
    upper = lower + page_total - 1
    status = 200
    if total is not None:
        if lower > total:
            raise ApiError(
                416,
                "PGRST103",
                "Requested range not satisfiable",
                f"An offset of {lower} was requested, but there are only {total} rows.",
                None,
                {"Content-Range": f"*/{total}"},
            )
        if (1 + upper - lower) < total:
            status = 206
    range_text = f"{lower}-{upper}" if (total != 0 and lower <= upper) else "*"
    ctx.headers["Content-Range"] = f"{range_text}/{'*' if total is None else total}"
    return status


async def explain(ctx: Ctx, media: Media, b: Builder, stmt: str, read_only: bool) -> Response:
    """``Accept: application/vnd.pgrst.plan``: the statement's plan, always rolled back."""
    opts = ["FORMAT " + media.plan_format.upper()]
    for o in media.plan_options:
        if o not in _PLAN_OPTIONS:
            raise ApiError(
                406,
                "PGRST107",
                f"None of these media types are available: {media.content_type}",
            )
        opts.append(o.upper())
    query = f"EXPLAIN ({', '.join(opts)}) {stmt}"
    plan = Statement(query, b.params, preparable=False)
    (rows,) = await run_transaction(ctx, read_only, [plan], force_rollback=True)
    if media.plan_format == "json":
        value = rows[0][0]
        body = value if isinstance(value, str) else json.dumps(value)
    else:
        body = "\n".join(str(r[0]) for r in rows)
    return finish(ctx, 200, body, media.content_type)
