"""Keys and access tokens shaped like Supabase's, signed (PyJWT) with a secret chosen at
run time: the one place the local stack, the testing helpers and the tests sign tokens.

Needs only the base install (no gateway import), so the live mode and the pytest plugin
work without the ``local`` extra.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

import jwt

__all__ = ["make_access_token", "make_api_key", "new_jwt_secret", "sign_jwt"]

#: Lifetime of the API keys the local stack makes (Supabase's are valid for ten years).
API_KEY_LIFETIME = 10 * 365 * 24 * 3600


def new_jwt_secret() -> str:
    """A fresh random secret (never a fixed one): 256 bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def sign_jwt(claims: Mapping[str, Any], secret: str, *, algorithm: str = "HS256") -> str:
    """Sign ``claims`` with ``secret`` (HS256 by default, as Supabase Auth does)."""
    return jwt.encode(dict(claims), secret, algorithm=algorithm)


def make_api_key(role: str, secret: str, *, now: int | None = None) -> str:
    """A legacy Supabase API key: a JWT with ``role`` ``anon`` or ``service_role``."""
    issued = int(time.time()) if now is None else now
    claims = {"iss": "supabase", "role": role, "iat": issued, "exp": issued + API_KEY_LIFETIME}
    return sign_jwt(claims, secret)


def make_access_token(
    user_id: uuid.UUID,
    secret: str,
    *,
    email: str | None = None,
    issuer: str = "supabase",
    expires_in: int = 3600,
    user_metadata: Mapping[str, Any] | None = None,
) -> str:
    """A signed-in user's access token, with the claims Supabase Auth puts in one."""
    issued = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": str(user_id),
        "aud": "authenticated",
        "exp": issued + expires_in,
        "iat": issued,
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": issued}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": dict(user_metadata or {}),
    }
    if email is not None:
        claims["email"] = email
    return sign_jwt(claims, secret)
