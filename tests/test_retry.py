"""The retry policy under injected faults: what is retried, what never is."""

from __future__ import annotations

import logging
import time
import uuid

import httpx
import pytest
import respx

from jwts import anon_key, service_key, user_token
from vidgen_db import (
    AsyncVidgenDB,
    ClientSettings,
    NetworkError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServiceUnavailableError,
    TransientError,
    UniqueViolationError,
    VidgenDB,
    retry_options,
)
from vidgen_db._retry import is_idempotent
from vidgen_db.models import ProjectInsert

URL = "https://ref.supabase.co"
REST = f"{URL}/rest/v1"
PROJECT = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
FAST = ClientSettings(max_retries=2, initial_retry_delay=0.0, max_retry_delay=0.0)
ROW = {
    "id": str(PROJECT),
    "user_id": str(uuid.uuid4()),
    "title": "t",
    "prompt_text": "p",
    "niche_preset": "facts",
    "target_minutes": 1,
    "voice_profile_id": None,
    "transcript_mode": "auto",
    "transcript_text": None,
    "settings": {},
    "created_at": "2026-11-28T10:00:00+00:00",
    "updated_at": "2026-11-28T10:00:00+00:00",
}


def service() -> VidgenDB:
    return VidgenDB.service(URL, service_key(), settings=FAST)


def test_a_503_then_success_is_retried() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{REST}/projects").mock(
            side_effect=[httpx.Response(503, text="busy"), httpx.Response(200, json=ROW)]
        )
        with service() as db:
            assert db.projects.get(PROJECT).id == PROJECT
    assert route.call_count == 2


def test_a_timeout_on_a_read_is_retried_then_reported() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{REST}/projects").mock(side_effect=httpx.ReadTimeout("slow"))
        with service() as db, pytest.raises(RequestTimeoutError):
            db.projects.get(PROJECT)
    assert route.call_count == 3  # the first attempt and two retries


def test_retries_give_up_with_the_last_error() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{REST}/projects").mock(
            return_value=httpx.Response(502, text="<h1>Bad Gateway</h1>")
        )
        with service() as db, pytest.raises(ServiceUnavailableError) as info:
            db.projects.get(PROJECT)
    assert route.call_count == 3
    assert info.value.status_code == 502 and "Bad Gateway" in info.value.message


def test_a_non_idempotent_insert_is_never_retried_blindly() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/grant_credits").mock(side_effect=httpx.ReadTimeout("slow"))
        with service() as db, pytest.raises(RequestTimeoutError):
            db._rest.rpc("grant_credits", {"p_user_id": str(uuid.uuid4()), "p_amount": 5}).execute()
    assert route.call_count == 1


def test_a_reset_during_a_reservation_is_retried_safely() -> None:
    """reserve_credits is idempotent per job: the retry cannot reserve twice."""
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/reserve_credits").mock(
            side_effect=[
                httpx.RemoteProtocolError("Server disconnected"),
                httpx.Response(200, json=True),
            ]
        )
        with service() as db:
            result = db._rest.rpc(
                "reserve_credits",
                {"p_user_id": str(uuid.uuid4()), "p_job_id": str(uuid.uuid4()), "p_amount": 10},
            ).execute()
    assert result.data is True
    assert route.call_count == 2
    assert route.calls[0].request.content == route.calls[1].request.content


def test_a_connection_that_was_never_made_is_retried_for_any_request() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/grant_credits").mock(
            side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=15)]
        )
        with service() as db:
            result = db._rest.rpc(
                "grant_credits", {"p_user_id": str(uuid.uuid4()), "p_amount": 5}
            ).execute()
    assert result.data == 15 and route.call_count == 2


def test_a_serialization_failure_is_retried_even_for_writes() -> None:
    failure = {
        "code": "40001",
        "message": "could not serialize access",
        "details": None,
        "hint": None,
    }
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/append_job_log").mock(
            side_effect=[httpx.Response(500, json=failure), httpx.Response(200, json=7)]
        )
        with service() as db:
            result = db._rest.rpc(
                "append_job_log", {"p_job_id": str(uuid.uuid4()), "p_message": "x"}
            ).execute()
    assert result.data == 7 and route.call_count == 2


def test_retry_after_is_honoured() -> None:
    with respx.mock() as mock:
        mock.get(f"{REST}/projects").mock(
            side_effect=[
                httpx.Response(503, headers={"Retry-After": "0.3"}),
                httpx.Response(200, json=ROW),
            ]
        )
        with service() as db:
            start = time.monotonic()
            db.projects.get(PROJECT)
            assert time.monotonic() - start >= 0.3


def test_a_retry_after_beyond_the_limit_is_not_waited_for() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{REST}/projects").mock(
            return_value=httpx.Response(503, headers={"Retry-After": "3600"})
        )
        with service() as db, pytest.raises(ServiceUnavailableError):
            db.projects.get(PROJECT)
    assert route.call_count == 1


