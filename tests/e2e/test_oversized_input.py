"""10 MB strings and 1 MB JSON in every writable field, from each role that may write it:
through raw HTTP (every column the catalog lets the role insert or update, every argument
of every function it may call) and through the SDK. Each is refused with HTTP 400 and the
SQLSTATE of the bound (never a 500) or before anything is sent, and nothing is stored.

The fields come from the catalog, so a new column or function argument without a case here
fails ``test_every_writable_field_has_a_case``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import ValidationError

import vidgen_db.models as models
from vidgen_db import APIError, InvalidArgumentError, ServiceDB, UserDB
from vidgen_db.models import DraftPromptInsert
from vidgen_db.testing import LocalStack

from .helpers import job_for, project_for

BIG_TEXT = "x" * 10_000_000
BIG_JSON: dict[str, Any] = {"blob": "x" * 1_000_000}
ROLES = {"anon": "anon", "authenticated": "user", "service_role": "service"}


@dataclass
class World:
    """A user's rows to write over: a project, a draft, a job at SCRIPTING (not held) with a
    log line and an asset, and a visitor's draft token."""

    stack: LocalStack
    service: ServiceDB
    ada: UserDB
    token: str
    project: uuid.UUID
    draft: uuid.UUID
    job: uuid.UUID
    asset: uuid.UUID
    visitor_token: str
    conn: psycopg.Connection[Any]

    def headers(self, role: str) -> dict[str, str]:
        if role == "service":
            key = self.stack.service_key
            return {"apikey": key, "Authorization": f"Bearer {key}"}
        bearer = self.token if role == "user" else self.stack.anon_key
        return {"apikey": self.stack.anon_key, "Authorization": f"Bearer {bearer}"}

    def fingerprint(self) -> list[tuple[str, str]]:
        """Every public table's content, hashed: equal before and after means nothing stored."""
        tables = [
            r[0]
            for r in self.conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            ).fetchall()
        ]
        return [
            (
                table,
                self.conn.execute(
                    f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                    f"FROM public.{table} AS t"
                ).fetchone()[0],  # type: ignore[index]
            )
            for table in tables
        ]


@pytest.fixture(scope="module")
def world(local_stack: LocalStack, service: ServiceDB) -> Iterator[World]:
    user_id, token = local_stack.create_user(f"big-{uuid.uuid4().hex[:8]}@example.com")
    with local_stack.user_client(token) as ada, local_stack.anon_client() as visitor:
        project = ada.projects.create(project_for(user_id))
        draft = ada.drafts.save(
            DraftPromptInsert(session_token="ada-session-token-00000001", prompt_text="p")
        )
        visitor_token = f"visitor-{uuid.uuid4().hex}"
        visitor.drafts.save(DraftPromptInsert(session_token=visitor_token, prompt_text="idea"))
        job = service.jobs.queue(service.jobs.create(job_for(project.id, user_id)).id, 2)
        service.job_steps.start(job.id, "SCRIPTING")
        service.logs.append(job.id, "a line", step_name="SCRIPTING")
        asset = service.assets.create(
            models.AssetInsert(
                job_id=job.id, type=models.AssetType.IMAGE, url="https://x/a.png", storage_path="a"
            )
        )
        with local_stack.connect() as conn:
            yield World(
                local_stack,
                service,
                ada,
                token,
                project.id,
                draft.id,
                job.id,
                asset.id,
                visitor_token,
                conn,
            )


@pytest.fixture(scope="module")
def http(local_stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=local_stack.rest_url, timeout=120) as client:
        yield client


def big(type_name: str) -> Any:
    return BIG_JSON if type_name in ("json", "jsonb") else BIG_TEXT


@dataclass(frozen=True)
class Request:
    """One oversized write: what is sent, and the SQLSTATE that must refuse it."""

    what: str
    method: str
    path: str
    headers: dict[str, str]
    content: str
    code: str


def send_all(world: World, http: httpx.Client, requests: list[Request]) -> None:
    """Send ``requests`` (two at a time: the database parses one while the gateway reads the
    next); each must be a 400 with its SQLSTATE, and nothing may be stored by any of them."""
    before = world.fingerprint()

    def send(request: Request) -> tuple[Request, int, Any]:
        response = http.request(
            request.method, request.path, content=request.content, headers=request.headers
        )
        return request, response.status_code, response.json() if response.content else None

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(send, requests))
    wrong = [
        f"{request.what}: HTTP {status} {str(body)[:200]}"
        for request, status, body in results
        if status != 400 or not isinstance(body, dict) or body.get("code") != request.code
    ]
    assert wrong == []
    assert world.fingerprint() == before


