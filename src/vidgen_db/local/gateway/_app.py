"""The Starlette application: authentication, routing and one transaction per request."""

from __future__ import annotations

import asyncio
import difflib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

import psycopg
from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._postgrest import PRELUDE, prelude_params, quote_search_path
from ._config import GatewayConfig
from ._errors import ApiError, from_pg_error, not_implemented
from ._jwt import decode_jwt
from ._query import (
    Filter,
    NodeParams,
    SelectItem,
    StarItem,
    has_aggregates,
    parse_columns,
)
from ._request import (
    Media,
    ParsedQuery,
    Preferences,
    compute_range,
    negotiate,
    parse_body,
    parse_preferences,
    parse_query,
    parse_range_header,
)
from ._rpc import RAW_BODY_TYPES, find_function, find_raw_function, is_rpc_argument
from ._schema_cache import Column, Function, Relation, SchemaCache, load_schema_cache
from ._sqlbuild import (
    BodyMode,
    Builder,
    ReadNode,
    build_read_node,
    delete_sql,
    insert_sql,
    node_sql,
    qualified,
    returning_sql,
    rpc_call_sql,
    update_sql,
    wrap_mutation,
    wrap_read,
)

__all__ = ["Gateway", "create_app"]

T = TypeVar("T")
_METHODS = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"]
_EXPOSED_HEADERS = (
    "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, "
    "Transfer-Encoding, Range-Unit"
)


@dataclass
class _Ctx:
    """What one request carries through its handler."""

    request: Request
    method: str
    schema: str
    role: str
    claims: dict[str, Any]
    authenticated: bool
    prefs: Preferences
    params: list[tuple[str, str]]
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    kind: Literal["read", "insert", "update", "delete", "put", "rpc"] = "read"
    resolution_applies: bool = False
    timezone_applied: bool = False
    tx_override: bool = False


@dataclass
class _Result:
    page_total: int
    body: str | None
    total: int | None = None
    inserted: int | None = None


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),  # compact, like PostgREST's encoder
        status_code=status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


def error_response(err: ApiError) -> Response:
    """PostgREST's error response."""
    headers = dict(err.headers)
    if err.code:
        headers["Proxy-Status"] = f"PostgREST; error={err.code}"
    return _json_response(err.status, err.body(), headers)


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


