"""The example service end to end: HTTP in, through vidgen_db and the local stack's
gateway, to PostgreSQL and back. No mocks."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.support import NewUser, User, assert_error
from vidgen_db import ServiceDB
from vidgen_db.local import sign_jwt
from vidgen_db.models import JobStatus
from vidgen_db.testing import LocalStack
from vidgen_fastapi_example.main import create_app
from vidgen_fastapi_example.routes.credits import SIGNATURE_HEADER
from vidgen_fastapi_example.settings import Settings

USER_ENDPOINTS = [
    ("POST", "/drafts/claim"),
    ("POST", "/projects"),
    ("GET", "/projects"),
    ("GET", "/dashboard"),
    ("GET", "/jobs"),
    ("GET", f"/jobs/{uuid.uuid4()}"),
    ("POST", f"/jobs/{uuid.uuid4()}/cancel"),
    ("POST", f"/projects/{uuid.uuid4()}/jobs"),
    ("GET", "/credits/balance"),
]
LISTS = ["/projects", "/dashboard", "/jobs"]


def new_project(api: TestClient, user: User, *, key: str | None = None, **fields: Any) -> Any:
    body = {"title": "Roman roads", "prompt_text": "How roads built an empire"}
    body |= {"niche_preset": "history", **fields}
    headers = user.headers | ({"Idempotency-Key": key} if key else {})
    response = api.post("/projects", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def start_job(api: TestClient, user: User, project_id: str, *, key: str | None = None) -> Any:
    headers = user.headers | ({"Idempotency-Key": key} if key else {})
    return api.post(f"/projects/{project_id}/jobs", headers=headers)


def balance(api: TestClient, user: User) -> int:
    response = api.get("/credits/balance", headers=user.headers)
    assert response.status_code == 200, response.text
    value: int = response.json()["balance"]
    return value


# -- who is calling --------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), USER_ENDPOINTS)
def test_every_user_endpoint_without_a_token_is_401(
    api: TestClient, method: str, path: str
) -> None:
    response = api.request(method, path, json={})
    assert_error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c", "Token x"],
)
def test_a_malformed_authorization_header_is_401(api: TestClient, authorization: str) -> None:
    response = api.get("/projects", headers={"Authorization": authorization})
    assert_error(response, 401, "unauthenticated")


def test_an_api_key_is_not_a_users_token(api: TestClient, vidgen_stack: LocalStack) -> None:
    for key in (vidgen_stack.anon_key, vidgen_stack.service_key):
        response = api.get("/projects", headers={"Authorization": f"Bearer {key}"})
        assert_error(response, 401, "unauthenticated")


def test_an_expired_or_forged_token_is_401(
    api: TestClient, new_user: NewUser, vidgen_stack: LocalStack
) -> None:
    user = new_user()
    expired = User(user.id, vidgen_stack.token_for(user.id, expires_in=-3600))
    body = assert_error(api.get("/projects", headers=expired.headers), 401)
    assert body["message"] == "Please sign in again."
    claims = {"sub": str(user.id), "role": "authenticated", "exp": 4102444800}
    forged = User(user.id, sign_jwt(claims, "not the project's secret, long enough to sign"))
    assert_error(api.get("/projects", headers=forged.headers), 401)


def test_a_token_whose_subject_is_not_a_uuid_is_401(api: TestClient) -> None:
    claims = {"sub": "not-a-uuid", "role": "authenticated", "exp": 4102444800}
    token = sign_jwt(claims, "any secret: as_user does not check signatures, long enough")
    response = api.get("/projects", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 401, "unauthenticated")


# -- drafts ----------------------------------------------------------------------------


def test_a_visitors_draft_is_claimed_after_sign_up_and_claiming_again_is_safe(
    api: TestClient, new_user: NewUser, vidgen_service: ServiceDB
) -> None:
    session = uuid.uuid4().hex
    saved = api.post("/drafts", json={"session_token": session, "prompt_text": "Roman roads"})
    assert saved.status_code == 204, saved.text
    ada, bob = new_user(), new_user()

    claimed = api.post("/drafts/claim", json={"session_token": session}, headers=ada.headers)
    assert claimed.status_code == 200, claimed.text
    draft_id = claimed.json()["draft_id"]
    assert draft_id is not None
    again = api.post("/drafts/claim", json={"session_token": session}, headers=ada.headers)
    assert again.json() == {"draft_id": draft_id}  # a repeat (a retried request) is the same
    other = api.post("/drafts/claim", json={"session_token": session}, headers=bob.headers)
    assert other.json() == {"draft_id": None}  # already someone's: nothing for bob
    [draft] = vidgen_service.drafts.list(user_id=ada.id).items
    assert (str(draft.id), draft.prompt_text) == (draft_id, "Roman roads")


def test_a_draft_out_of_bounds_is_refused_before_the_database(api: TestClient) -> None:
    response = api.post("/drafts", json={"session_token": "short", "prompt_text": "x"})
    assert response.status_code == 422


# -- projects and lists ----------------------------------------------------------------


def test_a_double_submitted_project_with_one_idempotency_key_makes_one(
    api: TestClient, new_user: NewUser, vidgen_service: ServiceDB
) -> None:
    user = new_user()
    first = new_project(api, user, key="form-1")
    second = new_project(api, user, key="form-1")
    assert first == second
    assert [p.id for p in vidgen_service.projects.list(user_id=user.id)] == [uuid.UUID(first["id"])]
    # The same key with other values is a mistake of the client: 409, the first stands.
    response = api.post(
        "/projects",
        json={"title": "Other", "prompt_text": "Other", "niche_preset": "history"},
        headers=user.headers | {"Idempotency-Key": "form-1"},
    )
    assert_error(response, 409)
    # Without a key, two submissions are two projects.
    new_project(api, user)
    new_project(api, user)
    assert len(vidgen_service.projects.list(user_id=user.id)) == 3


def test_a_bad_idempotency_key_is_the_sdks_422(api: TestClient, new_user: NewUser) -> None:
    user = new_user()
    response = api.post(
        "/projects",
        json={"title": "T", "prompt_text": "P", "niche_preset": "history"},
        headers=user.headers | {"Idempotency-Key": "k" * 300},
    )
    assert_error(response, 422, "invalid_argument")


def walk(api: TestClient, user: User, path: str, **params: str) -> list[list[Any]]:
    """Every page of a list, two items at a time, following next_cursor."""
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": "2", **params} | ({"cursor": cursor} if cursor else {})
        response = api.get(path, params=query, headers=user.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert isinstance(cursor, str)


def test_lists_page_with_string_cursors(api: TestClient, new_user: NewUser) -> None:
    user, other = new_user(), new_user()
    projects = [new_project(api, user, title=f"P{n}") for n in range(3)]
    new_project(api, other)  # row level security keeps it out of user's lists
    for project in projects:
        assert start_job(api, user, project["id"]).status_code == 201
    newest_first = [p["id"] for p in reversed(projects)]

    pages = walk(api, user, "/projects")
    assert [len(page) for page in pages] == [2, 1]
    assert [p["id"] for page in pages for p in page] == newest_first
    dashboard = walk(api, user, "/dashboard")
    assert [row["id"] for page in dashboard for row in page] == newest_first
    assert all(row["latest_job_status"] == "QUEUED" for page in dashboard for row in page)
    jobs = walk(api, user, "/jobs")
    assert [job["project_id"] for page in jobs for job in page] == newest_first
    [[only]] = walk(api, user, "/jobs", project_id=projects[0]["id"])
    assert only["project_id"] == projects[0]["id"]


@pytest.mark.parametrize("path", LISTS)
def test_a_garbled_or_forged_cursor_is_a_422(api: TestClient, new_user: NewUser, path: str) -> None:
    user = new_user()
    for n in range(2):  # two rows in each list: a real cursor to tamper with
        start_job(api, user, new_project(api, user, title=f"P{n}")["id"])
    real = api.get(path, params={"limit": 1}, headers=user.headers).json()["next_cursor"]
    assert isinstance(real, str)
    flipped = real[:10] + ("A" if real[10] != "A" else "B") + real[11:]
    for cursor in [
        flipped,  # one character changed: the checksum no longer matches
        real[:-3],  # cut short
        real + "AAAA",  # too long
        "not-a-cursor",
        "2026-01-01T00:00:00Z",
        "' OR 1=1 --",
        "x" * 5000,
    ]:
        response = api.get(path, params={"cursor": cursor}, headers=user.headers)
        assert_error(response, 422, "invalid_argument")


def test_a_well_formed_cursor_only_positions_a_list(api: TestClient, new_user: NewUser) -> None:
    """A cursor is not a secret: one made from another user's page still lists only the
    caller's own rows (row level security decides what a page holds)."""
    ada, bob = new_user(), new_user()
    bobs = new_project(api, bob, title="B")
    for n in range(2):
        new_project(api, ada, title=f"A{n}")
    adas = api.get("/projects", params={"limit": 1}, headers=ada.headers).json()
    page = api.get("/projects", params={"cursor": adas["next_cursor"]}, headers=bob.headers)
    assert page.status_code == 200
    assert [p["id"] for p in page.json()["items"]] == [bobs["id"]]  # none of ada's