def test_retries_are_configurable_per_client_and_per_call() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{REST}/projects").mock(side_effect=httpx.ConnectError("down"))
        with VidgenDB.service(URL, service_key(), settings=ClientSettings(max_retries=0)) as db:
            with pytest.raises(NetworkError):
                db.projects.get(PROJECT)
            assert route.call_count == 1
            with retry_options(max_retries=1, idempotent=True), pytest.raises(NetworkError):
                db.projects.get(PROJECT)
            assert route.call_count == 3


def test_client_ids_make_project_inserts_retry_safe() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{REST}/projects").mock(
            side_effect=[httpx.ReadTimeout("lost"), httpx.Response(201, json=[])]
        )
        mock.get(f"{REST}/projects").mock(return_value=httpx.Response(200, json=ROW))
        with service() as db:
            project = db.projects.create(
                ProjectInsert(
                    id=PROJECT,
                    user_id=uuid.uuid4(),
                    title="t",
                    prompt_text="p",
                    niche_preset="facts",
                )
            )
    assert project.id == PROJECT and route.call_count == 2


def test_a_conflict_is_not_retried() -> None:
    conflict = {"code": "23505", "message": "duplicate key", "details": None, "hint": None}
    with respx.mock() as mock:
        route = mock.patch(f"{REST}/projects").mock(return_value=httpx.Response(409, json=conflict))
        with service() as db, pytest.raises(UniqueViolationError):
            from vidgen_db.models import ProjectUpdate

            db.projects.update(PROJECT, ProjectUpdate(title="x"))
    assert route.call_count == 1


def test_idempotency_rules() -> None:
    policy = RetryPolicy()

    def req(method: str, path: str, prefer: str = "") -> httpx.Request:
        return httpx.Request(method, f"{REST}{path}", headers={"Prefer": prefer} if prefer else {})

    assert is_idempotent(req("GET", "/jobs"), policy)
    assert is_idempotent(req("PATCH", "/jobs"), policy)
    assert is_idempotent(req("POST", "/rpc/settle_job_credits"), policy)
    assert not is_idempotent(req("POST", "/rpc/grant_credits"), policy)
    assert not is_idempotent(req("POST", "/projects", "return=representation"), policy)
    assert is_idempotent(req("POST", "/projects", "resolution=ignore-duplicates"), policy)


async def test_async_retries_the_same_way() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{REST}/projects").mock(
            side_effect=[
                httpx.RemoteProtocolError("Server disconnected"),
                httpx.Response(200, json=ROW),
            ]
        )
        async with AsyncVidgenDB.for_user(URL, anon_key(), user_token(), settings=FAST) as db:
            assert (await db.projects.get(PROJECT)).id == PROJECT
    assert route.call_count == 2


def test_a_429_is_retried_after_retry_after_when_safe() -> None:
    with respx.mock() as mock:
        route = mock.get(f"{REST}/projects").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "0.2"}, json={"message": "slow down"}),
                httpx.Response(200, json=ROW),
            ]
        )
        start = time.monotonic()
        with service() as db:
            assert db.projects.get(PROJECT).id == PROJECT
    assert route.call_count == 2 and time.monotonic() - start >= 0.2


def test_a_429_on_an_unsafe_request_is_a_rate_limit_error_not_retried() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/append_job_log").mock(
            return_value=httpx.Response(429, headers={"Retry-After": "1"}, text="Too Many Requests")
        )
        with service() as db, pytest.raises(RateLimitError) as info:
            # (Without its idempotency key: db.logs.append sends one, and is retried.)
            db._rest.rpc(
                "append_job_log", {"p_job_id": str(PROJECT), "p_message": "a line"}
            ).execute()
    assert route.call_count == 1
    assert info.value.status_code == 429 and isinstance(info.value, TransientError)


def test_each_retry_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="vidgen_db")
    with respx.mock() as mock:
        mock.get(f"{REST}/projects").mock(
            side_effect=[
                httpx.Response(503, text="busy"),
                httpx.ConnectError("refused"),
                httpx.Response(200, json=ROW),
            ]
        )
        with service() as db:
            db.projects.get(PROJECT)
    lines = [r.getMessage() for r in caplog.records if r.name == "vidgen_db.http"]
    assert len(lines) == 2
    assert lines[0].startswith("retrying GET /rest/v1/projects (retry 1 of 2)")
    assert lines[0].endswith(": HTTP 503") and lines[1].endswith(": ConnectError")
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "vidgen_db.http")


def test_the_success_path_builds_no_retry_machinery(monkeypatch: pytest.MonkeyPatch) -> None:
    import vidgen_db._http as http

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a retrying object was built for a request that succeeded")

    monkeypatch.setattr(http, "Retrying", refuse)
    with respx.mock() as mock:
        mock.get(f"{REST}/projects").mock(return_value=httpx.Response(200, json=ROW))
        with service() as db:
            assert db.projects.get(PROJECT).id == PROJECT
