"""The one place that turns data-API responses and transport failures into vidgen_db errors."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from ._errors import (
    ActiveJobError,
    APIError,
    AuthenticationError,
    BadRequestError,
    CheckViolationError,
    ConflictError,
    CreditStateError,
    ForeignKeyViolationError,
    IdempotencyKeyReusedError,
    IllegalJobTransitionError,
    InsufficientCreditsError,
    JobCancelledError,
    LeaseLostError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    SerializationFailureError,
    ServerError,
    ServiceUnavailableError,
    UniqueViolationError,
    UnknownWorkerError,
)
from ._keys import redact_secrets

__all__ = [
    "RATE_LIMITED",
    "TRANSIENT_STATUSES",
    "error_from_response",
    "error_from_transport",
    "is_transient_body",
]

#: Statuses of a gateway or an API that is briefly unavailable.
TRANSIENT_STATUSES = frozenset({502, 503, 504, 520})
#: Too many requests: worth repeating later (after Retry-After), when safe.
RATE_LIMITED = 429

_BY_CODE: dict[str, type[APIError]] = {
    "23505": UniqueViolationError,
    "23503": ForeignKeyViolationError,
    "23514": CheckViolationError,
    "42501": PermissionDeniedError,
    "40001": SerializationFailureError,
    "40P01": SerializationFailureError,
    "PGRST116": NotFoundError,
    "PGRST202": NotFoundError,
    "PGRST205": NotFoundError,
    "42P01": NotFoundError,
    "42883": NotFoundError,
    "PGRST301": AuthenticationError,
    "PGRST302": AuthenticationError,
    "PGRST303": AuthenticationError,
    # vidgen_db's own SQLSTATEs (docs/credits-and-jobs.md)
    "VG001": NotFoundError,
    "VG002": NotFoundError,
    "VG003": PermissionDeniedError,
    "VG101": InsufficientCreditsError,
    "VG102": CreditStateError,
    "VG103": CreditStateError,
    "VG104": CreditStateError,
    "VG105": CreditStateError,
    "VG106": CreditStateError,
    "VG107": IdempotencyKeyReusedError,
    "VG201": IllegalJobTransitionError,
    "VG202": BadRequestError,
    "VG203": ConflictError,
    "VG301": UnknownWorkerError,
    "VG302": LeaseLostError,
    "VG303": JobCancelledError,
    "VG304": ActiveJobError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    406: NotFoundError,
    409: ConflictError,
    408: RequestTimeoutError,
    429: RateLimitError,
}

_TAGS = re.compile(r"<[^>]+>")
#: Where Supabase's API gateway (and common proxies) put the request's id.
_REQUEST_ID_HEADERS = ("sb-request-id", "x-request-id", "cf-ray")


def _parse_body(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def is_transient_body(status: int, body: bytes) -> bool:
    """Whether a response says the transaction was rolled back and may simply be retried."""
    if status in TRANSIENT_STATUSES:
        return True
    data = _parse_body(body)
    return bool(data) and str((data or {}).get("code")) in {"40001", "40P01"}


def error_from_response(
    status: int, body: bytes, reason: str = "", headers: httpx.Headers | None = None
) -> APIError:
    """The error for an unsuccessful response, whatever its body (JSON or not)."""
    data = _parse_body(body)
    code: str | None = None
    details = hint = None
    if data is not None and ("message" in data or "code" in data):
        code = str(data["code"]) if data.get("code") is not None else None
        message = str(data.get("message") or reason or f"HTTP {status}")
        details = None if data.get("details") is None else str(data["details"])
        hint = None if data.get("hint") is None else str(data["hint"])
    else:
        # A proxy's HTML page or plain text: keep a readable, short excerpt.
        text = " ".join(_TAGS.sub(" ", body.decode("utf-8", "replace")).split())
        message = f"HTTP {status} {reason}".strip()
        if text:
            message += f": {redact_secrets(text)[:200]}"
    cls = _class_for(status, code)
    request_id = None
    if headers is not None:
        request_id = next((headers[h] for h in _REQUEST_ID_HEADERS if h in headers), None)
    return cls(
        message,
        code=code,
        details=details,
        hint=hint,
        status_code=status,
        request_id=request_id,
    )


def _class_for(status: int, code: str | None) -> type[APIError]:
    if code is not None:
        if code in _BY_CODE:
            return _BY_CODE[code]
        if code.startswith("22") or code.startswith("PGRST1"):
            return BadRequestError
        if code.startswith("23"):
            return BadRequestError
        if code.startswith("08"):
            return ServiceUnavailableError
    if status in TRANSIENT_STATUSES:
        return ServiceUnavailableError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return APIError


def error_from_transport(exc: httpx.TransportError) -> APIError:
    """The error for a request that got no response."""
    kind = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(f"no answer in time ({kind})")
    return NetworkError(f"the connection failed ({kind}: {redact_secrets(str(exc))})")