class Gateway:
    """The state behind the ASGI app: configuration, connection pool and schema cache."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._cache: SchemaCache | None = None
        self._lock: asyncio.Lock | None = None
        self._listener: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Open the connection pool and load the schema cache (idempotent)."""
        if self._pool is not None and self._cache is not None:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._pool is None:
                pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
                    self.config.db_url,
                    min_size=self.config.pool_min_size,
                    max_size=self.config.pool_max_size,
                    timeout=self.config.pool_timeout,
                    kwargs={"autocommit": True, "prepare_threshold": None},
                    check=AsyncConnectionPool.check_connection,
                    open=False,
                )
                try:
                    await pool.open(wait=True, timeout=self.config.pool_timeout)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
            if self._cache is None:
                await self._load_cache()
            if self.config.db_channel and self._listener is None:
                listening = asyncio.Event()
                self._listener = asyncio.create_task(
                    self._listen(listening), name="vidgen-db-gateway-listen"
                )
                with suppress(TimeoutError):
                    await asyncio.wait_for(listening.wait(), self.config.pool_timeout)

    async def close(self) -> None:
        """Stop listening and close the pool."""
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._listener
        self._listener = None
        if self._pool is not None:
            await self._pool.close()
        self._pool = None
        self._cache = None

    async def _listen(self, listening: asyncio.Event) -> None:
        """Reload the schema cache on ``NOTIFY <db_channel>, 'reload schema'`` (PostgREST's way)."""
        channel = self.config.db_channel
        assert channel is not None
        while True:
            try:
                conn = await AsyncConnection.connect(self.config.db_url, autocommit=True)
                async with conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    listening.set()
                    async for note in conn.notifies():
                        if note.payload in ("", "reload schema"):
                            await self._load_cache()
            except asyncio.CancelledError:
                raise
            except Exception:  # connection lost: retry, like PostgREST's listener
                await asyncio.sleep(1.0)

    async def reload_schema(self) -> None:
        """Re-read the catalog (after migrations), like PostgREST's schema cache reload."""
        if self._pool is None:
            await self.open()
        else:
            await self._load_cache()

    async def _load_cache(self) -> None:
        assert self._pool is not None
        async with self._pool.connection() as conn:
            self._cache = await load_schema_cache(conn, self.config.schemas)

    @property
    def schema_cache(self) -> SchemaCache:
        if self._cache is None:
            raise ApiError(
                503, "PGRST002", "Could not query the database for the schema cache. Retrying."
            )
        return self._cache

    # -- request entry ----------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """Serve one request (with PostgREST's CORS policy when an ``Origin`` is sent)."""
        origin = request.headers.get("origin")
        if origin is None:
            return await self._handle_safely(request)
        allowed = self.config.cors_allowed_origins
        allow_origin = "*" if allowed is None else (origin if origin in allowed else None)
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            if allow_origin is None:
                return Response(None, 200)
            requested = request.headers.get("access-control-request-headers", "")
            allow_headers = ", ".join(
                ["Authorization", *(h.strip() for h in requested.split(",") if h.strip())]
            )
            return Response(
                None,
                200,
                headers={
                    "Access-Control-Allow-Origin": allow_origin,
                    "Access-Control-Allow-Methods": "GET, POST, PATCH, PUT, DELETE, OPTIONS",
                    "Access-Control-Allow-Headers": allow_headers,
                    "Access-Control-Max-Age": "86400",
                },
            )
        response = await self._handle_safely(request)
        if allow_origin is not None:
            response.headers["Access-Control-Allow-Origin"] = allow_origin
            response.headers["Access-Control-Expose-Headers"] = _EXPOSED_HEADERS
        return response

    async def _handle_safely(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except ApiError as err:
            return error_response(err)
        except PoolTimeout:
            return error_response(
                ApiError(504, "PGRST003", "Timed out acquiring connection from connection pool.")
            )
        except psycopg.OperationalError as err:
            return error_response(
                ApiError(
                    503, "PGRST000", "Database connection error. Retrying the connection.", str(err)
                )
            )
        except Exception as err:  # a gateway bug: answer in PostgREST's shape, not a bare 500
            return error_response(
                ApiError(500, "PGRSTX00", "Internal gateway error", f"{type(err).__name__}: {err}")
            )

    async def _handle(self, request: Request) -> Response:
        cfg = self.config
        path = request.url.path
        if not (path == cfg.path_prefix or path.startswith(cfg.path_prefix + "/")):
            raise ApiError(404, "PGRST125", "Invalid path specified in request URL")
        rest = path[len(cfg.path_prefix) :].strip("/")
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "apikey"]
        self._check_apikey(request)
        method = request.method.upper()
        role, claims, authenticated = self._authenticate(request)
        try:
            await self.open()
        except (PoolTimeout, psycopg.OperationalError) as err:
            raise ApiError(
                503,
                "PGRST002",
                "Could not query the database for the schema cache. Retrying.",
                str(err) or None,
            ) from None
        segments = [s for s in rest.split("/") if s] if rest else []
        schema = self._schema_for(request, method)
        prefs = parse_preferences(request.headers.getlist("prefer"))
        ctx = _Ctx(request, method, schema, role, claims, authenticated, prefs, params)
        if len(cfg.schemas) > 1:
            ctx.headers["Content-Profile"] = schema
        if not segments:
            raise ApiError(404, "PGRST126", "Root endpoint metadata is disabled")
        if segments[0] == "rpc" and len(segments) == 2:
            return await self._rpc(ctx, segments[1])
        if len(segments) != 1:
            raise ApiError(404, "PGRST125", "Invalid path specified in request URL")
        return await self._relation_request(ctx, segments[0])

    def _check_apikey(self, request: Request) -> None:
        if not self.config.require_apikey:
            return
        key = request.headers.get("apikey") or request.query_params.get("apikey")
        if not key:
            message = "No API key found in request"
            hint = "No `apikey` request header or url param was found."
        elif self.config.api_keys is not None and key not in self.config.api_keys:
            message = "Invalid API key"
            hint = "Double check your Supabase `anon` or `service_role` API key."
        else:
            return
        raise ApiError(401, "", message, raw_body={"message": message, "hint": hint})

    def _authenticate(self, request: Request) -> tuple[str, dict[str, Any], bool]:
        cfg = self.config
        header = request.headers.get("authorization")
        token: str | None = None
        if header is not None:
            scheme, _, value = header.strip().partition(" ")
            if scheme.lower() == "bearer":
                token = value.strip()
        if token is None:
            if cfg.anon_role is None:
                raise ApiError(
                    401,
                    "PGRST302",
                    "Anonymous access is disabled",
                    None,
                    None,
                    {"WWW-Authenticate": "Bearer"},
                )
            return cfg.anon_role, {"role": cfg.anon_role}, False
        if not cfg.jwt_secret:
            raise ApiError(500, "PGRST300", "Server lacks JWT secret")
        claims = decode_jwt(token, cfg.jwt_secret, audience=cfg.jwt_aud)
        role = _claim(claims, cfg.jwt_role_claim_key)
        if role is None:
            if cfg.anon_role is None:
                raise ApiError(
                    401,
                    "PGRST302",
                    "Anonymous access is disabled",
                    None,
                    None,
                    {"WWW-Authenticate": "Bearer"},
                )
            role = cfg.anon_role
        return str(role), claims, True

    def _schema_for(self, request: Request, method: str) -> str:
        header = "accept-profile" if method in ("GET", "HEAD") else "content-profile"
        wanted = request.headers.get(header)
        if wanted is None:
            return self.config.schemas[0]
        if wanted not in self.config.schemas:
            raise ApiError(
                406,
                "PGRST106",
                f"Invalid schema: {wanted}",
                None,
                "Only the following schemas are exposed: " + ", ".join(self.config.schemas),
            )
        return wanted

    # -- transactions -----------------------------------------------------------------------

    async def _transaction(
        self,
        ctx: _Ctx,
        read_only: bool,
        work: Callable[[AsyncConnection[Any]], Awaitable[T]],
        *,
        force_rollback: bool = False,
    ) -> T:
        assert self._pool is not None
        cfg = self.config
        rollback = force_rollback or cfg.tx_end.startswith("rollback")
        if cfg.tx_end.endswith("allow-override") and ctx.prefs.tx is not None:
            rollback = force_rollback or ctx.prefs.tx == "rollback"
            ctx.tx_override = True
        request = ctx.request
        gucs = prelude_params(
            ctx.role,
            ctx.claims,
            search_path=quote_search_path((ctx.schema, *cfg.extra_search_path)),
            method=ctx.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            cookies=request.cookies,
        )
        mode = "READ ONLY" if read_only else "READ WRITE"
        async with self._pool.connection() as conn:
            await conn.execute(f"BEGIN ISOLATION LEVEL READ COMMITTED, {mode}")
            try:
                await conn.execute(PRELUDE, gucs)
                settings = self.schema_cache.role_settings.get(ctx.role)
                if settings:  # the impersonated role's own settings, as PostgREST applies them
                    calls = ", ".join(["set_config(%s, %s, true)"] * len(settings))
                    values = [x for item in settings.items() for x in item]
                    await conn.execute(f"SELECT {calls}", values)
                tz = ctx.prefs.timezone
                if tz is not None and tz in self.schema_cache.timezones:
                    await conn.execute("SELECT set_config('timezone', %s, true)", [tz])
                    ctx.timezone_applied = True
                if cfg.pre_request:
                    schema_name, _, fn_name = cfg.pre_request.rpartition(".")
                    target = (
                        qualified(schema_name, fn_name) if schema_name else sql.Identifier(fn_name)
                    )
                    await conn.execute(sql.SQL("SELECT {}()").format(target), [])
                result = await work(conn)
                await self._response_gucs(conn, ctx)
                await conn.execute("ROLLBACK" if rollback else "COMMIT")
                return result
            except psycopg.Error as err:
                await _safe_rollback(conn)
                raise from_pg_error(err, ctx.authenticated) from None
            except BaseException:
                await _safe_rollback(conn)
                raise

    async def _response_gucs(self, conn: AsyncConnection[Any], ctx: _Ctx) -> None:
        cur = await conn.execute(
            "SELECT current_setting('response.headers', true), "
            "current_setting('response.status', true)"
        )
        row = await cur.fetchone()
        if row is None:
            return
        headers_text, status_text = row
        if headers_text:
            try:
                items = json.loads(headers_text)
                if not isinstance(items, list):
                    raise ValueError
                for item in items:
                    if not isinstance(item, dict) or len(item) != 1:
                        raise ValueError
                    ((key, value),) = item.items()
                    if not isinstance(value, str):
                        raise ValueError
                    ctx.headers[str(key)] = value
            except ValueError:
                raise ApiError(
                    500,
                    "PGRST111",
                    "response.headers guc must be a JSON array composed of objects with a "
                    "single key and a string value",
                ) from None
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

    # -- helpers ----------------------------------------------------------------------------

    def _relation(self, schema: str, name: str) -> Relation:
        rel = self.schema_cache.relation(schema, name)
        if rel is None:
            names = [n for (s, n) in self.schema_cache.relations if s == schema]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
            raise ApiError(
                404,
                "PGRST205",
                f"Could not find the table '{schema}.{name}' in the schema cache",
                None,
                f"Perhaps you meant the table '{schema}.{close[0]}'" if close else None,
            )
        return rel

    def _build_node(
        self,
        b: Builder,
        ctx: _Ctx,
        name: str,
        relation: Relation | None,
        from_sql: sql.Composable,
        items: list[SelectItem],
        pq: ParsedQuery,
    ) -> ReadNode:
        if not self.config.aggregates_enabled and has_aggregates(items):
            raise ApiError(400, "PGRST123", "Use of aggregate functions is not allowed")
        node = build_read_node(
            b, self.schema_cache, ctx.schema, name, relation, from_sql, name, items, pq.by_path
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

    def _finish(
        self, ctx: _Ctx, status: int, body: str | None, content_type: str | None
    ) -> Response:
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

    async def _count(
        self, conn: AsyncConnection[Any], b: Builder, count_sql: sql.Composable, how: str
    ) -> int:
        exact_sql = sql.SQL("SELECT count(*) FROM ({}) AS pgrst_count").format(count_sql)
        if how == "exact" or (how == "estimated" and self.config.max_rows is None):
            cur = await conn.execute(exact_sql, b.params)
            row = await cur.fetchone()
            return int(row[0]) if row else 0
        if how == "estimated":
            cur = await conn.execute(exact_sql, b.params)
            row = await cur.fetchone()
            exact = int(row[0]) if row else 0
            assert self.config.max_rows is not None
            if exact <= self.config.max_rows:
                return exact
        cur = await conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(count_sql), b.params)
        row = await cur.fetchone()
        plan = row[0] if row else None
        if isinstance(plan, str):
            plan = json.loads(plan)
        try:
            return int(plan[0]["Plan"]["Plan Rows"])  # type: ignore[index]
        except (TypeError, KeyError, IndexError):
            return 0

    async def _explain(
        self, ctx: _Ctx, media: Media, b: Builder, stmt: sql.Composed, read_only: bool
    ) -> Response:
        opts = ["FORMAT " + media.plan_format.upper()]
        known = {"analyze", "verbose", "settings", "buffers", "wal"}
        for o in media.plan_options:
            if o not in known:
                raise ApiError(
                    406,
                    "PGRST107",
                    f"None of these media types are available: {media.content_type}",
                )
            opts.append(o.upper())
        explain = sql.SQL("EXPLAIN ({}) {}").format(sql.SQL(", ").join(map(sql.SQL, opts)), stmt)

        async def work(conn: AsyncConnection[Any]) -> str:
            cur = await conn.execute(explain, b.params)
            rows = await cur.fetchall()
            if media.plan_format == "json":
                value = rows[0][0]
                return value if isinstance(value, str) else json.dumps(value)
            return "\n".join(str(r[0]) for r in rows)

        body = await self._transaction(ctx, read_only, work, force_rollback=True)
        return self._finish(ctx, 200, body, media.content_type)

    # -- tables and views -------------------------------------------------------------------

    async def _relation_request(self, ctx: _Ctx, name: str) -> Response:
        relation = self._relation(ctx.schema, name)
        method = ctx.method
        if method in ("GET", "HEAD"):
            return await self._read(ctx, relation)
        if method == "POST":
            return await self._insert(ctx, relation)
        if method in ("PATCH", "DELETE"):
            return await self._update_or_delete(ctx, relation)
        if method == "PUT":
            return await self._put(ctx, relation)
        if method == "OPTIONS":
            return Response(None, 200, headers={"Allow": "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"})
        raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")

    def _body_mode(self, media: Media) -> BodyMode:
        if media.kind == "csv":
            return "csv"
        return "stripped" if media.strip_nulls else "json"

    async def _read(self, ctx: _Ctx, relation: Relation) -> Response:
        media = negotiate(ctx.request.headers.get("accept"), self.config.plan_enabled)
        pq = parse_query(ctx.params)
        b = Builder()
        node = self._build_node(
            b,
            ctx,
            relation.name,
            relation,
            qualified(relation.schema, relation.name),
            pq.select,
            pq,
        )
        canonical = urlencode(sorted(ctx.params, key=lambda kv: kv[0]))
        ctx.headers["Content-Location"] = f"/{relation.name}" + (
            f"?{canonical}" if canonical else ""
        )
        return await self._run_read(ctx, media, b, node, read_only=True, body_mode=None)

    async def _run_read(
        self,
        ctx: _Ctx,
        media: Media,
        b: Builder,
        node: ReadNode,
        *,
        read_only: bool,
        body_mode: BodyMode | None,
        singular_body: bool = False,
        max_affected_check: bool = False,
    ) -> Response:
        header_range = parse_range_header(ctx.request.headers.get("range"))
        offset, limit = compute_range(
            header_range, node.params.limit, node.params.offset, self.config.max_rows
        )
        mode = body_mode or self._body_mode(media)
        names = [node.name] if mode == "scalar" else None
        stmt = wrap_read(node_sql(b, node, limit=limit, offset=offset), mode, names)
        if media.kind == "plan":
            return await self._explain(ctx, media, b, stmt, read_only)
        count_how = ctx.prefs.count
        count_sql = node_sql(b, node, for_count=True) if count_how else None

        async def work(conn: AsyncConnection[Any]) -> _Result:
            cur = await conn.execute(stmt, b.params)
            row = await cur.fetchone()
            assert row is not None
            result = _Result(int(row[0]), row[1])
            if count_sql is not None and count_how is not None:
                result.total = await self._count(conn, b, count_sql, count_how)
            if media.kind == "object" and result.page_total != 1:
                raise _singular_error(result.page_total)
            if max_affected_check:
                self._check_max_affected(ctx, result.page_total)
            return result

        result = await self._transaction(ctx, read_only, work)
        lower = offset
        upper = lower + result.page_total - 1
        total = result.total
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
        body = result.body
        if body is not None and (media.kind == "object" or singular_body):
            body = body[1:-1]
        return self._finish(ctx, status, body, media.content_type)

    def _check_max_affected(self, ctx: _Ctx, affected: int) -> None:
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

    # -- writes -----------------------------------------------------------------------------

    def _payload_columns(
        self, relation: Relation, pq: ParsedQuery, rows: list[dict[str, Any]]
    ) -> list[str]:
        if pq.columns is not None:
            columns = pq.columns
        else:
            columns = list(rows[0]) if rows else []
            first = set(columns)
            if any(set(r) != first for r in rows[1:]):
                raise ApiError(400, "PGRST102", "All object keys must match")
        for c in columns:
            if c not in relation.columns:
                raise ApiError(
                    400,
                    "PGRST204",
                    f"Could not find the '{c}' column of '{relation.name}' in the schema cache",
                )
        return columns

    def _returning(
        self, ctx: _Ctx, relation: Relation, b: Builder, pq: ParsedQuery, root: NodeParams
    ) -> tuple[sql.Composable, sql.Composable | None, Literal["all", "pk", "none"]]:
        """The RETURNING clause and, for ``return=representation``, the read over its rows.

        ``root`` holds the top-level parameters that apply to the representation (for POST
        its filters; PATCH/DELETE filters already chose the rows).
        """
        ret = ctx.prefs.return_
        if ret == "representation":
            pq.by_path[()] = root
            node = self._build_node(
                b, ctx, relation.name, relation, sql.SQL("pgrst_source"), pq.select, pq
            )
            return returning_sql(relation.name, "all"), node_sql(b, node), "all"
        if ret == "headers-only" and relation.pk and ctx.method == "POST":
            return returning_sql(relation.name, relation.pk), None, "pk"
        return returning_sql(relation.name, "none"), None, "none"

    @staticmethod
    def _split_root(pq: ParsedQuery) -> NodeParams:
        """Take the top-level node parameters out of the parsed query."""
        return pq.by_path.pop((), NodeParams())

    async def _insert(self, ctx: _Ctx, relation: Relation) -> Response:
        ctx.kind = "insert"
        media = negotiate(ctx.request.headers.get("accept"), self.config.plan_enabled)
        raw = await ctx.request.body()
        body_text, value = parse_body(raw, ctx.request.headers.get("content-type"))
        if isinstance(value, dict):
            rows, is_array = [value], False
        elif isinstance(value, list) and all(isinstance(v, dict) for v in value):
            rows, is_array = value, True
        else:
            raise ApiError(400, "PGRST102", "Empty or invalid json")
        pq = parse_query(ctx.params)
        root = self._split_root(pq)
        root.limit = root.offset = None
        columns = self._payload_columns(relation, pq, rows)
        prefs = ctx.prefs
        row_keys: list[set[str]] | None = None
        if prefs.missing == "default":
            row_keys = [set(r) & set(columns) for r in rows]
        conflict: tuple[Literal["merge", "ignore"], list[str]] | None = None
        if prefs.resolution is not None:
            targets = pq.on_conflict or list(relation.pk)
            for c in targets:
                if c not in relation.columns:
                    raise ApiError(
                        400,
                        "PGRST204",
                        f"Could not find the '{c}' column of '{relation.name}' in the schema cache",
                    )
            kind: Literal["merge", "ignore"] = (
                "merge" if prefs.resolution == "merge-duplicates" else "ignore"
            )
            conflict = (kind, targets)
            ctx.resolution_applies = bool(targets)
        b = Builder()
        returning, read_sql, ret_kind = self._returning(ctx, relation, b, pq, root)
        if is_array and not rows:
            mutation: sql.Composable = sql.SQL("SELECT * FROM {} WHERE FALSE").format(
                qualified(relation.schema, relation.name)
            )
            if ret_kind == "none":
                mutation = sql.SQL("SELECT 1 WHERE FALSE")
        else:
            mutation = insert_sql(
                b, relation, body_text, is_array, columns, row_keys, conflict, returning
            )
        if ret_kind == "pk":
            read_sql = sql.SQL("SELECT * FROM pgrst_source")
        return await self._run_mutation(ctx, media, b, mutation, read_sql, relation, ret_kind)

    async def _run_mutation(
        self,
        ctx: _Ctx,
        media: Media,
        b: Builder,
        mutation: sql.Composable,
        read_sql: sql.Composable | None,
        relation: Relation,
        ret_kind: Literal["all", "pk", "none"],
    ) -> Response:
        mode: BodyMode = self._body_mode(media) if ret_kind == "all" else "json"
        stmt = wrap_mutation(mutation, read_sql, mode)
        if media.kind == "plan":
            return await self._explain(ctx, media, b, stmt, False)
        check_affected = ctx.method in ("PATCH", "DELETE")

        async def work(conn: AsyncConnection[Any]) -> _Result:
            cur = await conn.execute(stmt, b.params)
            row = await cur.fetchone()
            assert row is not None
            result = _Result(int(row[0]), row[1], None, row[2])
            if media.kind == "object" and result.page_total != 1:
                raise _singular_error(result.page_total)
            if check_affected:
                self._check_max_affected(ctx, result.page_total)
            return result

        result = await self._transaction(ctx, False, work)
        n = result.page_total
        total = n if ctx.prefs.count else None
        total_text = "*" if total is None else str(total)
        if ctx.kind == "update":
            ctx.headers["Content-Range"] = f"{f'0-{n - 1}' if n > 0 else '*'}/{total_text}"
        elif ctx.kind != "put":
            ctx.headers["Content-Range"] = f"*/{total_text}"
        if ret_kind == "pk" and result.body and n == 1:
            first = json.loads(result.body)[0]
            query = "&".join(
                f"{quote(k, safe='')}="
                + ("is.null" if first[k] is None else "eq." + quote(_plain(first[k]), safe=""))
                for k in relation.pk
            )
            ctx.headers["Location"] = f"/{relation.name}?{query}"
        inserted = result.inserted
        if ctx.kind == "insert":
            merged_only = (
                ctx.prefs.resolution == "merge-duplicates"
                and inserted is not None
                and inserted <= 0
            )
            status = 200 if merged_only else 201
        elif ctx.kind == "put":
            status = 201 if inserted is not None and inserted > 0 else 200
        else:
            status = 200
        if ret_kind != "all":
            return self._finish(ctx, status if ctx.kind == "insert" else 204, None, None)
        body = result.body
        if body is not None and media.kind == "object":
            body = body[1:-1]
        return self._finish(ctx, status, body, media.content_type)

    async def _update_or_delete(self, ctx: _Ctx, relation: Relation) -> Response:
        ctx.kind = "update" if ctx.method == "PATCH" else "delete"
        media = negotiate(ctx.request.headers.get("accept"), self.config.plan_enabled)
        pq = parse_query(ctx.params)
        root = self._split_root(pq)
        if root.limit is not None or root.offset is not None:
            raise not_implemented("limit/offset on PATCH and DELETE (limited updates/deletes)")
        b = Builder()
        write_node = ReadNode(
            ctx.schema,
            relation.name,
            relation,
            qualified(relation.schema, relation.name),
            relation.name,
            [],
            root,
        )
        columns: list[str] = []
        body_text = "{}"
        if ctx.method == "PATCH":
            raw = await ctx.request.body()
            body_text, value = parse_body(raw, ctx.request.headers.get("content-type"))
            if not isinstance(value, dict):
                raise ApiError(400, "PGRST102", "Empty or invalid json")
            columns = self._payload_columns(relation, pq, [value])
        returning, read_sql, ret_kind = self._returning(ctx, relation, b, pq, NodeParams())
        if ctx.method == "DELETE":
            mutation = delete_sql(b, write_node, relation, returning)
        elif columns:
            mutation = update_sql(b, write_node, relation, body_text, columns, returning)
        else:
            mutation = sql.SQL("SELECT * FROM {} WHERE FALSE").format(
                qualified(relation.schema, relation.name)
            )
        return await self._run_mutation(ctx, media, b, mutation, read_sql, relation, ret_kind)

    async def _put(self, ctx: _Ctx, relation: Relation) -> Response:
        ctx.kind = "put"
        media = negotiate(ctx.request.headers.get("accept"), self.config.plan_enabled)
        pq = parse_query(ctx.params)
        root = self._split_root(pq)
        if root.limit is not None or root.offset is not None:
            raise ApiError(
                400, "PGRST114", "limit/offset querystring parameters are not allowed for PUT"
            )
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
        raw = await ctx.request.body()
        body_text, value = parse_body(raw, ctx.request.headers.get("content-type"))
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
            body_text = json.dumps(value, default=str)
        if not isinstance(value, dict):
            raise ApiError(400, "PGRST102", "Empty or invalid json")
        for k, v in pk_values.items():
            if k not in value or _plain(value[k]) != v:
                raise ApiError(
                    400, "PGRST115", "Payload values do not match URL in primary key column(s)"
                )
        columns = self._payload_columns(relation, pq, [value])
        b = Builder()
        returning, read_sql, ret_kind = self._returning(ctx, relation, b, pq, NodeParams())
        mutation = insert_sql(
            b, relation, body_text, False, columns, None, ("merge", list(relation.pk)), returning
        )
        return await self._run_mutation(ctx, media, b, mutation, read_sql, relation, ret_kind)

    # -- functions --------------------------------------------------------------------------

    async def _rpc(self, ctx: _Ctx, name: str) -> Response:
        method = ctx.method
        if method not in ("GET", "HEAD", "POST"):
            if method == "OPTIONS":
                return Response(None, 200, headers={"Allow": "OPTIONS,GET,HEAD,POST"})
            raise ApiError(405, "PGRST101", f"Cannot use the {method} method on RPC")
        ctx.kind = "rpc"
        is_post = method == "POST"
        args_json: str | None
        content_type = (ctx.request.headers.get("content-type") or "").split(";")[0].strip()
        raw_type = RAW_BODY_TYPES.get(content_type.lower()) if is_post else None
        raw_call: sql.Composable | None = None
        b = Builder()
        if raw_type is not None:
            raw = await ctx.request.body()
            fn = find_raw_function(self.schema_cache, ctx.schema, name, raw_type)
            value: Any = raw if raw_type == "bytea" else raw.decode("utf-8", errors="replace")
            raw_call = sql.SQL("{}({}::{})").format(
                qualified(fn.schema, fn.name), b.param(value), sql.SQL(raw_type)
            )
            args_json, used, single, rest = None, set(), True, ctx.params
        elif is_post:
            raw = await ctx.request.body()
            if raw.strip():
                args_json, value = parse_body(raw, ctx.request.headers.get("content-type"))
            else:
                args_json, value = "{}", {}
            keys = set(value) if isinstance(value, dict) else set()
            columns = next((v for k, v in ctx.params if k == "columns"), None)
            if columns is not None and isinstance(value, dict):
                keys = set(parse_columns(columns))
            fn, single = find_function(self.schema_cache, ctx.schema, name, keys, True)
            used = set() if single else keys
            if not single and not isinstance(value, dict):
                raise ApiError(400, "PGRST102", "Empty or invalid json")
            rest = ctx.params
        else:
            arg_items = [(k, v) for k, v in ctx.params if is_rpc_argument(k, v)]
            keys = {k for k, _ in arg_items}
            fn, single = find_function(self.schema_cache, ctx.schema, name, keys, False)
            used = keys
            args: dict[str, Any] = {}
            variadic = {p.name for p in fn.params if p.variadic}
            for k, v in arg_items:
                if k in variadic:
                    args.setdefault(k, []).append(v)
                else:
                    args[k] = v
            args_json = json.dumps(args)
            rest = [(k, v) for k, v in ctx.params if not is_rpc_argument(k, v)]
        read_only = not is_post or fn.read_only
        ctx.params = rest
        call = raw_call if raw_call is not None else rpc_call_sql(b, fn, args_json, used, single)
        media = negotiate(ctx.request.headers.get("accept"), self.config.plan_enabled)
        if fn.return_kind == "void":
            stmt = sql.SQL("SELECT 1::bigint, NULL::text FROM (SELECT {}) AS pgrst_call").format(
                call
            )
            if media.kind == "plan":
                return await self._explain(ctx, media, b, stmt, read_only)

            async def work(conn: AsyncConnection[Any]) -> None:
                await conn.execute(stmt, b.params)
                self._check_max_affected_rpc(ctx, fn, 0)

            await self._transaction(ctx, read_only, work)
            ctx.headers["Content-Range"] = "0-0/*"  # PostgREST counts the one (void) row
            return self._finish(ctx, 204, None, None)
        if fn.return_kind == "record":
            raise not_implemented(
                f"calling {fn.schema}.{fn.name}: functions returning an untyped record"
            )
        pq = parse_query(rest)
        relation: Relation | None = None
        if fn.return_relation is not None:
            relation = self.schema_cache.relation(*fn.return_relation)
        if fn.return_kind == "scalar":
            pseudo = Relation(
                fn.schema, fn.name, "f", {fn.name: Column(fn.name, fn.return_type, True, None)}
            )
            items: list[SelectItem] = [StarItem()]
            node = self._build_node(b, ctx, fn.name, pseudo, call, items, pq)
            node.relation = None
            mode: BodyMode | None = "scalar"
        else:
            if relation is None:
                relation = Relation(fn.schema, fn.name, "f", {c.name: c for c in fn.out_columns})
                can_embed = False
            else:
                can_embed = True
            node = self._build_node(
                b, ctx, fn.name, relation if can_embed else None, call, pq.select, pq
            )
            node.relation = relation
            mode = None
        strict_max = ctx.prefs.max_affected is not None and ctx.prefs.handling == "strict"
        if strict_max and not fn.returns_set:
            raise ApiError(
                400,
                "PGRST128",
                "Function must return SETOF or TABLE when max-affected preference is used "
                "with handling=strict",
            )
        singular = not fn.returns_set
        if singular and media.kind == "object":
            media = Media("json", media.content_type, media.strip_nulls)
        if fn.return_kind == "scalar" and media.kind == "csv":
            raise not_implemented("text/csv output of scalar functions")
        return await self._run_read(
            ctx,
            media,
            b,
            node,
            read_only=read_only,
            body_mode=mode,
            singular_body=singular,
            max_affected_check=True,
        )

    def _check_max_affected_rpc(self, ctx: _Ctx, fn: Function, affected: int) -> None:
        if ctx.prefs.max_affected is not None and ctx.prefs.handling == "strict":
            if not fn.returns_set:
                raise ApiError(
                    400,
                    "PGRST128",
                    "Function must return SETOF or TABLE when max-affected preference is used "
                    "with handling=strict",
                )
            self._check_max_affected(ctx, affected)


def _preference_applied(ctx: _Ctx) -> str:
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


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def _singular_error(n: int) -> ApiError:
    return ApiError(
        406,
        "PGRST116",
        "Cannot coerce the result to a single JSON object",
        f"The result contains {n} rows",
    )


async def _safe_rollback(conn: AsyncConnection[Any]) -> None:
    with suppress(psycopg.Error):
        await conn.execute("ROLLBACK")


def create_app(config: GatewayConfig) -> Starlette:
    """A PostgREST-compatible ASGI app; ``app.state.gateway`` is its :class:`Gateway`.

    The pool opens with the app's lifespan, or lazily on the first request when the server
    runs no lifespan (httpx's ASGITransport); call ``await app.state.gateway.close()`` then.
    """
    gateway = Gateway(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.open()
        try:
            yield
        finally:
            await gateway.close()

    app = Starlette(
        routes=[Route("/{path:path}", gateway.handle, methods=_METHODS)], lifespan=lifespan
    )
    app.state.gateway = gateway
    return app
