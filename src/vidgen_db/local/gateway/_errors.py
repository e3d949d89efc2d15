"""PostgREST's error shape and its SQLSTATE-to-HTTP-status mapping."""

from __future__ import annotations

import json
from typing import Any

import psycopg

__all__ = ["ApiError", "from_pg_error", "not_implemented", "pg_error_status", "query_param_error"]


class ApiError(Exception):
    """An error answered as PostgREST does: a status and ``{code, message, details, hint}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        hint: Any = None,
        headers: dict[str, str] | None = None,
        *,
        raw_body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.raw_body = raw_body
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body of the response."""
        if self.raw_body is not None:
            return self.raw_body
        return {
            "code": self.code,
            "details": self.details,
            "hint": self.hint,
            "message": self.message,
        }


def query_param_error(message: str, details: str) -> ApiError:
    """PGRST100: the query string could not be parsed."""
    return ApiError(400, "PGRST100", message, details)


def not_implemented(feature: str) -> ApiError:
    """PGRST127: a PostgREST feature this gateway does not implement."""
    return ApiError(
        400,
        "PGRST127",
        "Feature not implemented",
        f"{feature} is not supported by the vidgen_db local gateway",
    )


_PREFIX_STATUS: tuple[tuple[str, int], ...] = (
    ("08", 503),
    ("09", 500),
    ("0L", 403),
    ("0P", 403),
    ("25", 500),
    ("28", 403),
    ("2D", 500),
    ("38", 500),
    ("39", 500),
    ("3B", 500),
    ("40", 500),
    ("53", 503),
    ("54", 500),
    ("55", 500),
    ("57", 500),
    ("58", 500),
    ("F0", 500),
    ("HV", 500),
    ("P0", 500),
    ("XX", 500),
)

_EXACT_STATUS = {
    "23503": 409,
    "23505": 409,
    "25006": 405,
    "53400": 500,
    "57P01": 503,
    "P0001": 400,
    "42883": 404,
    "42P01": 404,
    "42P17": 500,
}


def pg_error_status(sqlstate: str, message: str, authenticated: bool) -> int:
    """The HTTP status PostgREST answers for a PostgreSQL error."""
    if sqlstate == "42501":
        return 403 if authenticated else 401
    if sqlstate == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if sqlstate == "22023":
        is_role = message.startswith("role") and message.endswith("does not exist")
        return 401 if is_role else 400
    if sqlstate in _EXACT_STATUS:
        return _EXACT_STATUS[sqlstate]
    if sqlstate.startswith("PT"):
        try:
            status = int(sqlstate[2:])
        except ValueError:
            return 500
        return status if 100 <= status <= 599 else 500
    for prefix, status in _PREFIX_STATUS:
        if sqlstate.startswith(prefix):
            return status
    return 400


def _raise_pgrst(message: str, detail: str | None) -> ApiError:
    """An error raised with ``RAISE SQLSTATE 'PGRST'`` carrying JSON message and detail."""
    try:
        msg = json.loads(message)
        if not isinstance(msg, dict) or "code" not in msg or "message" not in msg:
            raise ValueError
    except ValueError:
        return ApiError(
            500,
            "PGRST121",
            "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
            f"Invalid JSON value for MESSAGE: '{message}'",
            "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and "
            "optional keys: 'details', 'hint'.",
        )
    det_hint = (
        "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and "
        "optional key: 'status_text'."
    )
    if detail is None:
        return ApiError(
            500,
            "PGRST121",
            "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
            "DETAIL is missing in the RAISE statement",
            det_hint,
        )
    try:
        det = json.loads(detail)
        if not isinstance(det, dict) or not isinstance(det.get("status"), int):
            raise ValueError
        headers = det.get("headers", {})
        if not isinstance(headers, dict):
            raise ValueError
    except ValueError:
        return ApiError(
            500,
            "PGRST121",
            "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
            f"Invalid JSON value for DETAIL: '{detail}'",
            det_hint,
        )
    return ApiError(
        det["status"],
        str(msg["code"]),
        str(msg["message"]),
        msg.get("details"),
        msg.get("hint"),
        {str(k): str(v) for k, v in headers.items()},
    )


def from_pg_error(exc: psycopg.Error, authenticated: bool) -> ApiError:
    """Translate a database error into PostgREST's response."""
    diag = exc.diag
    sqlstate = diag.sqlstate or exc.sqlstate
    if sqlstate is None:
        return ApiError(
            503, "PGRST001", "Database client error. Retrying the connection.", str(exc)
        )
    message = diag.message_primary or str(exc)
    if sqlstate == "PGRST":
        return _raise_pgrst(message, diag.message_detail)
    status = pg_error_status(sqlstate, message, authenticated)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return ApiError(status, sqlstate, message, diag.message_detail, diag.message_hint, headers)
