# Generated from src/vidgen_db/_client_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""The async clients: how the API service, the worker and scripts reach the database.

Build one with a class method of :class:`VidgenDB`:

* ``VidgenDB.service(url, service_key)`` -> :class:`ServiceDB`: the service role,
  RLS bypassed (the worker, scripts); it alone offers the service-only operations.
* ``VidgenDB.for_user(url, anon_key, access_token)`` -> :class:`UserDB`: acts as
  the signed-in user, RLS enforced (the API service, per request).
* ``VidgenDB.anonymous(url, anon_key)`` -> :class:`AnonDB`: a visitor, who may
  only store a draft prompt; ``.as_user(token)`` derives user clients sharing its pool.
* ``VidgenDB.from_env()`` and ``VidgenDB.from_supabase(client)``.

Each client reaches the data through repositories (``db.jobs``, ``db.credits``...; see
docs/api.md): a user client the user's own rows, the service client everyone's and the
service-only operations, the anonymous client ``db.drafts.save`` alone.

A key of the wrong kind is refused at construction. Each client owns one HTTP
connection pool; close it with ``db.close()`` or ``with``.
"""

from __future__ import annotations

import functools
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack, overload
from uuid import UUID

import httpx
from postgrest import SyncPostgrestClient

from ._compat import POSTGREST_OPTIONS, rest_client_with_bearer
from ._constants import MAX_RETRIES_ALLOWED
from ._errors import ConfigurationError, InvalidArgumentError
from ._http import create_http_client, pooled_transport
from ._keys import (
    KeyKind,
    access_token_user_id,
    classify_api_key,
    require_access_token,
    require_key,
)
from ._replicas import ReplicaRouter
from ._settings import ClientSettings, SupabaseSettings
from .repos._assets import Assets, ServiceAssets
from .repos._credits import Credits, ServiceCredits
from .repos._dashboard import Dashboard
from .repos._drafts import AnonDrafts, ServiceDrafts, UserDrafts
from .repos._job_steps import JobSteps, ServiceJobSteps
from .repos._jobs import Jobs, ServiceJobs
from .repos._logs import JobLogs, ServiceJobLogs
from .repos._profiles import Profiles, ServiceProfiles
from .repos._projects import Projects
from .repos._workers import ServiceWorkers

__all__ = [
    "AnonDB",
    "ClientOptions",
    "ServiceDB",
    "UserDB",
    "VidgenDB",
]


class ClientOptions(TypedDict, total=False):
    """The keyword options every client factory takes."""

    #: Timeouts and retries (default: ``ClientSettings()``, read from ``VIDGEN_DB_*``).
    settings: ClientSettings
    #: An HTTP client to use instead of the client's own pool (not closed by the client).
    http_client: httpx.Client
    #: The transport of the client's own pool (tests pass respx's or a fault injector).
    transport: httpx.BaseTransport
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


class VidgenDB:
    """Base of the async clients (see the module docstring for how to build one)."""

    role: str = ""

    def __init__(
        self,
        url: str,
        api_key: str,
        bearer: str,
        *,
        settings: ClientSettings | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
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
        self._pool: httpx.BaseTransport | None = None
        #: Where reads go when there is a replica (shared with the derived clients).
        self._router: ReplicaRouter | None = None
        if http_client is None:
            tls = any(u.startswith("https:") for u in (self._url, self._read_url or ""))
            self._pool = transport or pooled_transport(tls=tls)
            if self._read_url:
                self._router = ReplicaRouter(
                    self._url, self._read_url, self._settings.read_your_writes
                )
            http_client = create_http_client(
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
        self._rest = SyncPostgrestClient(
            f"{self._url}/rest/v1",
            headers={"apikey": api_key, "Authorization": f"Bearer {bearer}"},
            http_client=self._http,
            **POSTGREST_OPTIONS,
        )

    # -- construction --------------------------------------------------------------------

    @classmethod
    def service(cls, url: str, service_key: str, **options: Unpack[ClientOptions]) -> ServiceDB:
        """A client with the service role (RLS bypassed): the worker and scripts."""
        key = require_key(service_key, KeyKind.SERVICE, "service_key")
        return ServiceDB(url, key, key, **options)

    @classmethod
    def for_user(
        cls, url: str, anon_key: str, access_token: str, **options: Unpack[ClientOptions]
    ) -> UserDB:
        """A client acting as the signed-in user whose JWT is ``access_token`` (RLS applies)."""
        key = require_key(anon_key, KeyKind.ANON, "anon_key")
        token = require_access_token(access_token)
        return UserDB(url, key, token, **options)

    @classmethod
    def anonymous(cls, url: str, anon_key: str, **options: Unpack[ClientOptions]) -> AnonDB:
        """A client for visitors who have not signed up (drafts only)."""
        key = require_key(anon_key, KeyKind.ANON, "anon_key")
        return AnonDB(url, key, key, **options)

    @overload
    @classmethod
    def from_env(
        cls, *, access_token: None = None, **options: Unpack[ClientOptions]
    ) -> ServiceDB: ...

    @overload
    @classmethod
    def from_env(cls, *, access_token: str, **options: Unpack[ClientOptions]) -> UserDB: ...

    @classmethod
    def from_env(
        cls, *, access_token: str | None = None, **options: Unpack[ClientOptions]
    ) -> ServiceDB | UserDB:
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
        cls, client: Any, *, access_token: None = None, **options: Unpack[ClientOptions]
    ) -> ServiceDB | AnonDB: ...

    @overload
    @classmethod
    def from_supabase(
        cls, client: Any, *, access_token: str, **options: Unpack[ClientOptions]
    ) -> UserDB: ...

    @classmethod
    def from_supabase(
        cls, client: Any, *, access_token: str | None = None, **options: Unpack[ClientOptions]
    ) -> ServiceDB | UserDB | AnonDB:
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
        sharing its connection pool: ``db.with_options(timeout=2).jobs.get(id)``.
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
            create_http_client(
                settings.retry_policy(), settings.http_timeout(), self._pool, self._router
            ),
        )
        return derived

    def _derive(self, settings: ClientSettings, http: httpx.Client) -> Self:
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
    def rest(self) -> SyncPostgrestClient:
        """The postgrest-py client under the repositories, for a query they do not offer
        (a job with its steps embedded...). Its requests go through this client's pool,
        retries and error mapping: failures raise vidgen_db errors, never postgrest's.
        Rows come back as plain JSON: validate them into ``vidgen_db.models``."""
        return self._rest

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool (if this client owns it)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

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


class AnonDB(VidgenDB):
    """A visitor (the anon role): may store a draft prompt, nothing else."""

    role = "anon"

    @functools.cached_property
    def drafts(self) -> AnonDrafts:
        return AnonDrafts(self._rest, None)

    def as_user(self, access_token: str) -> UserDB:
        """A user client for ``access_token`` sharing this client's connection pool."""
        token = require_access_token(access_token)
        # What UserDB(...) would build, from this client's parts (once per request).
        user = UserDB.__new__(UserDB)
        user._url, user._read_url = self._url, self._read_url
        user._settings, user._realtime = self._settings, self._realtime
        user._owns_http, user._http = False, self._http
        user._pool, user._router = self._pool, self._router
        user._api_key, user._bearer = self._api_key, token
        user._rest = rest_client_with_bearer(self._rest, token)
        user._identify()
        return user


