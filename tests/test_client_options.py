"""Per-call options (``with_options``) and the way down (``db.rest``): both share the
client's pool, retries and error mapping."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from jwts import anon_key, service_key, user_token
from test_repos_clients import job_row
from vidgen_db import (
    AsyncVidgenDB,
    ConfigurationError,
    InvalidArgumentError,
    NotFoundError,
    ServiceUnavailableError,
    VidgenDB,
)

URL = "https://project.supabase.co"
JOB = job_row()


class Recorder:
    """A transport answering each request from ``answers`` (the last one repeats),
    remembering each request's timeout and whether it was closed."""

    def __init__(self, *answers: tuple[int, object]) -> None:
        self.answers = list(answers) or [(200, [])]
        self.requests: list[httpx.Request] = []
        self.closed = False

    def timeouts(self) -> list[float | None]:
        return [r.extensions["timeout"]["read"] for r in self.requests]

    def respond(self, request: httpx.Request) -> httpx.Response:
        assert not self.closed, "the pool was closed under a client still in use"
        self.requests.append(request)
        status, body = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return httpx.Response(status, json=body)


class SyncRecorder(Recorder, httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.respond(request)

    def close(self) -> None:
        self.closed = True


class AsyncRecorder(Recorder, httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.respond(request)

    async def aclose(self) -> None:
        self.closed = True


def fast(**options: float) -> dict[str, object]:
    from vidgen_db import ClientSettings

    return {"settings": ClientSettings(initial_retry_delay=0, max_retry_delay=0, **options)}


def test_with_options_overrides_the_timeout_without_touching_the_parent() -> None:
    pool = SyncRecorder((200, [JOB]))
    with VidgenDB.service(URL, service_key(), transport=pool, **fast(timeout=10)) as db:  # type: ignore[arg-type]
        quick = db.with_options(timeout=0.5)
        quick.jobs.list(limit=1)
        db.jobs.list(limit=1)
        quick.jobs.list(limit=1)
        assert pool.timeouts() == [0.5, 10.0, 0.5]
        assert type(quick) is type(db) and quick is not db
        assert quick._settings.max_retries == db._settings.max_retries
    assert pool.closed  # closed once, by the client that owns it


def test_with_options_sets_the_retry_budget_per_call() -> None:
    pool = SyncRecorder((503, {"message": "down"}))
    with VidgenDB.service(URL, service_key(), transport=pool, **fast(max_retries=2)) as db:  # type: ignore[arg-type]
        with pytest.raises(ServiceUnavailableError):
            db.jobs.list(limit=1)
        assert len(pool.requests) == 3
        with pytest.raises(ServiceUnavailableError):
            db.with_options(max_retries=0).jobs.list(limit=1)
        assert len(pool.requests) == 4
        with pytest.raises(ServiceUnavailableError):
            db.jobs.list(limit=1)  # the parent kept its own budget
        assert len(pool.requests) == 7


def test_a_derived_client_never_closes_the_shared_pool() -> None:
    pool = SyncRecorder((200, []))
    db = VidgenDB.service(URL, service_key(), transport=pool)
    with db.with_options(timeout=1) as quick:
        quick.jobs.list(limit=1)
    assert not pool.closed
    db.jobs.list(limit=1)
    db.close()
    assert pool.closed


def test_user_clients_per_request_take_options_too() -> None:
    pool = SyncRecorder((200, []))
    with VidgenDB.anonymous(URL, anon_key(), transport=pool, **fast(timeout=10)) as anon:  # type: ignore[arg-type]
        user_id = uuid.uuid4()
        db = anon.as_user(user_token(user_id)).with_options(timeout=2)
        assert db.user_id == user_id
        db.projects.list(limit=1)
        assert pool.timeouts() == [2.0]
        assert pool.requests[0].headers["authorization"].endswith(user_token(user_id)[-20:])


def test_with_options_refuses_bad_values_and_a_foreign_pool() -> None:
    with VidgenDB.service(URL, service_key(), transport=SyncRecorder()) as db:
        with pytest.raises(InvalidArgumentError, match="timeout must be more than 0"):
            db.with_options(timeout=0)
        with pytest.raises(InvalidArgumentError, match="max_retries must be 0 to 10, not 11"):
            db.with_options(max_retries=11)
    with (
        httpx.Client(transport=SyncRecorder()) as own,
        VidgenDB.service(URL, service_key(), http_client=own) as db,
        pytest.raises(ConfigurationError, match="given http_client"),
    ):
        db.with_options(timeout=1)


async def test_async_with_options_shares_the_pool() -> None:
    pool = AsyncRecorder((200, [JOB]))
    async with AsyncVidgenDB.service(URL, service_key(), transport=pool, **fast(timeout=10)) as db:  # type: ignore[arg-type]
        await db.with_options(timeout=0.25).jobs.list(limit=1)
        await db.jobs.list(limit=1)
        assert pool.timeouts() == [0.25, 10.0]
    assert pool.closed


def test_rest_goes_through_the_clients_retries_and_errors() -> None:
    pool = SyncRecorder(
        (503, {"message": "down"}),
        (200, [{"id": JOB["id"], "job_steps": []}]),
    )
    with VidgenDB.service(URL, service_key(), transport=pool, **fast()) as db:  # type: ignore[arg-type]
        rows = db.rest.table("jobs").select("id, job_steps(*)").eq("id", JOB["id"]).execute()
        assert rows.data == [{"id": JOB["id"], "job_steps": []}]
        assert len(pool.requests) == 2  # the 503 was retried (a GET)
        assert pool.requests[-1].url.params["select"] == "id,job_steps(*)"
    missing = SyncRecorder(
        (406, {"code": "PGRST116", "message": "Cannot coerce the result", "details": None})
    )
    with VidgenDB.service(URL, service_key(), transport=missing) as db:
        with pytest.raises(NotFoundError) as caught:
            db.rest.table("jobs").select("*").eq("id", JOB["id"]).single().execute()
        assert caught.value.http_status == 404 and caught.value.upstream_status == 406


def test_user_clients_sharing_a_pool_each_send_their_own_token() -> None:
    # postgrest-py before 2.22 wrote a client's headers into the shared httpx client, so
    # the newest user client's token went out for every user: the floor is 2.22.3.
    pool = SyncRecorder((200, []))
    with VidgenDB.anonymous(URL, anon_key(), transport=pool) as anon:
        tokens = [user_token(uuid.uuid4()) for _ in range(3)]
        users = [anon.as_user(token) for token in tokens]
        for db in [*users, *reversed(users)]:
            db.projects.list(limit=1)
        sent = [r.headers["authorization"] for r in pool.requests]
        assert sent == [f"Bearer {t}" for t in [*tokens, *reversed(tokens)]]


def test_a_large_page_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    from pydantic import ValidationError

    from vidgen_db.models import Job
    from vidgen_db.repos._base import rows_from_json

    rows = [job_row(id=str(uuid.uuid4())) for _ in range(400)]
    body = json.dumps(rows).encode()
    assert len(body) > 64 * 1024  # large enough for the collector to be paused
    assert len(rows_from_json(Job, body)) == 400 and gc.isenabled()
    with pytest.raises(ValidationError):
        rows_from_json(Job, json.dumps([*rows, {"id": "not a uuid"}]).encode())
    assert gc.isenabled()
    gc.disable()
    try:
        rows_from_json(Job, body)
        assert not gc.isenabled()  # the application's choice is kept
    finally:
        gc.enable()