# -- jobs --------------------------------------------------------------------------------


def test_a_job_reserves_its_credits_and_a_double_submit_makes_one(
    api: TestClient, new_user: NewUser, vidgen_service: ServiceDB
) -> None:
    user = new_user()
    before = balance(api, user)
    project = new_project(api, user, target_minutes=2)
    with ThreadPoolExecutor(3) as pool:  # a triple click: three requests at once
        answers = list(pool.map(lambda _: start_job(api, user, project["id"], key="r-1"), range(3)))
    assert [a.status_code for a in answers] == [201] * 3, [a.text for a in answers]
    job = answers[0].json()
    assert {a.json()["id"] for a in answers} == {job["id"]}
    assert (job["status"], job["cost_credits_reserved"]) == ("QUEUED", 4)  # 2 per minute
    assert balance(api, user) == before - 4  # reserved once
    assert [j.id for j in vidgen_service.jobs.list(project_id=uuid.UUID(project["id"]))] == [
        uuid.UUID(job["id"])
    ]
    assert api.get(f"/jobs/{job['id']}", headers=user.headers).json() == job

    # The same key for another project is a 409; nothing is made or reserved.
    other = new_project(api, user, title="Other")
    assert_error(start_job(api, user, other["id"], key="r-1"), 409)
    assert balance(api, user) == before - 4


