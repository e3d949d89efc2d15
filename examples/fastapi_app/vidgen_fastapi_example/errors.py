"""Every error answers ``{"code": ..., "message": ...}`` with the status it calls for."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse

from vidgen_db import InsufficientCreditsError, VidgenDBError

log = logging.getLogger("vidgen_fastapi_example")


class AppError(Exception):
    """An error of the service itself (no access token, a bad webhook signature), answered
    in the same shape as the SDK's errors."""

    def __init__(self, http_status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message


def error_response(status: int, body: dict[str, object]) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status, headers=headers)


async def vidgen_db_error(request: Request, exc: VidgenDBError) -> JSONResponse:
    """Every error the SDK raises: the status it says to answer with, its stable code and
    its safe message. ``str(exc)`` has the server's own words (SQL, table and function
    names): it goes to the log, never to the client."""
    if exc.http_status >= 500:
        log.error(
            "%s %s failed: %s (upstream request id: %s)",
            request.method,
            request.url.path,
            exc,
            exc.request_id,
        )
    body: dict[str, object] = {"code": exc.code, "message": exc.user_message}
    if isinstance(exc, InsufficientCreditsError):
        body |= {"required": exc.required, "balance": exc.balance}
    return error_response(exc.http_status, body)


async def app_error(request: Request, exc: AppError) -> JSONResponse:
    return error_response(exc.http_status, {"code": exc.code, "message": exc.message})
