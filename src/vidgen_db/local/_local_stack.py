"""The local stack: PostgreSQL + vidgen's migrations + the PostgREST-compatible gateway."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

from ..migrate import Migrator, load_migrations, throwaway_database
from ._embedded import start_embedded, temporary_embedded
from ._extras import require_extra
from ._stack import Stack
from ._tokens import make_access_token, make_api_key, new_jwt_secret

__all__ = ["LocalStack"]

#: The tables ``reset()`` never deletes from directly (append-only; emptied by cascades).
_APPEND_ONLY = frozenset({"credit_ledger"})


class LocalStack(Stack):
    """A Supabase-like project on this machine, for tests, demos and local development.

    ::

        with LocalStack() as stack:
            user_id, token = stack.create_user("ada@example.com")
            with stack.user_client(token) as db:
                ...

    Where the data lives:

    * neither ``database_url`` nor ``server_url``: an embedded PostgreSQL 16 (the ``local``
      extra) in a temporary folder (or in ``data_dir``, kept), stopped on exit;
    * ``server_url``: a superuser URL of a PostgreSQL 15+ server on which a throwaway
      database is created (and dropped on exit): what tests should use; the server's own
      databases are never touched;
    * ``database_url``: a superuser URL of the exact database to serve. It is served as it
      is (migrated first unless ``migrate=False``) and never dropped, and :meth:`reset`
      deletes every user and row in it: never pass a database whose data you want to keep.

    Migrations (the packaged ones, or those in ``migrations_dir``) are applied unless
    ``migrate=False`` (then the database is served as it is).
    The JWT secret is random unless ``jwt_secret`` is given; ``anon_key`` and
    ``service_key`` are HS256 keys signed with it. The gateway listens on ``host``:``port``
    (``port=0``: a free port), in a thread of this process, or with ``workers`` > 1 in that
    many worker processes (a child process). Use it as a context manager (``with`` or
    ``async with``), or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        *,
        database_url: str | None = None,
        server_url: str | None = None,
        migrate: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        schemas: Sequence[str] = ("public",),
        anon_role: str | None = "anon",
        jwt_secret: str | None = None,
        data_dir: Path | None = None,
        migrations_dir: Path | None = None,
        gateway_options: dict[str, Any] | None = None,
        workers: int = 1,
    ) -> None:
        if database_url and server_url:
            raise ValueError(
                "pass database_url (serve that very database) or server_url (create a "
                "throwaway database on that server), not both"
            )
        self._given_database_url = database_url
        self._server_url = server_url
        self._migrate = migrate
        self._host = host
        self._port = port
        self._schemas = tuple(schemas)
        self._anon_role = anon_role or None
        self._data_dir = data_dir
        self._migrations_dir = migrations_dir
        self._gateway_options = dict(gateway_options or {})
        self._workers = workers
        self.jwt_secret: str = jwt_secret or new_jwt_secret()
        self.anon_key: str = make_api_key("anon", self.jwt_secret)
        self.service_key: str = make_api_key("service_role", self.jwt_secret)
        self.url: str = ""
        self._database_url: str | None = None
        self._exit: contextlib.ExitStack | None = None

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._exit is not None

    @property
    def database_url(self) -> str:
        """A superuser URL of the database being served."""
        if self._database_url is None:
            raise RuntimeError("the local stack is not started")
        return self._database_url

    def start(self) -> Self:
        """Start PostgreSQL (unless given), migrate, serve the gateway. Returns ``self``."""
        if self._exit is not None:
            raise RuntimeError("the local stack is already started")
        require_extra("local", "the local stack")
        exit_stack = contextlib.ExitStack()
        try:
            url = self._open_database(exit_stack)
            if self._migrate:
                Migrator(url, migrations=load_migrations(self._migrations_dir)).migrate()
            self._database_url = url
            self.url = self._serve(exit_stack, url)
        except BaseException:
            self._database_url = None
            exit_stack.close()
            raise
        self._exit = exit_stack
        return self

    def stop(self) -> None:
        """Stop the gateway, drop the throwaway database, stop the embedded server."""
        exit_stack, self._exit = self._exit, None
        self._database_url = None
        self.url = ""
        if exit_stack is not None:
            exit_stack.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    def __repr__(self) -> str:
        state = self.url or "stopped"
        return f"LocalStack({state})"

    def _open_database(self, exit_stack: contextlib.ExitStack) -> str:
        if self._given_database_url:
            return self._given_database_url
        if self._server_url:
            return exit_stack.enter_context(
                throwaway_database(self._server_url, prefix="vidgen_local")
            )
        if self._data_dir is not None:
            server = start_embedded(self._data_dir)
            exit_stack.callback(server.stop)
            return server.url
        return exit_stack.enter_context(temporary_embedded()).url

    def _serve(self, exit_stack: contextlib.ExitStack, url: str) -> str:
        from .gateway import GatewayConfig, serve_in_process, serve_in_thread

        options: dict[str, Any] = {
            "schemas": self._schemas,
            "anon_role": self._anon_role,
            "api_keys": frozenset({self.anon_key, self.service_key}),
            "pool_max_size": 8,
        }
        options.update(self._gateway_options)
        config = GatewayConfig.supabase(_gateway_url(url), self.jwt_secret, **options)
        if self._workers > 1:
            served = serve_in_process(
                config, host=self._host, port=self._port, workers=self._workers
            )
        else:
            served = serve_in_thread(config, host=self._host, port=self._port)
        rest_url = exit_stack.enter_context(served)
        return rest_url.removesuffix(config.path_prefix)

    # -- data ---------------------------------------------------------------------------

    def connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        """A superuser connection (autocommit) to the served database."""
        return psycopg.connect(self.database_url, autocommit=True, prepare_threshold=None)

    def create_user(
        self, email: str, *, name: str | None = None, expires_in: int = 3600
    ) -> tuple[UUID, str]:
        """Sign up a user as Supabase Auth would (a row in ``auth.users``: the trigger makes
        the profile and grants the welcome credits); returns its id and an access token."""
        user_id = uuid.uuid4()
        metadata = {"name": name} if name is not None else {}
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO auth.users (id, email, raw_user_meta_data, raw_app_meta_data, "
                "email_confirmed_at) VALUES (%s, %s, %s::jsonb, %s::jsonb, now())",
                (
                    user_id,
                    email,
                    Jsonb(metadata),
                    Jsonb({"provider": "email", "providers": ["email"]}),
                ),
            )
        token = make_access_token(
            user_id,
            self.jwt_secret,
            email=email,
            issuer=f"{self.url}/auth/v1",
            expires_in=expires_in,
            user_metadata=metadata,
        )
        return user_id, token

    def token_for(self, user_id: UUID, *, email: str | None = None, expires_in: int = 3600) -> str:
        """Another access token for an existing user (or, for tests, any id)."""
        return make_access_token(
            user_id,
            self.jwt_secret,
            email=email,
            issuer=f"{self.url}/auth/v1",
            expires_in=expires_in,
        )

    def reset(self) -> None:
        """Delete the app's data in the served database, keeping the schema: every user
        (the rows of a user, the credit ledger's included, go with it) and every row left
        in the public tables. With ``database_url=``, that is your database's data."""
        with self.connect() as conn, conn.transaction():
            conn.execute("DELETE FROM auth.users")
            rows = conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
                "AND NOT c.relispartition ORDER BY c.relname"
            ).fetchall()
            for (table,) in rows:
                if table in _APPEND_ONLY:
                    continue
                conn.execute(sql.SQL("DELETE FROM public.{}").format(sql.Identifier(table)))


def _gateway_url(url: str) -> str:
    """Connect the gateway as Supabase's ``authenticator`` role (it holds only the API
    roles) when the server lets that role in without a password (the embedded server);
    otherwise with ``url`` itself."""
    if conninfo_to_dict(url).get("user") == "authenticator":
        return url
    candidate = make_conninfo(url, user="authenticator", password="")
    try:
        with psycopg.connect(candidate, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return url
    return candidate