# -- tables: every column each role may insert or update ---------------------------------------

_WRITABLE_COLUMNS = """
SELECT p.grantee, p.table_name, p.column_name, p.privilege_type, c.udt_name
  FROM information_schema.column_privileges AS p
  JOIN information_schema.columns AS c
    ON c.table_schema = p.table_schema AND c.table_name = p.table_name
   AND c.column_name = p.column_name
 WHERE p.table_schema = 'public' AND p.grantee IN ('anon', 'authenticated', 'service_role')
   AND p.privilege_type IN ('INSERT', 'UPDATE')
   AND c.udt_name IN ('text', 'varchar', 'json', 'jsonb')
 ORDER BY 1, 2, 3, 4
"""


def base_row(world: World, role: str, table: str, user: uuid.UUID) -> dict[str, Any]:
    """The smallest row ``role`` may insert into ``table`` (its foreign keys need not hold:
    a row's CHECKs are tested before them)."""
    job = str(world.job)
    return {
        "profiles": {"id": str(user)},
        "projects": {
            "user_id": str(user),
            "title": "t",
            "prompt_text": "p",
            "niche_preset": "facts",
        },
        "jobs": {"project_id": str(world.project), "user_id": str(user)},
        "job_steps": {"job_id": job, "step_name": "VOICE_GEN", "step_order": 2},
        "job_logs": {"job_id": job, "message": "m"},
        "assets": {"job_id": job, "type": "image", "url": "u", "storage_path": "s"},
        "credit_ledger": {"user_id": str(user), "type": "grant", "amount": 1},
        "draft_prompts": {"session_token": "s" * 20, "prompt_text": "p"}
        | ({"user_id": str(user)} if role == "user" else {}),
    }[table]


def update_filter(world: World, table: str) -> str:
    return {
        "profiles": f"id=eq.{world.ada.user_id}",
        "projects": f"id=eq.{world.project}",
        "jobs": f"id=eq.{world.job}",
        "job_steps": f"job_id=eq.{world.job}",
        "job_logs": f"job_id=eq.{world.job}",
        "assets": f"id=eq.{world.asset}",
        "draft_prompts": f"id=eq.{world.draft}",
    }[table]


def writable_columns(world: World) -> list[tuple[str, str, str, str, str]]:
    rows = world.conn.execute(_WRITABLE_COLUMNS).fetchall()
    return [(ROLES[g], t, c, p, u) for g, t, c, p, u in rows]


def test_table_writes_are_refused(world: World, http: httpx.Client) -> None:
    """Each column once per role that may write it: by INSERT when the role may insert it
    (a CHECK holds for updates just the same), else by UPDATE."""
    columns = writable_columns(world)
    inserts = {(r, t, c) for r, t, c, p, _ in columns if p == "INSERT"}
    requests = []
    for role, table, column, privilege, type_name in columns:
        if privilege == "UPDATE" and (role, table, column) in inserts:
            continue
        headers = world.headers(role) | {"Prefer": "return=minimal"}
        if privilege == "INSERT":
            row = base_row(world, role, table, world.ada.user_id) | {column: big(type_name)}
            method, path = "POST", f"/{table}"
        else:
            row = {column: big(type_name)}
            method, path = "PATCH", f"/{table}?{update_filter(world, table)}"
        what = f"{role} {privilege} {table}.{column}"
        requests.append(Request(what, method, path, headers, json.dumps(row), "23514"))
    whats = {r.what for r in requests}
    # Visitors write drafts; users their profile, projects and drafts; the service the rest.
    assert {
        "anon INSERT draft_prompts.options",
        "user UPDATE profiles.display_name",
        "user INSERT projects.title",
        "service INSERT job_logs.message",
        "service UPDATE jobs.error_message",
    } <= whats
    assert len(requests) > 40
    send_all(world, http, requests)


# -- functions: every text and JSON argument, as each role that may call the function ---------

_FUNCTION_ARGUMENTS = """
SELECT r.rolname, p.proname, a.name, format_type(a.type, NULL)
  FROM pg_proc AS p
  CROSS JOIN LATERAL unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[]) AS a(name, type)
  CROSS JOIN (VALUES ('anon'), ('authenticated'), ('service_role')) AS r(rolname)
 WHERE p.pronamespace = 'public'::regnamespace
   AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')
   AND format_type(a.type, NULL) IN ('text', 'character varying', 'json', 'jsonb')
 ORDER BY 2, 3, 1
"""