def test_short_credits_are_a_402_with_the_amounts_and_leave_no_job(
    api: TestClient, new_user: NewUser
) -> None:
    user = new_user()
    have = balance(api, user)
    project = new_project(api, user, target_minutes=10)  # 20 credits
    assert have < 20
    body = assert_error(start_job(api, user, project["id"]), 402, "VG101")
    assert (body["required"], body["balance"]) == (20, have)
    assert body["message"] == f"Not enough credits: this needs 20 and you have {have}."
    assert api.get("/jobs", headers=user.headers).json() == {"items": [], "next_cursor": None}


def test_another_users_project_and_job_are_not_found(api: TestClient, new_user: NewUser) -> None:
    ada, bob = new_user(), new_user()
    project = new_project(api, ada)
    job = start_job(api, ada, project["id"]).json()
    assert_error(api.get(f"/jobs/{job['id']}", headers=bob.headers), 404)
    assert_error(api.post(f"/jobs/{job['id']}/cancel", headers=bob.headers), 404)
    assert_error(start_job(api, bob, project["id"]), 404)
    assert api.get(f"/jobs/{job['id']}", headers=ada.headers).json()["status"] == "QUEUED"
    assert_error(api.get(f"/jobs/{uuid.uuid4()}", headers=ada.headers), 404)


def test_cancelling_a_queued_job_refunds_it(api: TestClient, new_user: NewUser) -> None:
    user = new_user()
    before = balance(api, user)
    job = start_job(api, user, new_project(api, user)["id"]).json()
    assert balance(api, user) == before - 2
    cancelled = api.post(f"/jobs/{job['id']}/cancel", headers=user.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["error_code"]) == ("FAILED", "CANCELLED")
    assert balance(api, user) == before
    again = api.post(f"/jobs/{job['id']}/cancel", headers=user.headers)
    assert again.json() == cancelled.json()  # a repeat changes nothing
    failed = api.get("/jobs", params={"status": "FAILED"}, headers=user.headers).json()
    assert [j["id"] for j in failed["items"]] == [job["id"]]


def test_a_ready_job_cannot_be_cancelled(
    api: TestClient, new_user: NewUser, vidgen_service: ServiceDB
) -> None:
    user = new_user()
    job = start_job(api, user, new_project(api, user)["id"]).json()
    job_id = uuid.UUID(job["id"])
    vidgen_service.jobs.advance(job_id, JobStatus.SCRIPTING)  # the worker's part, in short
    vidgen_service.jobs.finish(job_id, "https://cdn.example.com/v.mp4")
    assert_error(api.post(f"/jobs/{job['id']}/cancel", headers=user.headers), 409)


# -- credits and the payment webhook ---------------------------------------------------


