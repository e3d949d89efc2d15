"""Keys and tokens for tests, signed at run time with a random secret (never committed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

SECRET = secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(claims: dict[str, Any], secret: str = SECRET) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def anon_key() -> str:
    return make_jwt({"role": "anon", "iss": "supabase", "exp": int(time.time()) + 3600})


def service_key() -> str:
    return make_jwt({"role": "service_role", "iss": "supabase", "exp": int(time.time()) + 3600})


def user_token(user_id: uuid.UUID | None = None) -> str:
    return make_jwt(
        {
            "role": "authenticated",
            "sub": str(user_id or uuid.uuid4()),
            "aud": "authenticated",
            "exp": int(time.time()) + 3600,
        }
    )
