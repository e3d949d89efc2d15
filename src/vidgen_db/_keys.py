"""Recognising Supabase API keys and user tokens, so that one is never used for another.

Legacy keys are JWTs whose ``role`` claim says ``anon`` or ``service_role``; Supabase's
newer keys are ``sb_publishable_...`` (the anon kind) and ``sb_secret_...`` (the service
kind). A user's access token is a JWT with ``role: authenticated``. Nothing here verifies
a signature (only the server can); it reads claims to catch mix-ups early. No function
here ever puts a key in a message.
"""

from __future__ import annotations

import binascii
import functools
import json
import re
import uuid
from enum import StrEnum
from typing import Any

from jwt.utils import base64url_decode

from ._errors import ConfigurationError

__all__ = [
    "KeyKind",
    "access_token_user_id",
    "classify_api_key",
    "redact_secrets",
    "require_access_token",
    "require_key",
]

_SECRETS = re.compile(
    r"eyJ[\w-]+\.[\w-]+\.[\w-]+"  # a JWT (legacy keys, access tokens)
    r"|sb_(?:secret|publishable)_[\w-]+"  # Supabase's newer API keys
    r"|(?<=apikey=)[^&\s'\"]+"  # a key in a query string (Realtime's websocket URL)
)


def redact_secrets(text: str) -> str:
    """``text`` with anything that looks like a key or token replaced by ``***``, for
    messages that quote third-party errors (URLs with ``apikey=``, headers...)."""
    return _SECRETS.sub("***", text)


class KeyKind(StrEnum):
    ANON = "anon"
    SERVICE = "service_role"


_DESCRIPTION = {
    KeyKind.ANON: "an anon (publishable) key",
    KeyKind.SERVICE: "a service-role (secret) key",
}


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, unverified; None if ``token`` is not a JWT. Read-only: the
    result is cached per token (a user's token serves many requests)."""
    return _claims(token)


@functools.lru_cache(maxsize=1024)
def _claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64url_decode(parts[1]).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


@functools.lru_cache(maxsize=1024)
def access_token_user_id(token: str) -> uuid.UUID | None:
    """The user id (``sub``) of an access token, unverified; None if it has none that is a
    UUID. Cached per token: ``as_user`` checks a token and then reads its user from it."""
    claims = _claims(token)
    if claims is None:
        return None
    try:
        return uuid.UUID(str(claims.get("sub")))
    except ValueError:
        return None


def classify_api_key(key: str) -> KeyKind | None:
    """The kind of a Supabase API key, or None when it is not recognisably either."""
    if key.startswith("sb_publishable_"):
        return KeyKind.ANON
    if key.startswith("sb_secret_"):
        return KeyKind.SERVICE
    claims = jwt_claims(key)
    if claims is None:
        return None
    role = claims.get("role")
    if role == "anon":
        return KeyKind.ANON
    if role == "service_role":
        return KeyKind.SERVICE
    return None


def require_key(key: str, expected: KeyKind, argument: str) -> str:
    """``key`` if it is of the ``expected`` kind, else a ConfigurationError saying which
    kind was expected and which was given (never the key itself)."""
    if not isinstance(key, str) or not key.strip():
        raise ConfigurationError(f"{argument} is empty: expected {_DESCRIPTION[expected]}")
    kind = classify_api_key(key.strip())
    if kind is expected:
        return key.strip()
    if kind is None:
        claims = jwt_claims(key.strip())
        if claims is not None and claims.get("role") == "authenticated":
            got = "a user's access token"
        else:
            got = (
                "something that is neither a Supabase JWT key nor an sb_publishable_/sb_secret_ key"
            )
    else:
        got = _DESCRIPTION[kind]
    raise ConfigurationError(f"{argument} must be {_DESCRIPTION[expected]}, but it is {got}")


def require_access_token(token: str, argument: str = "access_token") -> str:
    """``token`` if it is a signed-in user's JWT (role ``authenticated``, its ``sub`` a
    user id)."""
    if not isinstance(token, str) or not token.strip():
        raise ConfigurationError(f"{argument} is empty: expected a user's access token (JWT)")
    token = token.strip().removeprefix("Bearer ").strip()
    kind = classify_api_key(token)
    if kind is not None:
        raise ConfigurationError(
            f"{argument} must be a user's access token, but it is {_DESCRIPTION[kind]}"
        )
    claims = jwt_claims(token)
    if claims is None:
        raise ConfigurationError(f"{argument} is not a JWT: expected a user's access token")
    if claims.get("role") != "authenticated" or not claims.get("sub"):
        raise ConfigurationError(
            f"{argument} must be a signed-in user's token (role 'authenticated' with a 'sub'), "
            f"but its role is {claims.get('role')!r}"
        )
    if access_token_user_id(token) is None:
        raise ConfigurationError(
            f"{argument} must be a Supabase user's token: its 'sub' is not a user id (UUID)"
        )
    return token
