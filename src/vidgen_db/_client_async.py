"""The async clients: how the API service, the worker and scripts reach the database.

Build one with a class method of :class:`AsyncVidgenDB`:

* ``AsyncVidgenDB.service(url, service_key)`` -> :class:`AsyncServiceDB`: the service role,
  RLS bypassed (the worker, scripts); it alone offers the service-only operations.
* ``AsyncVidgenDB.for_user(url, anon_key, access_token)`` -> :class:`AsyncUserDB`: acts as
  the signed-in user, RLS enforced (the API service, per request).
* ``AsyncVidgenDB.anonymous(url, anon_key)`` -> :class:`AsyncAnonDB`: a visitor, who may
  only store a draft prompt; ``.as_user(token)`` derives user clients sharing its pool.
* ``AsyncVidgenDB.from_env()`` and ``AsyncVidgenDB.from_supabase(client)``.

Each client reaches the data through repositories (``db.jobs``, ``db.credits``...; see
docs/api.md): a user client the user's own rows, the service client everyone's and the
service-only operations, the anonymous client ``db.drafts.save`` alone.

A key of the wrong kind is refused at construction. Each client owns one HTTP
connection pool; close it with ``await db.aclose()`` or ``async with``.
"""

from __future__ import annotations

import functools
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack, overload
from uuid import UUID

import httpx
from postgrest import AsyncPostgrestClient

from ._compat import POSTGREST_OPTIONS, rest_client_with_bearer
from ._constants import MAX_RETRIES_ALLOWED
from ._errors import ConfigurationError, InvalidArgumentError
from ._http_async import create_async_http_client, pooled_async_transport
from ._keys import (
    KeyKind,
    access_token_user_id,
    classify_api_key,
    require_access_token,
    require_key,
)
from ._replicas import ReplicaRouter
from ._settings import ClientSettings, SupabaseSettings
from .repos._assets_async import AsyncAssets, AsyncServiceAssets
from .repos._credits_async import AsyncCredits, AsyncServiceCredits
from .repos._dashboard_async import AsyncDashboard
from .repos._drafts_async import AsyncAnonDrafts, AsyncServiceDrafts, AsyncUserDrafts
from .repos._job_steps_async import AsyncJobSteps, AsyncServiceJobSteps
from .repos._jobs_async import AsyncJobs, AsyncServiceJobs
from .repos._logs_async import AsyncJobLogs, AsyncServiceJobLogs
from .repos._profiles_async import AsyncProfiles, AsyncServiceProfiles
from .repos._projects_async import AsyncProjects
from .repos._workers_async import AsyncServiceWorkers

__all__ = [
    "AsyncAnonDB",
    "AsyncClientOptions",
    "AsyncServiceDB",
    "AsyncUserDB",
    "AsyncVidgenDB",
]


class AsyncClientOptions(TypedDict, total=False):
    """The keyword options every client factory takes."""

    #: Timeouts and retries (default: ``ClientSettings()``, read from ``VIDGEN_DB_*``).
    settings: ClientSettings
    #: An HTTP client to use instead of the client's own pool (not closed by the client).
    http_client: httpx.AsyncClient
    #: The transport of the client's own pool (tests pass respx's or a fault injector).
    transport: httpx.AsyncBaseTransport
    #: A supabase-py Realtime client, for ``jobs.watch()``.
    realtime: Any
    #: A read replica's API URL: reads go there, writes and a writer's next reads to
    #: ``url`` (default: ``SUPABASE_READ_URL`` with ``from_env``).
    read_url: str


@functools.lru_cache(maxsize=64)
def _check_url(url: str) -> str:
    parsed = httpx.URL(url)
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ConfigurationError(
            "url must be the project's http(s) URL, e.g. https://<ref>.supabase.co"
        )
    return str(url).rstrip("/")


