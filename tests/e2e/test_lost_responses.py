"""Responses lost after the server committed, and requests sent twice on purpose: the SDK's
retry and a repeated idempotency key give the first result back and apply nothing twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from uuid import UUID

import httpx
import pytest

from vidgen_db import (
    IdempotencyKeyReusedError,
    InsufficientCreditsError,
    ServiceDB,
    VidgenDB,
)
from vidgen_db.models import DraftPromptInsert
from vidgen_db.testing import Stack

from .helpers import job_for, project_for


class LoseResponses(httpx.BaseTransport):
    """Sends each request for real; for the first ``count`` requests to ``path`` the
    response is thrown away after the server answered, as a dropped connection would."""

    def __init__(self, path: str, count: int = 1) -> None:
        self.inner = httpx.HTTPTransport()
        self.path, self.left, self.sent = path, count, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith(self.path):
            self.sent += 1
            if self.left:
                self.left -= 1
                response.read()
                response.close()
                raise httpx.RemoteProtocolError("server disconnected without a response")
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def user(stack: Stack) -> Iterator[tuple[UUID, str]]:
    yield stack.create_user(f"lost-{uuid.uuid4().hex[:12]}@example.com")


def ledger_reservations(service: ServiceDB, user_id: UUID) -> int:
    return sum(1 for entry in service.credits.history(user_id, limit=100).items if entry.amount < 0)


def test_a_claim_whose_response_was_lost_returns_the_draft_it_claimed(
    stack: Stack, user: tuple[UUID, str]
) -> None:
    _, token = user
    session = f"visitor-{uuid.uuid4().hex}"
    with stack.anon_client() as visitor:
        visitor.drafts.save(DraftPromptInsert(session_token=session, prompt_text="a cat video"))
    lossy = LoseResponses("/rpc/claim_draft_prompt")
    with VidgenDB.for_user(stack.url, stack.anon_key, token, transport=lossy) as db:
        claimed = db.drafts.claim(session)
        assert lossy.sent == 2  # the first answer was lost and the SDK asked again
        assert claimed is not None
        assert [d.id for d in db.drafts.list()] == [claimed]
        assert db.drafts.claim(session) == claimed  # and again, by hand
    _, stranger_token = stack.create_user(f"other-{uuid.uuid4().hex[:12]}@example.com")
    with stack.user_client(stranger_token) as stranger:
        assert stranger.drafts.claim(session) is None  # never another user's draft


def test_create_and_queue_sent_twice_with_one_key_makes_one_job(
    stack: Stack, service: ServiceDB, user: tuple[UUID, str]
) -> None:
    user_id, token = user
    with stack.user_client(token) as db:
        project = db.projects.create(project_for(user_id))
    before = service.credits.balance(user_id)
    key = f"form-{uuid.uuid4().hex}"
    first = service.jobs.create_and_queue(job_for(project.id, user_id), 3, idempotency_key=key)
    second = service.jobs.create_and_queue(job_for(project.id, user_id), 3, idempotency_key=key)
    assert second.id == first.id
    assert service.credits.balance(user_id) == before - 3
    assert ledger_reservations(service, user_id) == 1
    assert [j.id for j in service.jobs.list(project_id=project.id).items] == [first.id]
    with pytest.raises(IdempotencyKeyReusedError) as reused:
        service.jobs.create_and_queue(job_for(project.id, user_id), 5, idempotency_key=key)
    assert reused.value.http_status == 409
    assert service.credits.balance(user_id) == before - 3


def test_create_and_queue_whose_response_was_lost_reserves_once(
    stack: Stack, service: ServiceDB, user: tuple[UUID, str]
) -> None:
    user_id, token = user
    with stack.user_client(token) as db:
        project = db.projects.create(project_for(user_id))
    before = service.credits.balance(user_id)
    lossy = LoseResponses("/rpc/create_and_queue_job")
    with VidgenDB.service(stack.url, stack.service_key, transport=lossy) as worker:
        job = worker.jobs.create_and_queue(job_for(project.id, user_id), 2)  # no key
    assert lossy.sent == 2
    assert service.credits.balance(user_id) == before - 2
    assert [j.id for j in service.jobs.list(project_id=project.id).items] == [job.id]


def test_short_credits_leave_no_job_behind(
    stack: Stack, service: ServiceDB, user: tuple[UUID, str]
) -> None:
    user_id, token = user
    with stack.user_client(token) as db:
        project = db.projects.create(project_for(user_id))
    balance = service.credits.balance(user_id)
    with pytest.raises(InsufficientCreditsError) as short:
        service.jobs.create_and_queue(job_for(project.id, user_id), balance + 1)
    assert (short.value.required, short.value.balance) == (balance + 1, balance)
    assert short.value.http_status == 402
    assert service.jobs.list(project_id=project.id).items == []
    assert service.credits.balance(user_id) == balance


def test_a_project_created_twice_with_one_key_is_one_project(
    stack: Stack, user: tuple[UUID, str]
) -> None:
    user_id, token = user
    key = f"form-{uuid.uuid4().hex}"
    with stack.user_client(token) as db:
        first = db.projects.create(project_for(user_id, title="Roman roads"), idempotency_key=key)
        again = db.projects.create(project_for(user_id, title="Roman roads"), idempotency_key=key)
        assert again.id == first.id
        assert [p.id for p in db.projects.list().items] == [first.id]
        with pytest.raises(IdempotencyKeyReusedError) as reused:
            db.projects.create(project_for(user_id, title="Greek roads"), idempotency_key=key)
        assert reused.value.code == "VG107" and reused.value.http_status == 409
        other = db.projects.create(project_for(user_id), idempotency_key=key + "-2")
        assert other.id != first.id
    _, stranger_token = stack.create_user(f"other-{uuid.uuid4().hex[:12]}@example.com")
    with stack.user_client(stranger_token) as stranger:  # keys are per user
        theirs = stranger.projects.create(project_for(stranger.user_id), idempotency_key=key)
        assert theirs.id != first.id


def test_a_job_created_twice_with_one_key_is_one_job(
    stack: Stack, service: ServiceDB, user: tuple[UUID, str]
) -> None:
    user_id, token = user
    with stack.user_client(token) as db:
        project = db.projects.create(project_for(user_id))
    key = f"job-{uuid.uuid4().hex}"
    first = service.jobs.create(job_for(project.id, user_id), idempotency_key=key)
    assert service.jobs.create(job_for(project.id, user_id), idempotency_key=key).id == first.id
    assert [j.id for j in service.jobs.list(project_id=project.id).items] == [first.id]
