"""Errors mapped in one place from PostgREST bodies (real shapes), SQLSTATEs and statuses."""

from __future__ import annotations

import json

import httpx
import pytest

from vidgen_db import (
    APIError,
    AuthenticationError,
    BadRequestError,
    CheckViolationError,
    ConflictError,
    CreditStateError,
    ForeignKeyViolationError,
    IllegalJobTransitionError,
    InsufficientCreditsError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RequestTimeoutError,
    SerializationFailureError,
    ServerError,
    ServiceUnavailableError,
    TransientError,
    UniqueViolationError,
    VidgenDBError,
)
from vidgen_db._error_mapping import error_from_response, error_from_transport


def body(code: str, message: str, details: str | None = None, hint: str | None = None) -> bytes:
    return json.dumps({"code": code, "message": message, "details": details, "hint": hint}).encode()


CASES = [
    (
        409,
        body(
            "23505",
            'duplicate key value violates unique constraint "projects_pkey"',
            "Key (id)=(1) already exists.",
        ),
        UniqueViolationError,
    ),
    (
        409,
        body("23503", 'insert or update on table "jobs" violates foreign key constraint'),
        ForeignKeyViolationError,
    ),
    (
        400,
        body("23514", 'new row for relation "projects" violates check constraint'),
        CheckViolationError,
    ),
    (400, body("22P02", 'invalid input syntax for type uuid: "x"'), BadRequestError),
    (400, body("PGRST100", '"failed to parse filter (eqq.1)" (line 1, column 4)'), BadRequestError),
    (403, body("42501", "permission denied for table credit_ledger"), PermissionDeniedError),
    (401, body("42501", "permission denied for function reserve_credits"), PermissionDeniedError),
    (401, body("PGRST301", "JWSError JWSInvalidSignature"), AuthenticationError),
    (401, body("PGRST303", "JWT expired"), AuthenticationError),
    (
        406,
        body(
            "PGRST116",
            "JSON object requested, multiple (or no) rows returned",
            "The result contains 0 rows",
        ),
        NotFoundError,
    ),
    (
        404,
        body("PGRST202", "Could not find the function public.nope without parameters"),
        NotFoundError,
    ),
    (
        400,
        body("VG101", "insufficient credits: job x needs 10, the balance is 5"),
        InsufficientCreditsError,
    ),
    (
        400,
        body(
            "VG201", "illegal job transition READY -> SCRIPTING", None, "READY and FAILED are final"
        ),
        IllegalJobTransitionError,
    ),
    (400, body("VG104", "job x: credits were already refunded"), CreditStateError),
    (400, body("VG002", "unknown job x"), NotFoundError),
    (
        500,
        body("40001", "could not serialize access due to concurrent update"),
        SerializationFailureError,
    ),
    (500, body("40P01", "deadlock detected"), SerializationFailureError),
    (
        503,
        body("PGRST001", "Database client error. Retrying the connection."),
        ServiceUnavailableError,
    ),
    (500, body("XX000", "internal error"), ServerError),
]


@pytest.mark.parametrize(
    ("status", "payload", "cls"), CASES, ids=[c[2].__name__ + str(i) for i, c in enumerate(CASES)]
)
def test_postgrest_error_bodies(status: int, payload: bytes, cls: type[APIError]) -> None:
    error = error_from_response(status, payload)
    assert type(error) is cls
    data = json.loads(payload)
    assert error.code == data["code"]
    assert error.message == data["message"]
    assert error.details == data["details"]
    assert error.hint == data["hint"]
    assert error.status_code == status
    assert isinstance(error, VidgenDBError)
    assert data["code"] in str(error) and str(status) in str(error)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (502, ServiceUnavailableError),
        (504, ServiceUnavailableError),
        (520, ServiceUnavailableError),
        (500, ServerError),
        (404, NotFoundError),
        (409, ConflictError),
        (418, APIError),
    ],
)
def test_non_json_bodies_still_give_a_proper_error(status: int, cls: type[APIError]) -> None:
    html = (
        b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    )
    error = error_from_response(status, html, "Bad Gateway")
    assert type(error) is cls
    assert error.code == cls.default_code and error.upstream_status == status
    assert "Bad Gateway" in error.message and "<" not in error.message


def test_transient_errors_are_marked_transient() -> None:
    assert issubclass(ServiceUnavailableError, TransientError)
    assert issubclass(SerializationFailureError, TransientError)
    timeout = error_from_transport(httpx.ReadTimeout("timed out"))
    assert isinstance(timeout, RequestTimeoutError) and isinstance(timeout, TransientError)
    reset = error_from_transport(httpx.RemoteProtocolError("Server disconnected"))
    assert isinstance(reset, NetworkError) and "Server disconnected" in str(reset)


def test_empty_and_odd_bodies() -> None:
    assert type(error_from_response(500, b"")) is ServerError
    assert type(error_from_response(400, b"[1, 2]")) is BadRequestError
    assert error_from_response(400, b"\xff\xfe").code == "bad_request"


def test_keys_in_third_party_messages_are_redacted() -> None:
    from jwts import service_key

    key = service_key()
    failure = httpx.ConnectError(
        f"cannot open wss://ref.supabase.co/realtime/v1/websocket?apikey={key}&vsn=1.0.0"
    )
    error = error_from_transport(failure)
    assert key not in str(error) and "apikey=***" in str(error)
    page = f"<html><body>bad gateway for Bearer {key} sb_secret_abcDEF123</body></html>".encode()
    message = error_from_response(502, page).message
    assert key not in message and "sb_secret_abcDEF123" not in message and "***" in message