class AsyncVidgenDB:
    """Base of the async clients (see the module docstring for how to build one)."""

    role: str = ""

    def __init__(
        self,
        url: str,
        api_key: str,
        bearer: str,
        *,
        settings: ClientSettings | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        realtime: Any | None = None,
        read_url: str | None = None,
    ) -> None:
        self._url = _check_url(url)
        self._read_url = _check_url(read_url) if read_url else None
        self._settings = settings or ClientSettings()
        self._realtime = realtime  # a supabase-py Realtime client, for jobs.watch()
        self._owns_http = http_client is None
        #: The connection pool under the retrying transport, shared by derived clients
        #: (``as_user``, ``with_options``); None when the caller brought its own client.
        self._pool: httpx.AsyncBaseTransport | None = None
        #: Where reads go when there is a replica (shared with the derived clients).
        self._router: ReplicaRouter | None = None
        if http_client is None:
            tls = any(u.startswith("https:") for u in (self._url, self._read_url or ""))
            self._pool = transport or pooled_async_transport(tls=tls)
            if self._read_url:
                self._router = ReplicaRouter(
                    self._url, self._read_url, self._settings.read_your_writes
                )
            http_client = create_async_http_client(
                self._settings.retry_policy(),
                self._settings.http_timeout(),
                self._pool,
                self._router,
            )
        elif self._read_url:
            raise ConfigurationError(
                "read_url needs the client's own connection pool: it cannot be used with "
                "http_client="
            )
        self._http = http_client
        self._api_key = api_key
        self._bearer = bearer
        self._rest = AsyncPostgrestClient(
            f"{self._url}/rest/v1",
            headers={"apikey": api_key, "Authorization": f"Bearer {bearer}"},
            http_client=self._http,
            **POSTGREST_OPTIONS,
        )

    # -- construction --------------------------------------------------------------------

    @classmethod
    def service(
        cls, url: str, service_key: str, **options: Unpack[AsyncClientOptions]
    ) -> AsyncServiceDB:
        """A client with the service role (RLS bypassed): the worker and scripts."""
        key = require_key(service_key, KeyKind.SERVICE, "service_key")
        return AsyncServiceDB(url, key, key, **options)

    @classmethod
    def for_user(
        cls, url: str, anon_key: str, access_token: str, **options: Unpack[AsyncClientOptions]
    ) -> AsyncUserDB:
        """A client acting as the signed-in user whose JWT is ``access_token`` (RLS applies)."""
        key = require_key(anon_key, KeyKind.ANON, "anon_key")
        token = require_access_token(access_token)
        return AsyncUserDB(url, key, token, **options)

    @classmethod
    def anonymous(
        cls, url: str, anon_key: str, **options: Unpack[AsyncClientOptions]
    ) -> AsyncAnonDB:
        """A client for visitors who have not signed up (drafts only)."""
        key = require_key(anon_key, KeyKind.ANON, "anon_key")
        return AsyncAnonDB(url, key, key, **options)

    @overload
    @classmethod
    def from_env(
        cls, *, access_token: None = None, **options: Unpack[AsyncClientOptions]
    ) -> AsyncServiceDB: ...

    @overload
    @classmethod
    def from_env(
        cls, *, access_token: str, **options: Unpack[AsyncClientOptions]
    ) -> AsyncUserDB: ...

    @classmethod
    def from_env(
        cls, *, access_token: str | None = None, **options: Unpack[AsyncClientOptions]
    ) -> AsyncServiceDB | AsyncUserDB:
        """From ``SUPABASE_URL`` and, with ``access_token``, ``SUPABASE_ANON_KEY`` (a user
        client); without it, ``SUPABASE_SERVICE_ROLE_KEY`` (the service client)."""
        env = SupabaseSettings()
        if not env.url:
            raise ConfigurationError("SUPABASE_URL is not set")
        options.setdefault("settings", ClientSettings())
        if env.read_url:
            options.setdefault("read_url", env.read_url)
        if access_token is not None:
            if env.anon_key is None:
                raise ConfigurationError("SUPABASE_ANON_KEY is not set")
            return cls.for_user(env.url, env.anon_key.get_secret_value(), access_token, **options)
        if env.service_role_key is None:
            raise ConfigurationError(
                "SUPABASE_SERVICE_ROLE_KEY is not set (pass access_token for a user client)"
            )
        return cls.service(env.url, env.service_role_key.get_secret_value(), **options)

    @overload
    @classmethod
    def from_supabase(
        cls, client: Any, *, access_token: None = None, **options: Unpack[AsyncClientOptions]
    ) -> AsyncServiceDB | AsyncAnonDB: ...

    @overload
    @classmethod
    def from_supabase(
        cls, client: Any, *, access_token: str, **options: Unpack[AsyncClientOptions]
    ) -> AsyncUserDB: ...

    @classmethod
    def from_supabase(
        cls, client: Any, *, access_token: str | None = None, **options: Unpack[AsyncClientOptions]
    ) -> AsyncServiceDB | AsyncUserDB | AsyncAnonDB:
        """Wrap a supabase-py client the application already has: its URL and key are
        reused (with a pool of vidgen_db's own) and so is its Realtime client. A
        service-role key gives the service client; an anon key gives a user client for
        ``access_token``, or an anonymous one."""
        url = str(getattr(client, "supabase_url", "") or "")
        key = str(getattr(client, "supabase_key", "") or "")
        if not url or not key:
            raise ConfigurationError("that does not look like a supabase-py client (no URL or key)")
        # Its Realtime client lets jobs.watch() follow changes live (async clients).
        options.setdefault("realtime", getattr(client, "realtime", None))
        if require_any_key(key) is KeyKind.SERVICE:
            if access_token is not None:
                raise ConfigurationError(
                    "the supabase client has a service-role key: a user's access_token would be "
                    "ignored; wrap a client built with the anon key instead"
                )
            return cls.service(url, key, **options)
        if access_token is not None:
            return cls.for_user(url, key, access_token, **options)
        return cls.anonymous(url, key, **options)

    # -- per-call options and the way down ----------------------------------------------

    def with_options(self, *, timeout: float | None = None, max_retries: int | None = None) -> Self:
        """This client with another ``timeout`` (seconds per request) or ``max_retries``,
        sharing its connection pool: ``await db.with_options(timeout=2).jobs.get(id)``.
        This client is unchanged; the new one needs no closing of its own."""
        if self._pool is None:
            raise ConfigurationError(
                "with_options() needs the client's own connection pool: this client was "
                "given http_client=; configure that client instead"
            )
        update: dict[str, float | int] = {}
        if timeout is not None:
            if not timeout > 0:
                raise InvalidArgumentError(f"timeout must be more than 0 seconds, not {timeout}")
            update["timeout"] = float(timeout)
        if max_retries is not None:
            if not 0 <= max_retries <= MAX_RETRIES_ALLOWED:
                raise InvalidArgumentError(
                    f"max_retries must be 0 to {MAX_RETRIES_ALLOWED}, not {max_retries}"
                )
            update["max_retries"] = max_retries
        settings = self._settings.model_copy(update=update)
        derived = self._derive(
            settings,
            create_async_http_client(
                settings.retry_policy(), settings.http_timeout(), self._pool, self._router
            ),
        )
        return derived

    def _derive(self, settings: ClientSettings, http: httpx.AsyncClient) -> Self:
        """A client of the same kind for the same caller over ``http`` (not owned)."""
        derived = type(self)(
            self._url,
            self._api_key,
            self._bearer,
            settings=settings,
            http_client=http,
            realtime=self._realtime,
        )
        derived._pool, derived._router, derived._read_url = self._pool, self._router, self._read_url
        return derived

    @property
    def rest(self) -> AsyncPostgrestClient:
        """The postgrest-py client under the repositories, for a query they do not offer
        (a job with its steps embedded...). Its requests go through this client's pool,
        retries and error mapping: failures raise vidgen_db errors, never postgrest's.
        Rows come back as plain JSON: validate them into ``vidgen_db.models``."""
        return self._rest

    # -- lifecycle -----------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool (if this client owns it)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self._url!r}, role={self.role!r})"

    @property
    def url(self) -> str:
        """The project's API URL (the primary)."""
        return self._url

    @property
    def read_url(self) -> str | None:
        """The read replica's API URL, if reads go to one."""
        return self._read_url