class UserDB(VidgenDB):
    """Acts as one signed-in user: row level security applies to everything."""

    role = "authenticated"

    def __init__(
        self, url: str, api_key: str, bearer: str, **options: Unpack[ClientOptions]
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
    def profiles(self) -> Profiles:
        return Profiles(self._rest, self.user_id)

    @functools.cached_property
    def drafts(self) -> UserDrafts:
        return UserDrafts(self._rest, self.user_id)

    @functools.cached_property
    def projects(self) -> Projects:
        return Projects(self._rest, self.user_id)

    @functools.cached_property
    def jobs(self) -> Jobs:
        return Jobs(self._rest, self.user_id, realtime=self._realtime)

    @functools.cached_property
    def job_steps(self) -> JobSteps:
        return JobSteps(self._rest, self.user_id)

    @functools.cached_property
    def credits(self) -> Credits:
        return Credits(self._rest, self.user_id)

    @functools.cached_property
    def assets(self) -> Assets:
        return Assets(self._rest, self.user_id)

    @functools.cached_property
    def logs(self) -> JobLogs:
        return JobLogs(self._rest, self.user_id)

    @functools.cached_property
    def dashboard(self) -> Dashboard:
        return Dashboard(self._rest, self.user_id)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(url={self._url!r}, role='authenticated', user_id='{self.user_id}')"


class ServiceDB(VidgenDB):
    """The service role: RLS bypassed; offers the service-only operations."""

    role = "service_role"

    @functools.cached_property
    def profiles(self) -> ServiceProfiles:
        return ServiceProfiles(self._rest, None)

    @functools.cached_property
    def drafts(self) -> ServiceDrafts:
        return ServiceDrafts(self._rest, None)

    @functools.cached_property
    def projects(self) -> Projects:
        return Projects(self._rest, None)

    @functools.cached_property
    def job_steps(self) -> ServiceJobSteps:
        return ServiceJobSteps(self._rest, None)

    @functools.cached_property
    def logs(self) -> ServiceJobLogs:
        return ServiceJobLogs(self._rest, None)

    @functools.cached_property
    def jobs(self) -> ServiceJobs:
        return ServiceJobs(
            self._rest, None, job_steps=self.job_steps, logs=self.logs, realtime=self._realtime
        )

    @functools.cached_property
    def credits(self) -> ServiceCredits:
        return ServiceCredits(self._rest, None)

    @functools.cached_property
    def assets(self) -> ServiceAssets:
        return ServiceAssets(self._rest, None)

    @functools.cached_property
    def workers(self) -> ServiceWorkers:
        return ServiceWorkers(self._rest, None)

    def close(self) -> None:
        """Write the steps whose completion is still deferred (see ``db.jobs.step``), then
        close the connection pool (if this client owns it)."""
        try:
            if "job_steps" in self.__dict__:  # made: it may hold deferred completions
                self.job_steps.flush_all()
        finally:
            super().close()
