"""Keys and tokens for tests, signed at run time with a random secret (never committed)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from vidgen_db.local import new_jwt_secret, sign_jwt

SECRET = new_jwt_secret()


def make_jwt(claims: dict[str, Any], secret: str = SECRET) -> str:
    return sign_jwt(claims, secret)


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
