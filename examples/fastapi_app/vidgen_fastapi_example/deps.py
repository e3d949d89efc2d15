"""Dependencies: the clients made at start-up, and the signed-in user's client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vidgen_db import (
    AsyncAnonDB,
    AsyncServiceDB,
    AsyncUserDB,
    AuthenticationError,
    ConfigurationError,
)
from vidgen_fastapi_example.errors import AppError
from vidgen_fastapi_example.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def anon_db(request: Request) -> AsyncAnonDB:
    anon: AsyncAnonDB = request.app.state.anon
    return anon


def service_db(request: Request) -> AsyncServiceDB:
    service: AsyncServiceDB = request.app.state.service
    return service


# auto_error=False: a missing or malformed header is ours to answer, with a 401 in the
# shape of every other error (a required Header() parameter would make it FastAPI's 422).
bearer = HTTPBearer(auto_error=False, description="The user's Supabase access token")


def unauthenticated() -> AppError:
    # Answered as the SDK answers a token the database refuses (AuthenticationError):
    # 401, "Please sign in again."; a client has one case to handle.
    return AppError(401, AuthenticationError.default_code, AuthenticationError.default_user_message)


def user_db(
    anon: Annotated[AsyncAnonDB, Depends(anon_db)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AsyncUserDB:
    """The signed-in user's client, from ``Authorization: Bearer <access token>``. It
    shares the anonymous client's pool, costs nothing to make and needs no closing. Row
    level security keeps it to the user's rows; the token's signature and expiry are
    checked by the database on the first query."""
    if credentials is None:
        raise unauthenticated()
    try:
        return anon.as_user(credentials.credentials)
    except ConfigurationError:  # not a signed-in user's JWT: a key, garbage, no "sub"
        raise unauthenticated() from None


AnonDB = Annotated[AsyncAnonDB, Depends(anon_db)]
UserDB = Annotated[AsyncUserDB, Depends(user_db)]
ServiceDB = Annotated[AsyncServiceDB, Depends(service_db)]
AppSettings = Annotated[Settings, Depends(get_settings)]

#: The client's key for a request it may send twice (a double-clicked button, a retry).
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
#: Where a list goes on: the previous page's ``next_cursor``, as the client got it.
PageCursor = Annotated[str | None, Query()]
PageSize = Annotated[int, Query(ge=1, le=100)]
