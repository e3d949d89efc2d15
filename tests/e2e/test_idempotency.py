"""A lost response on a grant, an expiry and a log line, for real: the request reaches the
local stack, the database commits, and the response is thrown away on its way back (the
client sees a connection reset). Each applies exactly once, whether the SDK retries it
itself or the caller retries it with the same idempotency key; balances stay equal to
their ledgers. And a log line lost for good never fails the job."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from vidgen_db import ClientSettings, NetworkError, ServiceDB, VidgenDB
from vidgen_db.models import JobLogInsert
from vidgen_db.testing import LocalStack

from .helpers import job_for, project_for

RETRYING = ClientSettings(max_retries=2, initial_retry_delay=0.0, max_retry_delay=0.0)
NOT_RETRYING = ClientSettings(max_retries=0)


class DropAfterCommit(httpx.BaseTransport):
    """The real transport, except that the first ``drops[name]`` calls of ``/rpc/<name>``
    get their response read and thrown away: the server committed, the client hears a
    connection reset."""

    def __init__(self, drops: dict[str, int]) -> None:
        self._inner = httpx.HTTPTransport()
        self.drops = drops

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.read()
        name = request.url.path.rpartition("/rpc/")[2]
        if "/rpc/" in request.url.path and self.drops.get(name, 0) > 0:
            self.drops[name] -= 1
            response.close()
            raise httpx.ReadError("connection reset after the server answered", request=request)
        return response

    def close(self) -> None:
        self._inner.close()


def client(stack: LocalStack, drops: dict[str, int], settings: ClientSettings) -> ServiceDB:
    """A service client whose transport loses the responses ``drops`` names (all of them
    must be lost before the test ends: see ``lost``)."""
    return VidgenDB.service(
        stack.url, stack.service_key, settings=settings, transport=DropAfterCommit(drops)
    )


def lost(drops: dict[str, int]) -> bool:
    """Whether every response meant to be lost was."""
    return not any(drops.values())


@pytest.fixture
def conn(local_stack: LocalStack) -> Iterator[psycopg.Connection[Any]]:
    with local_stack.connect() as c:
        yield c


def ledger(conn: psycopg.Connection[Any], user: uuid.UUID, kind: str) -> list[int]:
    rows = conn.execute(
        "SELECT amount FROM public.credit_ledger WHERE user_id = %s AND type = %s "
        "ORDER BY created_at",
        (user, kind),
    ).fetchall()
    return [r[0] for r in rows]


def assert_balances_match_ledgers(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "SELECT b.user_id, b.balance, (SELECT coalesce(sum(l.amount), 0) "
        "FROM public.credit_ledger AS l WHERE l.user_id = b.user_id) FROM public.credit_balances AS b"
    ).fetchall()
    assert rows and all(balance == total for _, balance, total in rows)


def log_lines(conn: psycopg.Connection[Any], job: uuid.UUID) -> list[tuple[int, str]]:
    rows = conn.execute(
        "SELECT line_no, message FROM public.job_logs WHERE job_id = %s ORDER BY line_no", (job,)
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def new_user(stack: LocalStack) -> uuid.UUID:
    user_id, _ = stack.create_user(f"idem-{uuid.uuid4().hex[:10]}@example.com")
    return user_id


def new_job(stack: LocalStack, service: ServiceDB) -> uuid.UUID:
    user_id, token = stack.create_user(f"idem-{uuid.uuid4().hex[:10]}@example.com")
    with stack.user_client(token) as owner:
        project = owner.projects.create(project_for(user_id))
    return service.jobs.create(job_for(project.id, user_id)).id


# -- the SDK's own retry ------------------------------------------------------------------------


def test_a_grant_whose_response_was_lost_is_retried_and_applied_once(
    local_stack: LocalStack, conn: psycopg.Connection[Any]
) -> None:
    user = new_user(local_stack)
    drops = {"grant_credits": 1}
    with client(local_stack, drops, RETRYING) as db:
        assert db.credits.grant(user, 9) == 19
    assert lost(drops)
    assert ledger(conn, user, "grant") == [10, 9]
    assert_balances_match_ledgers(conn)


def test_an_expiry_whose_response_was_lost_is_retried_and_applied_once(
    local_stack: LocalStack, conn: psycopg.Connection[Any]
) -> None:
    user = new_user(local_stack)
    drops = {"expire_credits": 2}
    with client(local_stack, drops, RETRYING) as db:
        assert db.credits.expire(user, 4) == 4
    assert lost(drops)
    assert ledger(conn, user, "expire") == [-4]
    assert_balances_match_ledgers(conn)


def test_a_log_line_whose_response_was_lost_is_retried_and_stored_once(
    local_stack: LocalStack, service: ServiceDB, conn: psycopg.Connection[Any]
) -> None:
    job = new_job(local_stack, service)
    drops = {"append_job_log": 1}
    with client(local_stack, drops, RETRYING) as db:
        assert db.logs.append(job, "rendering") == 1
        assert db.logs.append(job, "rendered") == 2
    assert lost(drops)
    assert log_lines(conn, job) == [(1, "rendering"), (2, "rendered")]


def test_a_batch_of_lines_whose_response_was_lost_is_retried_and_stored_once(
    local_stack: LocalStack, service: ServiceDB, conn: psycopg.Connection[Any]
) -> None:
    job = new_job(local_stack, service)
    drops = {"append_job_logs": 2}
    batch = [JobLogInsert(job_id=job, message=f"line {n}") for n in range(1, 4)]
    with client(local_stack, drops, RETRYING) as db:
        assert db.logs.append_many(job, batch) == 3
        assert db.logs.append_many(job, batch[:1]) == 4
    assert lost(drops)
    assert log_lines(conn, job) == [(1, "line 1"), (2, "line 2"), (3, "line 3"), (4, "line 1")]
    # The caller's own retry with its key, after the SDK gave up: nothing more.
    drops = {"append_job_logs": 1}
    with client(local_stack, drops, NOT_RETRYING) as db:
        with pytest.raises(NetworkError):
            db.logs.append_many(job, batch, idempotency_key="batch-9")
        assert db.logs.append_many(job, batch, idempotency_key="batch-9") == 7
    assert len(log_lines(conn, job)) == 7


# -- the caller's own retry, with the same key ---------------------------------------------------


def test_the_callers_retry_with_the_same_key_applies_once(
    local_stack: LocalStack, service: ServiceDB, conn: psycopg.Connection[Any]
) -> None:
    user = new_user(local_stack)
    job = new_job(local_stack, service)
    drops = {"grant_credits": 1, "expire_credits": 1, "append_job_log": 1}
    with client(local_stack, drops, NOT_RETRYING) as db:
        calls = [
            lambda: db.credits.grant(user, 9, idempotency_key="grant-7"),
            lambda: db.credits.expire(user, 3, idempotency_key="expire-7"),
            lambda: db.logs.append(job, "a line", idempotency_key="log-7"),
        ]
        for call in calls:
            with pytest.raises(NetworkError):
                call()  # applied, but the caller cannot know
        assert [call() for call in calls] == [19, 3, 1]  # the retries: the first results
        assert [call() for call in calls] == [19, 3, 1]  # and again
    assert lost(drops)
    assert ledger(conn, user, "grant") == [10, 9]
    assert ledger(conn, user, "expire") == [-3]
    assert log_lines(conn, job) == [(1, "a line")]
    assert_balances_match_ledgers(conn)


def test_without_the_same_key_a_retry_is_a_new_request(
    local_stack: LocalStack, conn: psycopg.Connection[Any]
) -> None:
    """What the keys prevent: the caller retrying with a new call (a new key) grants again."""
    user = new_user(local_stack)
    drops = {"grant_credits": 1}
    with client(local_stack, drops, NOT_RETRYING) as db:
        with pytest.raises(NetworkError):
            db.credits.grant(user, 9)
        assert db.credits.grant(user, 9) == 28
    assert lost(drops)
    assert ledger(conn, user, "grant") == [10, 9, 9]
    assert_balances_match_ledgers(conn)


# -- log lines inside a step ----------------------------------------------------------------------


def test_a_step_log_whose_response_was_lost_is_stored_once(
    local_stack: LocalStack, service: ServiceDB, conn: psycopg.Connection[Any]
) -> None:
    job = new_job(local_stack, service)
    service.jobs.queue(job, 2)
    drops = {"append_job_log": 1}
    with client(local_stack, drops, RETRYING) as db:
        with db.jobs.step(job, "SCRIPTING") as step:
            assert step.log("writing the script") == 1
            assert step.log("done") == 2
        db.jobs.finish(job, "https://cdn.example.com/v.mp4")
    assert lost(drops)
    assert log_lines(conn, job) == [(1, "writing the script"), (2, "done")]


def test_a_step_log_lost_for_good_is_dropped_with_a_warning_and_the_job_goes_on(
    local_stack: LocalStack,
    service: ServiceDB,
    conn: psycopg.Connection[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = new_job(local_stack, service)
    service.jobs.queue(job, 2)
    caplog.set_level(logging.WARNING, logger="vidgen_db")
    # Every attempt's response is lost: the client gives up after its retries.
    drops = {"append_job_log": 3}
    with client(local_stack, drops, RETRYING) as db:
        with db.jobs.step(job, "SCRIPTING") as step:
            assert step.log("a line nobody hears back about") is None
            step.artifacts = {"script": "s3://b/s.json"}
        finished = db.jobs.finish(job, "https://cdn.example.com/v.mp4")
    assert finished.status.value == "READY" and lost(drops)
    warnings = [r for r in caplog.records if r.name == "vidgen_db.jobs"]
    assert len(warnings) == 1 and "dropped" in warnings[0].getMessage()
    assert "NetworkError" in warnings[0].getMessage()
    # The database had stored it, once: the retries carried the same key.
    assert log_lines(conn, job) == [(1, "a line nobody hears back about")]