def require_any_key(key: str) -> KeyKind:
    """The kind of a key that must be one or the other."""
    kind = classify_api_key(key)
    if kind is None:
        raise ConfigurationError(
            "the supabase client's key is neither an anon nor a service-role key"
        )
    return kind


class AsyncAnonDB(AsyncVidgenDB):
    """A visitor (the anon role): may store a draft prompt, nothing else."""

    role = "anon"

    @functools.cached_property
    def drafts(self) -> AsyncAnonDrafts:
        return AsyncAnonDrafts(self._rest, None)

    def as_user(self, access_token: str) -> AsyncUserDB:
        """A user client for ``access_token`` sharing this client's connection pool."""
        token = require_access_token(access_token)
        # What AsyncUserDB(...) would build, from this client's parts (once per request).
        user = AsyncUserDB.__new__(AsyncUserDB)
        user._url, user._read_url = self._url, self._read_url
        user._settings, user._realtime = self._settings, self._realtime
        user._owns_http, user._http = False, self._http
        user._pool, user._router = self._pool, self._router
        user._api_key, user._bearer = self._api_key, token
        user._rest = rest_client_with_bearer(self._rest, token)
        user._identify()
        return user


class AsyncUserDB(AsyncVidgenDB):
    """Acts as one signed-in user: row level security applies to everything."""

    role = "authenticated"

    def __init__(
        self, url: str, api_key: str, bearer: str, **options: Unpack[AsyncClientOptions]
    ) -> None:
        super().__init__(url, api_key, bearer, **options)
        self._identify()

    def _identify(self) -> None:
        """Set ``user_id`` from the bearer (a user's access token)."""
        user_id = access_token_user_id(self._bearer)
        if user_id is None:
            raise ConfigurationError("bearer must be a signed-in user's access token")
        self.user_id: UUID = user_id

    # Repositories are made on first use: a user client per request touches one or two.

    @functools.cached_property
    def profiles(self) -> AsyncProfiles:
        return AsyncProfiles(self._rest, self.user_id)

    @functools.cached_property
    def drafts(self) -> AsyncUserDrafts:
        return AsyncUserDrafts(self._rest, self.user_id)

    @functools.cached_property
    def projects(self) -> AsyncProjects:
        return AsyncProjects(self._rest, self.user_id)

    @functools.cached_property
    def jobs(self) -> AsyncJobs:
        return AsyncJobs(self._rest, self.user_id, realtime=self._realtime)

    @functools.cached_property
    def job_steps(self) -> AsyncJobSteps:
        return AsyncJobSteps(self._rest, self.user_id)

    @functools.cached_property
    def credits(self) -> AsyncCredits:
        return AsyncCredits(self._rest, self.user_id)

    @functools.cached_property
    def assets(self) -> AsyncAssets:
        return AsyncAssets(self._rest, self.user_id)

    @functools.cached_property
    def logs(self) -> AsyncJobLogs:
        return AsyncJobLogs(self._rest, self.user_id)

    @functools.cached_property
    def dashboard(self) -> AsyncDashboard:
        return AsyncDashboard(self._rest, self.user_id)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(url={self._url!r}, role='authenticated', user_id='{self.user_id}')"


