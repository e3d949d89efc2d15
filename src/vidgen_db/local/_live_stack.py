"""A live Supabase project as a test stack (the end-to-end suite's live mode)."""

from __future__ import annotations

import os
from typing import Any, Self
from uuid import UUID

import httpx

from .._errors import ConfigurationError
from ._stack import Stack
from ._tokens import make_access_token

__all__ = ["LIVE_ENV", "LiveStack"]

#: The environment variables of the live mode (the JWT secret is optional).
LIVE_ENV = (
    "VIDGEN_LIVE_SUPABASE_URL",
    "VIDGEN_LIVE_ANON_KEY",
    "VIDGEN_LIVE_SERVICE_KEY",
    "VIDGEN_LIVE_JWT_SECRET",
)


class LiveStack(Stack):
    """A hosted (or ``supabase start``) project with vidgen's migrations applied.

    Users are made through Supabase Auth's admin API (the service key) and their access
    tokens signed with the project's JWT secret, so user tests need ``jwt_secret``;
    :meth:`reset` deletes only the users this object made (their rows go with them).
    """

    def __init__(
        self, url: str, anon_key: str, service_key: str, *, jwt_secret: str | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.anon_key = anon_key
        self.service_key = service_key
        self.jwt_secret = jwt_secret
        self._created: list[UUID] = []

    @classmethod
    def from_env(cls) -> Self | None:
        """From ``VIDGEN_LIVE_SUPABASE_URL``, ``VIDGEN_LIVE_ANON_KEY``,
        ``VIDGEN_LIVE_SERVICE_KEY`` (and ``VIDGEN_LIVE_JWT_SECRET``); None unless the first
        three are set."""
        url, anon, service, secret = (os.environ.get(name) for name in LIVE_ENV)
        if not (url and anon and service):
            return None
        return cls(url, anon, service, jwt_secret=secret or None)

    @property
    def can_sign_tokens(self) -> bool:
        return bool(self.jwt_secret)

    def _admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"apikey": self.service_key, "Authorization": f"Bearer {self.service_key}"}
        response = httpx.request(
            method, f"{self.url}/auth/v1/admin{path}", headers=headers, timeout=30, **kwargs
        )
        response.raise_for_status()
        return response

    def create_user(self, email: str, *, name: str | None = None) -> tuple[UUID, str]:
        if not self.jwt_secret:
            raise ConfigurationError("VIDGEN_LIVE_JWT_SECRET is needed to sign users' tokens")
        metadata = {"name": name} if name is not None else {}
        body = {"email": email, "email_confirm": True, "user_metadata": metadata}
        user_id = UUID(str(self._admin("POST", "/users", json=body).json()["id"]))
        self._created.append(user_id)
        token = make_access_token(
            user_id,
            self.jwt_secret,
            email=email,
            issuer=f"{self.url}/auth/v1",
            user_metadata=metadata,
        )
        return user_id, token

    def reset(self) -> None:
        while self._created:
            user_id = self._created.pop()
            try:
                self._admin("DELETE", f"/users/{user_id}")
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:
                    raise

    def __repr__(self) -> str:
        return f"LiveStack({self.url})"
