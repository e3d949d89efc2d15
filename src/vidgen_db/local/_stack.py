"""What every stack offers tests: its URL, its keys, users, and clients of the SDK."""

from __future__ import annotations

import abc
from uuid import UUID

from .._client import AnonDB, ServiceDB, UserDB, VidgenDB
from .._client_async import AsyncAnonDB, AsyncServiceDB, AsyncUserDB, AsyncVidgenDB

__all__ = ["Stack"]


class Stack(abc.ABC):
    """A Supabase-like project the SDK can talk to: the local stack or a live project.

    ``url`` is the project URL (clients add ``/rest/v1``); ``anon_key`` and
    ``service_key`` are its API keys. The client factories return new clients of
    :mod:`vidgen_db`; each owns a connection pool, so close it (``with``/``close()``).
    """

    url: str
    anon_key: str
    service_key: str

    @abc.abstractmethod
    def create_user(self, email: str, *, name: str | None = None) -> tuple[UUID, str]:
        """Sign up a user; returns its id and a signed access token."""

    @abc.abstractmethod
    def reset(self) -> None:
        """Remove the data tests made."""

    # -- sync clients -------------------------------------------------------------------

    def service_client(self) -> ServiceDB:
        """A client with the service role (the worker's view: RLS bypassed)."""
        return VidgenDB.service(self.url, self.service_key)

    def user_client(self, access_token: str) -> UserDB:
        """A client acting as the user whose token is ``access_token`` (RLS applies)."""
        return VidgenDB.for_user(self.url, self.anon_key, access_token)

    def anon_client(self) -> AnonDB:
        """A visitor's client (the anon key, no user)."""
        return VidgenDB.anonymous(self.url, self.anon_key)

    # -- async clients ------------------------------------------------------------------

    def async_service_client(self) -> AsyncServiceDB:
        """The async twin of :meth:`service_client` (close with ``await db.aclose()``)."""
        return AsyncVidgenDB.service(self.url, self.service_key)

    def async_user_client(self, access_token: str) -> AsyncUserDB:
        """The async twin of :meth:`user_client`."""
        return AsyncVidgenDB.for_user(self.url, self.anon_key, access_token)

    def async_anon_client(self) -> AsyncAnonDB:
        """The async twin of :meth:`anon_client`."""
        return AsyncVidgenDB.anonymous(self.url, self.anon_key)

    @property
    def rest_url(self) -> str:
        """The Data API's base URL (``url + /rest/v1``), for postgrest-py or raw HTTP."""
        return f"{self.url}/rest/v1"