def function_cases(world: World) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    """function -> (valid arguments, {text or JSON argument: the SQLSTATE its bound raises})."""
    job, user = str(world.job), str(world.ada.user_id)
    column, entry, step, value = "23514", "22001", "VG202", "22023"
    return {
        "grant_credits": (
            {"p_user_id": user, "p_amount": 1},
            {"p_note": entry, "p_idempotency_key": entry},
        ),
        "expire_credits": (
            {"p_user_id": user, "p_amount": 1},
            {"p_note": entry, "p_idempotency_key": entry},
        ),
        "record_purchase": (
            {"p_user_id": user, "p_amount": 1, "p_stripe_payment_id": "pi_1"},
            {"p_stripe_payment_id": entry},
        ),
        "append_job_log": (
            {"p_job_id": job, "p_message": "m"},
            {
                "p_message": entry,
                "p_level": column,
                "p_step_name": entry,
                "p_data": entry,
                "p_idempotency_key": entry,
            },
        ),
        # p_lines oversized here is an object, not an array of lines (a 10 MB message in
        # an array is 22001: tests/test_append_job_logs.py).
        "append_job_logs": (
            {"p_job_id": job, "p_lines": [{"message": "m"}]},
            {"p_lines": value, "p_idempotency_key": entry},
        ),
        "start_job_step": (
            {"p_job_id": job, "p_step_name": "SCRIPTING"},
            {"p_step_name": step, "p_message": column},
        ),
        "update_job_step": (
            {"p_job_id": job, "p_step_name": "SCRIPTING", "p_progress": 5},
            {"p_step_name": step, "p_message": column},
        ),
        "complete_job_step": (
            {"p_job_id": job, "p_step_name": "SCRIPTING"},
            {"p_step_name": step, "p_artifacts": column, "p_message": column},
        ),
        "advance_job": (
            {"p_job_id": job, "p_status": "SCRIPTING"},
            {"p_message": column},
        ),
        "finish_job": (
            {"p_job_id": job, "p_output_url": "https://x/v.mp4"},
            {
                "p_output_url": column,
                "p_manifest": column,
                # Completing the last step in the same call (with p_step_name).
                "p_step_name": step,
                "p_step_artifacts": column,
                "p_step_message": column,
            },
        ),
        "fail_job": (
            {"p_job_id": job, "p_error_code": "E", "p_error_message": "m"},
            {"p_error_code": column, "p_error_message": column, "p_failed_step": step},
        ),
        "add_job_asset": (
            {
                "p_job_id": job,
                "p_type": "image",
                "p_url": "u",
                "p_storage_path": "s",
                "p_asset_id": str(uuid.uuid4()),
            },
            {
                "p_type": column,
                "p_url": column,
                "p_storage_path": column,
                "p_mime_type": column,
                "p_metadata": column,
            },
        ),
        "register_worker": (
            {"p_worker_id": str(uuid.uuid4()), "p_name": "w"},
            {"p_name": value},
        ),
        "claim_draft_prompt": (
            {"p_session_token": world.visitor_token, "p_user_id": user},
            {"p_session_token": entry},
        ),
        "create_and_queue_job": (
            {
                "p_job_id": str(uuid.uuid4()),
                "p_project_id": str(world.project),
                "p_user_id": user,
                "p_credits": 1,
            },
            {"p_status_message": column, "p_manifest": column},
        ),
        "next_job_step": (
            {"p_job_id": job, "p_step_name": "VOICE_GEN", "p_previous_step": "SCRIPTING"},
            {
                "p_step_name": step,
                "p_previous_step": step,
                "p_previous_artifacts": column,
                "p_previous_message": column,
                "p_message": column,
            },
        ),
    }


#: Arguments that only count with another one: (function, argument) -> what to add.
NEEDS: dict[tuple[str, str], dict[str, Any]] = {
    ("finish_job", "p_step_artifacts"): {"p_step_name": "SCRIPTING"},
    ("finish_job", "p_step_message"): {"p_step_name": "SCRIPTING"},
}


def test_every_writable_field_has_a_case(world: World) -> None:
    cases = function_cases(world)
    arguments = world.conn.execute(_FUNCTION_ARGUMENTS).fetchall()
    missing = sorted({(f, a) for _, f, a, _ in arguments if a not in cases.get(f, ({}, {}))[1]})
    assert missing == []
    for _, table, _, privilege, _ in writable_columns(world):
        # KeyError: a table new to this file
        if privilege == "INSERT":
            base_row(world, "service", table, world.ada.user_id)
        else:
            update_filter(world, table)