class AsyncServiceDB(AsyncVidgenDB):
    """The service role: RLS bypassed; offers the service-only operations."""

    role = "service_role"

    @functools.cached_property
    def profiles(self) -> AsyncServiceProfiles:
        return AsyncServiceProfiles(self._rest, None)

    @functools.cached_property
    def drafts(self) -> AsyncServiceDrafts:
        return AsyncServiceDrafts(self._rest, None)

    @functools.cached_property
    def projects(self) -> AsyncProjects:
        return AsyncProjects(self._rest, None)

    @functools.cached_property
    def job_steps(self) -> AsyncServiceJobSteps:
        return AsyncServiceJobSteps(self._rest, None)

    @functools.cached_property
    def logs(self) -> AsyncServiceJobLogs:
        return AsyncServiceJobLogs(self._rest, None)

    @functools.cached_property
    def jobs(self) -> AsyncServiceJobs:
        return AsyncServiceJobs(
            self._rest, None, job_steps=self.job_steps, logs=self.logs, realtime=self._realtime
        )

    @functools.cached_property
    def credits(self) -> AsyncServiceCredits:
        return AsyncServiceCredits(self._rest, None)

    @functools.cached_property
    def assets(self) -> AsyncServiceAssets:
        return AsyncServiceAssets(self._rest, None)

    @functools.cached_property
    def workers(self) -> AsyncServiceWorkers:
        return AsyncServiceWorkers(self._rest, None)

    async def aclose(self) -> None:
        """Write the steps whose completion is still deferred (see ``db.jobs.step``), then
        close the connection pool (if this client owns it)."""
        try:
            if "job_steps" in self.__dict__:  # made: it may hold deferred completions
                await self.job_steps.flush_all()
        finally:
            await super().aclose()
