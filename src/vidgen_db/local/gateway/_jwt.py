"""JWT verification the way PostgREST does it, on PyJWT: its error codes, messages and
claim rules (30 s clock skew, ``aud``), with the secret as PostgREST reads ``jwt-secret``.

The secret is a plain HMAC secret, a JWK, or a JWK set (JSON). The token's ``alg`` picks the
key type and its ``kid`` the key; asymmetric keys (RS*, ES*: Supabase's newer signing keys)
need the ``cryptography`` package.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jwt

from ._errors import ApiError

__all__ = ["ALGORITHMS", "JWT_SKEW_SECONDS", "decode_jwt"]

JWT_SKEW_SECONDS = 30
"""Clock skew PostgREST tolerates on ``exp``, ``nbf`` and ``iat``."""

ALGORITHMS = frozenset(f"{kind}{bits}" for kind in ("HS", "RS", "ES") for bits in (256, 384, 512))
"""The algorithms PostgREST accepts (EdDSA is not supported)."""

_KTY = {"HS": "oct", "RS": "RSA", "ES": "EC"}
_JWS = jwt.PyJWS()


def _invalid_token(code: str, message: str, details: str | None = None) -> ApiError:
    header = 'Bearer error="invalid_token", error_description=' + json.dumps(message)
    return ApiError(401, code, message, details, None, {"WWW-Authenticate": header})


def _decode_error(message: str, details: str | None = None) -> ApiError:
    return _invalid_token("PGRST301", message, details)


def _claims_error(message: str) -> ApiError:
    return _invalid_token("PGRST303", message)


@lru_cache(maxsize=16)
def _jwks(secret: str) -> tuple[dict[str, Any], ...] | None:
    """The secret's JWKs when it is a JWK set or a single JWK (JSON); None for a plain secret."""
    text = secret.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, dict) and isinstance(value.get("keys"), list):
        return tuple(k for k in value["keys"] if isinstance(k, dict))
    if isinstance(value, dict) and "kty" in value:
        return (value,)
    return None


def _suitable(key: Mapping[str, Any], alg: str, kid: str | None) -> bool:
    """Whether a JWK may verify a token signed with ``alg`` (and ``kid``, when given)."""
    if key.get("kty") != _KTY[alg[:2]]:
        return False
    if key.get("alg") not in (None, alg) or key.get("use") not in (None, "sig"):
        return False
    return kid is None or key.get("kid") in (None, kid)


@lru_cache(maxsize=64)
def _keys(secret: str, alg: str, kid: str | None) -> tuple[jwt.PyJWK | str, ...]:
    """The keys that may verify a token with this ``alg`` and ``kid`` (PyJWT key objects)."""
    jwks = _jwks(secret)
    if jwks is None:  # a plain secret: an HMAC key
        return (secret,) if alg.startswith("HS") else ()
    keys: list[jwt.PyJWK | str] = []
    for data in jwks:
        if not _suitable(data, alg, kid):
            continue
        try:
            keys.append(jwt.PyJWK(data, algorithm=alg))
        except jwt.exceptions.MissingCryptographyError as exc:  # pragma: no cover
            raise RuntimeError(
                f"{alg} JWTs need the 'cryptography' package; install it or use an HS256 secret"
            ) from exc
        except jwt.PyJWTError:  # unusable key material: skipped, as in a JWK set
            continue
    return tuple(keys)


def _verified_payload(token: str, alg: str, keys: tuple[jwt.PyJWK | str, ...]) -> bytes:
    """The payload of the token, once one of the keys verifies its signature."""
    for key in keys:
        try:
            decoded = _JWS.decode_complete(token, key=key, algorithms=[alg])
        except jwt.PyJWTError:
            continue
        payload: bytes = decoded["payload"]
        return payload
    raise _decode_error("JWT cryptographic operation failed")


def _check_time_claims(claims: Mapping[str, Any], now: float) -> None:
    for key in ("exp", "nbf", "iat"):
        value = claims.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _claims_error(f"The JWT '{key}' claim must be a number")
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


@lru_cache(maxsize=1024)
def _verified_claims(token: str, secret: str) -> dict[str, Any]:
    """The claims of a token whose signature one of the secret's keys verifies.

    Cached (a user's token is sent with every request until it expires): the result
    depends only on the token and the secret; the time and audience checks, which depend
    on the clock and the request, run every time. Failures are not cached.
    """
    if not token:
        raise _decode_error("Empty JWT is sent in Authorization header")
    parts = token.count(".") + 1
    if parts != 3:
        raise _decode_error(f"Expected 3 parts in JWT; got {parts}")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _decode_error("JWT couldn't be decoded") from None
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise _decode_error(
            "Wrong or unsupported encoding algorithm", f"Unsupported algorithm {alg}"
        )
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    keys = _keys(secret, alg, kid)
    if not keys:
        raise _decode_error(
            "No suitable key or wrong key type", f"No key in the JWT secret can verify {alg}"
        )
    try:
        claims = json.loads(_verified_payload(token, alg, keys))
    except ValueError:
        raise _claims_error("Parsing claims failed") from None
    if not isinstance(claims, dict):
        raise _claims_error("Parsing claims failed")
    return claims


def decode_jwt(
    token: str, secret: str, *, audience: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """Verify a token and return its claims, or raise PostgREST's PGRST301/PGRST303.

    ``secret`` is an HMAC secret, or a JWK / JWK set (JSON) for HS*, RS* and ES* tokens.
    """
    claims = dict(_verified_claims(token, secret))
    _check_time_claims(claims, time.time() if now is None else now)
    _check_audience(claims, audience)
    return claims
