"""HS256 JSON Web Tokens: signing (for tests and tools) and PostgREST-style verification."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from ._errors import ApiError
from ._jwk import ALGORITHMS, keys_from_secret, suitable, verify_signature

__all__ = ["JWT_SKEW_SECONDS", "decode_jwt", "encode_jwt"]

JWT_SKEW_SECONDS = 30
"""Clock skew PostgREST tolerates on ``exp``, ``nbf`` and ``iat``."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(claims: Mapping[str, Any], secret: str) -> str:
    """Sign ``claims`` with HS256."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64encode(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64encode(signature)}"


def _invalid_token(code: str, message: str, details: str | None = None) -> ApiError:
    header = 'Bearer error="invalid_token", error_description=' + json.dumps(message)
    return ApiError(401, code, message, details, None, {"WWW-Authenticate": header})


def _decode_error(message: str, details: str | None = None) -> ApiError:
    return _invalid_token("PGRST301", message, details)


def _claims_error(message: str) -> ApiError:
    return _invalid_token("PGRST303", message)


def _check_time_claims(claims: Mapping[str, Any], now: float) -> None:
    for key, label in (("exp", "exp"), ("nbf", "nbf"), ("iat", "iat")):
        value = claims.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _claims_error(f"The JWT '{label}' claim must be a number")
        if key == "exp" and now > value + JWT_SKEW_SECONDS:
            raise _claims_error("JWT expired")
        if key == "nbf" and now < value - JWT_SKEW_SECONDS:
            raise _claims_error("JWT not yet valid")
        if key == "iat" and now < value - JWT_SKEW_SECONDS:
            raise _claims_error("JWT issued at future")


def _check_audience(claims: Mapping[str, Any], audience: str | None) -> None:
    if "aud" not in claims:
        return
    aud = claims["aud"]
    if isinstance(aud, str):
        values = [aud]
    elif isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        values = aud
    else:
        raise _claims_error("The JWT 'aud' claim must be a string or an array of strings")
    if audience is not None and audience not in values:
        raise _claims_error("JWT not in audience")


def decode_jwt(
    token: str, secret: str, *, audience: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """Verify a token and return its claims, or raise PostgREST's PGRST301/PGRST303.

    ``secret`` is an HMAC secret, or a JWK / JWK set (JSON) for HS*, RS* and ES* tokens.
    """
    if not token:
        raise _decode_error("Empty JWT is sent in Authorization header")
    parts = token.split(".")
    if len(parts) != 3:
        raise _decode_error(f"Expected 3 parts in JWT; got {len(parts)}")
    try:
        header = json.loads(_b64decode(parts[0]))
    except (ValueError, binascii.Error):
        raise _decode_error("JWT couldn't be decoded") from None
    if not isinstance(header, dict):
        raise _decode_error("JWT couldn't be decoded")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise _decode_error(
            "Wrong or unsupported encoding algorithm", f"Unsupported algorithm {alg}"
        )
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    keys = [k for k in keys_from_secret(secret) if suitable(k, alg, kid)]
    if not keys:
        raise _decode_error(
            "No suitable key or wrong key type", f"No key in the JWT secret can verify {alg}"
        )
    try:
        signature = _b64decode(parts[2])
    except (ValueError, binascii.Error):
        raise _decode_error("JWT cryptographic operation failed") from None
    signing_input = f"{parts[0]}.{parts[1]}".encode()
    if not any(verify_signature(k, alg, signing_input, signature) for k in keys):
        raise _decode_error("JWT cryptographic operation failed")
    try:
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, binascii.Error):
        raise _claims_error("Parsing claims failed") from None
    if not isinstance(claims, dict):
        raise _claims_error("Parsing claims failed")
    _check_time_claims(claims, time.time() if now is None else now)
    _check_audience(claims, audience)
    return claims
