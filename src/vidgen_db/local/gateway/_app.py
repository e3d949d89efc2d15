"""The Starlette application: the gateway's state (pool, schema cache, the listener that
reloads it), CORS, error mapping and routing; the handlers live in their own modules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._auth import authenticate, check_apikey, schema_for
from ._config import GatewayConfig
from ._context import Ctx, error_response, lookup_relation
from ._errors import ApiError
from ._listener import listen_for_reloads
from ._pool import Pool, PoolTimeout
from ._read import read
from ._request import parse_preferences
from ._rpc_call import rpc
from ._schema_cache import SchemaCache, load_schema_cache
from ._write import insert, put, update_or_delete

__all__ = ["Gateway", "create_app"]

_METHODS = ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"]
_EXPOSED_HEADERS = (
    "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, "
    "Transfer-Encoding, Range-Unit"
)


class Gateway:
    """The state behind the ASGI app: configuration, connection pool and schema cache."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self._pool: Pool | None = None
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
            pool = self._pool
            if pool is None:
                pool = Pool(
                    self.config.db_url,
                    min_size=self.config.pool_min_size,
                    max_size=self.config.pool_max_size,
                    timeout=self.config.pool_timeout,
                    prepare=self.config.prepared_statements,
                )
                try:
                    await pool.open()
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
            if self._cache is None:
                await self._load_cache()
            if self.config.db_channel and self._listener is None:
                listening = asyncio.Event()
                listener = listen_for_reloads(
                    self.config.db_url,
                    self.config.db_channel,
                    reload=self._load_cache,
                    lost=pool.drop_idle,
                    listening=listening,
                    connect_timeout=self.config.pool_timeout,
                )
                self._listener = asyncio.create_task(listener, name="vidgen-db-gateway-listen")
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
            return _preflight(request, allow_origin)
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
        check_apikey(cfg, request)
        method = request.method.upper()
        role, claims, authenticated = authenticate(cfg, request)
        try:
            await self.open()
        except (PoolTimeout, psycopg.OperationalError) as err:
            raise ApiError(
                503,
                "PGRST002",
                "Could not query the database for the schema cache. Retrying.",
                str(err) or None,
            ) from None
        assert self._pool is not None
        segments = [s for s in rest.split("/") if s] if rest else []
        schema = schema_for(cfg, request, method)
        prefs = parse_preferences(request.headers.getlist("prefer"))
        ctx = Ctx(
            request,
            cfg,
            self.schema_cache,
            self._pool,
            method,
            schema,
            role,
            claims,
            authenticated,
            prefs,
            params,
        )
        if len(cfg.schemas) > 1:
            ctx.headers["Content-Profile"] = schema
        if not segments:
            raise ApiError(404, "PGRST126", "Root endpoint metadata is disabled")
        if segments[0] == "rpc" and len(segments) == 2:
            return await rpc(ctx, segments[1])
        if len(segments) != 1:
            raise ApiError(404, "PGRST125", "Invalid path specified in request URL")
        return await _relation_request(ctx, segments[0])


async def _relation_request(ctx: Ctx, name: str) -> Response:
    """A request on a table or view, by method."""
    relation = lookup_relation(ctx, name)
    method = ctx.method
    if method in ("GET", "HEAD"):
        return await read(ctx, relation)
    if method == "POST":
        return await insert(ctx, relation)
    if method in ("PATCH", "DELETE"):
        return await update_or_delete(ctx, relation)
    if method == "PUT":
        return await put(ctx, relation)
    if method == "OPTIONS":
        return Response(None, 200, headers={"Allow": "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"})
    raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")


def _preflight(request: Request, allow_origin: str | None) -> Response:
    """A CORS preflight, answered as PostgREST answers it."""
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
