"""The repositories on each client, and the HTTP contract harness the test_repos_* files share.

A :class:`Case` is one call of a repository method with the exact request it must make and
a realistic PostgREST response; :func:`run_sync` and :func:`run_async` play it on the sync
and the async client (respx stands in for the HTTP server only: the database's behaviour
is tested against PostgreSQL elsewhere). The tests below check which repositories and
methods each client has, and that every public repository method has a contract case.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
import respx

from jwts import anon_key, service_key, user_token
from vidgen_db import AsyncVidgenDB, VidgenDB
from vidgen_db.repos._base import Repository
from vidgen_db.repos._base_async import AsyncRepository

URL = "https://ref.supabase.co"
REST = f"{URL}/rest/v1"

USER = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER_USER = uuid.UUID("00000000-0000-4000-8000-000000000002")
PROJECT = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
JOB = uuid.UUID("00000000-0000-4000-8000-0000000000bb")
STEP = uuid.UUID("00000000-0000-4000-8000-0000000000cc")
ASSET = uuid.UUID("00000000-0000-4000-8000-0000000000dd")
DRAFT = uuid.UUID("00000000-0000-4000-8000-0000000000ee")
ENTRY = uuid.UUID("00000000-0000-4000-8000-0000000000ff")
SESSION_TOKEN = "visitor-5f1c9a2b7d3e4f60"
AT = "2026-11-28T10:00:00.123456+00:00"

KEYS = {"anon": anon_key(), "service": service_key(), "token": user_token(USER)}

Role = Literal["user", "service", "anon"]
NO_BODY: Any = object()
#: What postgrest-py sends as the body of a DELETE (PostgREST ignores it).
DELETE_BODY: dict[str, Any] = {}


# -- realistic rows, as PostgREST returns them -----------------------------------------------


def _row(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    return {**base, **overrides}


def profile_row(**overrides: Any) -> dict[str, Any]:
    return _row(
        {
            "id": str(USER),
            "display_name": "Ada",
            "avatar_url": None,
            "notification_prefs": {"job_complete": True, "job_failed": True},
            "stripe_customer_id": None,
            "created_at": AT,
            "updated_at": AT,
        },
        overrides,
    )


def draft_row(**overrides: Any) -> dict[str, Any]:
    return _row(
        {
            "id": str(DRAFT),
            "session_token": SESSION_TOKEN,
            "user_id": str(USER),
            "prompt_text": "Five facts about octopuses",
            "template_id": None,
            "options": {},
            "created_at": AT,
            "updated_at": AT,
            "expires_at": "2026-12-05T10:00:00.123456+00:00",
        },
        overrides,
    )


def job_row(**overrides: Any) -> dict[str, Any]:
    return _row(
        {
            "id": str(JOB),
            "project_id": str(PROJECT),
            "user_id": str(USER),
            "status": "QUEUED",
            "progress": 0,
            "status_message": None,
            "cost_credits_reserved": 30,
            "cost_credits_final": None,
            "failed_step": None,
            "error_code": None,
            "error_message": None,
            "output_url": None,
            "manifest_json": None,
            "created_at": AT,
            "started_at": None,
            "finished_at": None,
            "credit_state": "reserved",
            "attempt": 0,
            "max_attempts": 3,
        },
        overrides,
    )


def step_row(**overrides: Any) -> dict[str, Any]:
    return _row(
        {
            "id": str(STEP),
            "job_id": str(JOB),
            "step_name": "SCRIPTING",
            "step_order": 1,
            "state": "started",
            "progress_pct": 0,
            "status_message": None,
            "error_message": None,
            "logs_url": None,
            "artifacts_json": {},
            "started_at": AT,
            "finished_at": None,
        },
        overrides,
    )


def asset_row(**overrides: Any) -> dict[str, Any]:
    return _row(
        {
            "id": str(ASSET),
            "job_id": str(JOB),
            "type": "video",
            "url": "https://cdn.example.com/videos/final.mp4",
            "storage_path": f"videos/{JOB}/final.mp4",
            "size_bytes": 48_213_004,
            "mime_type": "video/mp4",
            "metadata_json": {"duration_s": 62.5},
            "created_at": AT,
        },
        overrides,
    )


def log_row(log_id: int = 1, **overrides: Any) -> dict[str, Any]:
    """A log line as the service role reads it (a user's has no ``id``)."""
    return _row(
        {
            "id": log_id,
            "line_no": log_id,
            "job_id": str(JOB),
            "step_name": "SCRIPTING",
            "level": "info",
            "message": f"line {log_id}",
            "data": None,
            "created_at": AT,
        },
        overrides,
    )


def ledger_row(**overrides: Any) -> dict[str, Any]:
    return _row(
        {
            "id": str(ENTRY),
            "user_id": str(USER),
            "type": "grant",
            "amount": 10,
            "balance_after": 10,
            "note": "Welcome bonus: 1 free video trial",
            "job_id": None,
            "stripe_payment_id": None,
            "created_at": AT,
        },
        overrides,
    )


def dashboard_row(**overrides: Any) -> dict[str, Any]:
    return _row(
        {
            "id": str(PROJECT),
            "title": "Roman roads",
            "prompt_text": "How the Romans built roads",
            "niche_preset": "history",
            "target_minutes": 2,
            "transcript_mode": "auto",
            "settings": {},
            "created_at": AT,
            "updated_at": AT,
            "latest_job_id": str(JOB),
            "latest_job_status": "RENDERING",
            "latest_job_progress": 80,
            "latest_job_created_at": AT,
        },
        overrides,
    )


WORKER = uuid.UUID("00000000-0000-4000-8000-0000000000ab")


def worker_row(**overrides: Any) -> dict[str, Any]:
    return _row(
        {"id": str(WORKER), "name": "render-1", "started_at": AT, "last_seen_at": AT}, overrides
    )


class _AnyUUID:
    """Equal to any UUID string: a request value the client chooses at random."""

    def __eq__(self, other: object) -> bool:
        try:
            uuid.UUID(str(other))
        except ValueError:
            return False
        return True

    def __repr__(self) -> str:
        return "<any UUID>"


ANY_UUID: Any = _AnyUUID()


def pgrst_error(code: str, message: str, hint: str | None = None) -> dict[str, Any]:
    """A PostgREST error body."""
    return {"code": code, "message": message, "details": None, "hint": hint}


NOT_FOUND = (
    406,
    pgrst_error("PGRST116", "JSON object requested, multiple (or no) rows returned"),
)


# -- the harness --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One repository call, the request it must make and the response it gets.

    ``covers`` is ``"<attribute>.<method>"`` (``"jobs.finish"``); ``params`` the exact
    query string (a value may be a predicate); ``prefer`` the exact set of ``Prefer`` parts (None: no header);
    ``check`` asserts on the result (or, with ``raises``, on the error)."""

    covers: str
    role: Role
    call: Callable[[Any], Any]
    method: str
    path: str
    params: dict[str, str | Callable[[str], bool]] = field(default_factory=dict)
    body: Any = NO_BODY
    prefer: set[str] | None = None
    accept: str | None = None
    status: int = 200
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    check: Callable[[Any], bool] = lambda result: True
    raises: type[Exception] | None = None
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.role}-{self.covers}" + (f"-{self.label}" if self.label else "")


@dataclass(frozen=True)
class Invalid:
    """A call refused with ValueError before any request."""

    covers: str
    role: Role
    call: Callable[[Any], Any]
    match: str
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.role}-{self.covers}" + (f"-{self.label}" if self.label else "")


def sync_client(role: Role) -> VidgenDB:
    if role == "user":
        return VidgenDB.for_user(URL, KEYS["anon"], KEYS["token"])
    if role == "service":
        return VidgenDB.service(URL, KEYS["service"])
    return VidgenDB.anonymous(URL, KEYS["anon"])


def async_client(role: Role) -> AsyncVidgenDB:
    if role == "user":
        return AsyncVidgenDB.for_user(URL, KEYS["anon"], KEYS["token"])
    if role == "service":
        return AsyncVidgenDB.service(URL, KEYS["service"])
    return AsyncVidgenDB.anonymous(URL, KEYS["anon"])


def expected_auth(role: Role) -> tuple[str, str]:
    """The ``apikey`` and bearer token a client of ``role`` sends."""
    if role == "user":
        return KEYS["anon"], KEYS["token"]
    key = KEYS["service"] if role == "service" else KEYS["anon"]
    return key, key


def _response(case: Case) -> httpx.Response:
    if case.response is None and case.status in (201, 204):
        return httpx.Response(case.status, headers=case.response_headers)
    headers = {"content-type": "application/json", **case.response_headers}
    return httpx.Response(case.status, content=json.dumps(case.response), headers=headers)


def check_request(case: Case, request: httpx.Request) -> None:
    assert request.method == case.method
    assert request.url.path == f"/rest/v1{case.path}"
    sent = request.url.params
    assert sorted(key for key, _ in sent.multi_items()) == sorted(case.params)
    for key, expected in case.params.items():
        value = sent[key]
        assert expected(value) if callable(expected) else value == expected, (key, value)
    apikey, bearer = expected_auth(case.role)
    assert request.headers["apikey"] == apikey
    assert request.headers["authorization"] == f"Bearer {bearer}"
    prefer = request.headers.get("prefer")
    if case.prefer is None:
        assert prefer is None
    else:
        assert prefer is not None and set(prefer.split(",")) == case.prefer
    if case.accept is not None:
        assert request.headers["accept"] == case.accept
    if case.body is NO_BODY:
        assert request.content == b""
    else:
        assert request.content, "no body sent"
        assert json.loads(request.content) == case.body


def _mock(mock: respx.MockRouter, case: Case) -> respx.Route:
    return mock.route(method=case.method, url=f"{REST}{case.path}").mock(
        return_value=_response(case)
    )


def _finish(case: Case, route: respx.Route, outcome: Any) -> None:
    assert route.call_count == 1
    check_request(case, route.calls.last.request)
    assert case.check(outcome), outcome


def run_sync(case: Case) -> None:
    """Play ``case`` on the sync client of its role."""
    with respx.mock(assert_all_called=False) as mock:
        route = _mock(mock, case)
        with sync_client(case.role) as db:
            if case.raises is not None:
                with pytest.raises(case.raises) as info:
                    case.call(db)
                outcome: Any = info.value
            else:
                outcome = case.call(db)
    _finish(case, route, outcome)


async def run_async(case: Case) -> None:
    """Play ``case`` on the async client of its role."""
    with respx.mock(assert_all_called=False) as mock:
        route = _mock(mock, case)
        async with async_client(case.role) as db:
            if case.raises is not None:
                with pytest.raises(case.raises) as info:
                    await case.call(db)
                outcome: Any = info.value
            else:
                outcome = await case.call(db)
    _finish(case, route, outcome)


def run_invalid_sync(case: Invalid) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().mock(return_value=httpx.Response(500))
        with sync_client(case.role) as db, pytest.raises(ValueError, match=case.match):
            case.call(db)
    assert not route.called


async def run_invalid_async(case: Invalid) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().mock(return_value=httpx.Response(500))
        async with async_client(case.role) as db:
            with pytest.raises(ValueError, match=case.match):
                await case.call(db)
    assert not route.called


# -- which repositories each client has -------------------------------------------------------

#: Resources whose contract is tested in their own files (not with this harness).
# Covered in test_projects_contract.py and test_jobs_helpers.py.
ELSEWHERE = {
    "projects",
    "jobs.step",
    "jobs.watch",
    # Deferred step completions: tests/test_worker_step.py (no request of their own).
    "job_steps.defer_completion",
    "job_steps.flush",
    "job_steps.flush_all",
}
RESOURCE_MODULES = [
    "test_repos_profiles",
    "test_repos_drafts",
    "test_repos_jobs",
    "test_repos_job_steps",
    "test_repos_credits",
    "test_repos_assets",
    "test_repos_logs",
    "test_repos_dashboard",
    "test_repos_workers",
]

#: What each client offers (at least): repository attribute -> public methods.
API: dict[Role, dict[str, set[str]]] = {
    "user": {
        "profiles": {"get_mine", "update_mine"},
        "drafts": {"save", "list", "get", "update", "delete", "claim"},
        "jobs": {"get", "list", "cancel"},
        "job_steps": {"list"},
        "credits": {"balance", "history"},
        "assets": {"list", "get"},
        "logs": {"list"},
        "dashboard": {"page"},
    },
    "service": {
        "profiles": {"get", "update", "find_by_stripe_customer"},
        "drafts": {"claim", "list", "delete_expired"},
        "jobs": {
            "get",
            "list",
            "cancel",
            "create",
            "queue",
            "advance",
            "finish",
            "fail",
            "claim",
            "heartbeat",
            "release",
            "recover",
            "stats",
        },
        "job_steps": {"list", "start", "update", "complete", "fail"},
        "credits": {
            "balance",
            "history",
            "reserve",
            "settle",
            "refund",
            "grant",
            "record_purchase",
            "expire",
        },
        "assets": {"list", "get", "create", "delete"},
        "logs": {"list", "append", "append_many"},
        "workers": {"register", "list"},
    },
    "anon": {"drafts": {"save"}},
}

#: Service-only operations that must not exist on a user client at all.
SERVICE_ONLY = {
    "profiles": {"get", "update", "find_by_stripe_customer"},
    "drafts": {"delete_expired"},
    "jobs": {
        "create",
        "queue",
        "advance",
        "finish",
        "fail",
        "claim",
        "heartbeat",
        "release",
        "recover",
        "stats",
    },
    "job_steps": {"start", "update", "complete", "fail"},
    "credits": {"reserve", "settle", "refund", "grant", "record_purchase", "expire"},
    "assets": {"create", "delete"},
    "logs": {"append", "append_many"},
}


def repositories(db: Any) -> dict[str, Any]:
    """The client's repositories (made on first access, so read through the class)."""
    names = [
        n for n in dir(type(db)) if isinstance(getattr(type(db), n), functools.cached_property)
    ]
    return {
        name: repo
        for name in names
        if isinstance(repo := getattr(db, name), (Repository, AsyncRepository))
    }


def public_methods(repo: Any) -> set[str]:
    return {
        name
        for name, _ in inspect.getmembers(type(repo), inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize("role", ["user", "service", "anon"])
async def test_each_client_has_its_repositories(role: Role) -> None:
    with sync_client(role) as sync_db:
        sync_api = {name: public_methods(r) for name, r in repositories(sync_db).items()}
    async with async_client(role) as async_db:
        async_api = {name: public_methods(r) for name, r in repositories(async_db).items()}
    assert sync_api == async_api  # the sync twins mirror the async source
    expected = API[role]
    assert set(sync_api) - {"projects"} == set(expected)
    for name, methods in expected.items():
        assert methods <= sync_api[name], name


@pytest.mark.parametrize("factory", [sync_client, async_client])
def test_a_user_client_has_no_service_only_operations(factory: Callable[[Role], Any]) -> None:
    db = factory("user")
    for name, methods in SERVICE_ONLY.items():
        for method in methods:
            assert not hasattr(getattr(db, name), method), f"user {name}.{method}"
    assert not hasattr(db.credits, "grant") and not hasattr(db.jobs, "finish")
    assert not hasattr(db, "workers")
    service = factory("service")
    assert not hasattr(service, "dashboard")  # get_dashboard needs auth.uid()
    assert not hasattr(service.profiles, "get_mine")
    anon = factory("anon")
    assert set(repositories(anon)) == {"drafts"}


def test_every_public_method_has_a_contract_case() -> None:
    covered: set[tuple[str, str]] = set()
    for module_name in RESOURCE_MODULES:
        module = importlib.import_module(module_name)
        covered |= {(case.role, case.covers) for case in module.CASES}
    missing = []
    roles: tuple[Role, ...] = ("user", "service", "anon")
    for role in roles:
        with sync_client(role) as db:
            for name, repo in repositories(db).items():
                for method in public_methods(repo):
                    key = f"{name}.{method}"
                    if name in ELSEWHERE or key in ELSEWHERE:
                        continue
                    if (role, key) not in covered:
                        missing.append(f"{role} {key}")
    assert not missing, missing