def test_function_arguments_are_refused(world: World, http: httpx.Client) -> None:
    cases = function_cases(world)
    arguments = world.conn.execute(_FUNCTION_ARGUMENTS).fetchall()
    assert len(arguments) > 20
    requests = []
    for role, function, argument, type_name in arguments:
        valid, codes = cases[function]
        body = valid | NEEDS.get((function, argument), {}) | {argument: big(type_name)}
        headers = world.headers(ROLES[role])
        what = f"{ROLES[role]} {function}({argument})"
        requests.append(
            Request(what, "POST", f"/rpc/{function}", headers, json.dumps(body), codes[argument])
        )
    send_all(world, http, requests)


# -- through the SDK ----------------------------------------------------------------------------


def test_every_model_field_refuses_oversized_values() -> None:
    """Insert and Update models: what a caller builds to write a row through the SDK."""
    checked = 0
    for name in models.__all__:
        model = getattr(models, name)
        if not (
            isinstance(model, type) and issubclass(model, (models.InsertModel, models.UpdateModel))
        ):
            continue
        for field, info in model.model_fields.items():
            text = repr(info.annotation)
            if "str" not in text and "JsonValue" not in text and "Prefs" not in text:
                continue
            value = BIG_JSON if ("JsonValue" in text or "Prefs" in text) else BIG_TEXT
            key = info.alias or field
            with pytest.raises(ValidationError) as caught:
                model.model_validate({key: value})
            assert any(e["loc"][:1] == (key,) for e in caught.value.errors()), (name, field)
            checked += 1
    assert checked > 50


SdkCall = Callable[[World], Any]
SDK_CASES: list[tuple[str, SdkCall, type[Exception], str | None]] = [
    (
        "credits.grant note",
        lambda w: w.service.credits.grant(w.ada.user_id, 1, note=BIG_TEXT),
        InvalidArgumentError,
        None,
    ),
    (
        "credits.expire note",
        lambda w: w.service.credits.expire(w.ada.user_id, 1, note=BIG_TEXT),
        InvalidArgumentError,
        None,
    ),
    (
        "credits.record_purchase id",
        lambda w: w.service.credits.record_purchase(w.ada.user_id, 1, BIG_TEXT),
        InvalidArgumentError,
        None,
    ),
    (
        "logs.append message",
        lambda w: w.service.logs.append(w.job, BIG_TEXT),
        InvalidArgumentError,
        None,
    ),
    (
        "logs.append step_name",
        lambda w: w.service.logs.append(w.job, "m", step_name=BIG_TEXT),
        InvalidArgumentError,
        None,
    ),
    (
        "logs.append data",
        lambda w: w.service.logs.append(w.job, "m", data=BIG_JSON),
        InvalidArgumentError,
        None,
    ),
    (
        "job_steps.update message",
        lambda w: w.service.job_steps.update(w.job, "SCRIPTING", 5, message=BIG_TEXT),
        APIError,
        "23514",
    ),
    (
        "jobs.fail error_code",
        lambda w: w.service.jobs.fail(w.job, BIG_TEXT, "m"),
        APIError,
        "23514",
    ),
    (
        "workers.register name",
        lambda w: w.service.workers.register(BIG_TEXT),
        InvalidArgumentError,
        None,
    ),
    ("drafts.claim (user)", lambda w: w.ada.drafts.claim(BIG_TEXT), InvalidArgumentError, None),
    (
        "drafts.claim (service)",
        lambda w: w.service.drafts.claim(BIG_TEXT, w.ada.user_id),
        InvalidArgumentError,
        None,
    ),
    (
        "projects.create",
        lambda w: w.ada.projects.create(project_for(w.ada.user_id, title=BIG_TEXT)),
        ValidationError,
        None,
    ),
]


@pytest.mark.parametrize(
    ("what", "call", "error", "code"), SDK_CASES, ids=[c[0] for c in SDK_CASES]
)
def test_sdk_refuses_oversized_input(
    world: World, what: str, call: SdkCall, error: type[Exception], code: str | None
) -> None:
    before = world.fingerprint()
    with pytest.raises(error) as caught:
        call(world)
    if isinstance(caught.value, APIError):
        assert caught.value.status_code == 400 and caught.value.code == code, caught.value
    assert world.fingerprint() == before, what