def signed(settings: Settings, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    secret = settings.payment_webhook_secret.get_secret_value().encode()
    signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return body, {SIGNATURE_HEADER: signature, "Content-Type": "application/json"}


def test_a_replayed_payment_webhook_credits_once(
    api: TestClient, settings: Settings, new_user: NewUser, vidgen_service: ServiceDB
) -> None:
    user = new_user()
    before = balance(api, user)
    event = {"payment_id": "pi_" + uuid.uuid4().hex, "user_id": str(user.id), "credits": 100}
    body, headers = signed(settings, event)
    for _ in range(3):  # the provider delivers again when it did not see a 2xx in time
        response = api.post("/webhooks/payments", content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"balance": before + 100}
    assert balance(api, user) == before + 100
    purchases = [e for e in vidgen_service.credits.history(user.id) if e.type == "purchase"]
    assert [(e.amount, e.stripe_payment_id) for e in purchases] == [(100, event["payment_id"])]

    # The same payment id with another amount is refused, and changes nothing.
    body, headers = signed(settings, event | {"credits": 999})
    assert_error(api.post("/webhooks/payments", content=body, headers=headers), 409)
    assert balance(api, user) == before + 100


def test_a_webhook_with_a_bad_signature_is_400_and_changes_nothing(
    api: TestClient, settings: Settings, new_user: NewUser
) -> None:
    user = new_user()
    before = balance(api, user)
    event = {"payment_id": "pi_forged", "user_id": str(user.id), "credits": 1000}
    body, headers = signed(settings, event)
    tampered = body.replace(b"1000", b"9000")
    wrong = hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    for content, sent in [
        (tampered, headers),  # the body changed after signing
        (body, headers | {SIGNATURE_HEADER: wrong}),  # signed with another secret
        (body, headers | {SIGNATURE_HEADER: "sha256=" + headers[SIGNATURE_HEADER]}),
        (body, headers | {SIGNATURE_HEADER: "zz" * 32}),  # not even hex
        (body, {"Content-Type": "application/json"}),  # not signed at all
    ]:
        response = api.post("/webhooks/payments", content=content, headers=sent)
        assert_error(response, 400, "bad_signature")
    latin1 = [(b"content-type", b"application/json"), (SIGNATURE_HEADER.encode(), b"\xe9" * 64)]
    response = api.post("/webhooks/payments", content=body, headers=latin1)
    assert_error(response, 400, "bad_signature")
    assert balance(api, user) == before


def test_a_signed_webhook_that_is_not_a_payment_is_400(
    api: TestClient, settings: Settings, new_user: NewUser
) -> None:
    user = new_user()
    events: list[dict[str, Any]] = [
        {"payment_id": "pi_1"},
        {"payment_id": "pi_1", "user_id": str(user.id), "credits": -5},
    ]
    for event in events:
        body, headers = signed(settings, event)
        response = api.post("/webhooks/payments", content=body, headers=headers)
        assert_error(response, 400, "bad_event")


def test_a_webhook_for_an_unknown_user_is_refused(api: TestClient, settings: Settings) -> None:
    event = {"payment_id": "pi_nobody", "user_id": str(uuid.uuid4()), "credits": 10}
    body, headers = signed(settings, event)
    response = api.post("/webhooks/payments", content=body, headers=headers)
    assert_error(response, 404)  # a 4xx: the provider should not deliver it again


# -- when the database cannot be reached -----------------------------------------------


def test_an_unreachable_database_is_a_503_logged_with_the_details(
    settings: Settings,
    new_user: NewUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("VIDGEN_DB_MAX_RETRIES", "0")
    down = settings.model_copy(update={"supabase_url": f"http://127.0.0.1:{port}"})
    user = new_user()
    with TestClient(create_app(down)) as api, caplog.at_level(logging.ERROR):
        response = api.get("/credits/balance", headers=user.headers)
    body = assert_error(response, 503, "network_error")
    assert body["message"] and str(port) not in response.text
    [record] = [r for r in caplog.records if r.name == "vidgen_fastapi_example"]
    assert "GET /credits/balance failed" in record.getMessage()
    assert "upstream request id" in record.getMessage()


def test_the_service_refuses_to_start_with_a_key_of_the_wrong_kind(settings: Settings) -> None:
    swapped = settings.model_copy(
        update={
            "supabase_anon_key": SecretStr(settings.supabase_service_role_key.get_secret_value())
        }
    )
    with pytest.raises(Exception, match="anon"), TestClient(create_app(swapped)):
        pass
