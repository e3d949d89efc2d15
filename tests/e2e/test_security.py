"""The security matrix over HTTP: what each kind of client may and may not do, enforced by
the server (RLS, grants, function privileges), not by the SDK."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from vidgen_db import (
    AnonDB,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ServiceDB,
    UserDB,
    VidgenDBError,
)
from vidgen_db.models import (
    AssetInsert,
    AssetType,
    DraftPromptInsert,
    DraftPromptUpdate,
    Job,
    Project,
    ProjectUpdate,
)
from vidgen_db.testing import Stack

from .helpers import job_for, project_for

MakeUser = Callable[..., UserDB]


@dataclass
class World:
    """Ada's rows (a project, a running job with a step, log, asset and draft) and Bob."""

    ada: UserDB
    bob: UserDB
    project: Project
    job: Job
    asset_id: uuid.UUID
    draft_id: uuid.UUID


@pytest.fixture
def world(user_factory: MakeUser, service: ServiceDB) -> World:
    ada, bob = user_factory("Ada"), user_factory("Bob")
    project = ada.projects.create(project_for(ada.user_id, title="ada's"))
    job = service.jobs.queue(service.jobs.create(job_for(project.id, ada.user_id)).id, 2)
    service.job_steps.start(job.id, "SCRIPTING")
    service.logs.append(job.id, "secret log line", step_name="SCRIPTING")
    asset = service.assets.create(
        AssetInsert(job_id=job.id, type=AssetType.IMAGE, url="https://x/a.png", storage_path="a")
    )
    draft = ada.drafts.save(
        DraftPromptInsert(session_token=secrets.token_urlsafe(24), prompt_text="ada's draft")
    )
    return World(ada, bob, project, job, asset.id, draft.id)


def _rows(db: Any, table: str, column: str, value: object, select: str = "*") -> list[Any]:
    return list(db._rest.table(table).select(select).eq(column, str(value)).execute().data)


def test_a_user_cannot_read_another_users_rows(world: World) -> None:
    bob, w = world.bob, world
    with pytest.raises(NotFoundError):
        bob.projects.get(w.project.id)
    with pytest.raises(NotFoundError):
        bob.jobs.get(w.job.id)
    with pytest.raises(NotFoundError):
        bob.assets.get(w.asset_id)
    with pytest.raises(NotFoundError):
        bob.drafts.get(w.draft_id)
    assert bob.projects.list().items == []
    assert bob.jobs.list().items == []
    assert bob.job_steps.list(w.job.id) == []
    assert bob.assets.list(w.job.id) == []
    assert bob.logs.list(w.job.id) == []
    assert bob.dashboard.page().items == []
    # Straight at the tables, without the repositories' own filters.
    ada_id = w.ada.user_id
    for table, column in [
        ("profiles", "id"),
        ("projects", "user_id"),
        ("jobs", "user_id"),
        ("credit_ledger", "user_id"),
        ("credit_balances", "user_id"),
        ("draft_prompts", "user_id"),
    ]:
        assert _rows(bob, table, column, ada_id) == [], table
    for table in ("job_steps", "job_logs", "assets"):
        # (A user may not select a log line's global id: job_logs is read column by column.)
        assert _rows(bob, table, "job_id", w.job.id, "job_id") == [], table
    # Ada sees all of it.
    assert len(_rows(w.ada, "job_steps", "job_id", w.job.id)) == 1


def test_a_user_cannot_change_another_users_rows(world: World, service: ServiceDB) -> None:
    bob, w = world.bob, world
    with pytest.raises(NotFoundError):
        bob.projects.update(w.project.id, ProjectUpdate(title="bob was here"))
    with pytest.raises(NotFoundError):
        bob.projects.delete(w.project.id)
    with pytest.raises(NotFoundError):
        bob.drafts.update(w.draft_id, DraftPromptUpdate(prompt_text="bob was here"))
    with pytest.raises(NotFoundError):
        bob.drafts.delete(w.draft_id)
    # Raw writes: RLS filters them to nothing, or the grants refuse them outright.
    patched = (
        bob._rest.table("profiles")
        .update({"display_name": "bob was here"})
        .eq("id", str(w.ada.user_id))
        .execute()
    )
    assert patched.data == []
    with pytest.raises(PermissionDeniedError):
        bob._rest.table("jobs").update({"status_message": "x"}).eq("id", str(w.job.id)).execute()
    with pytest.raises(PermissionDeniedError):  # a project in Ada's name
        bob.projects.create(project_for(w.ada.user_id))
    with pytest.raises(PermissionDeniedError):
        bob._rest.table("credit_ledger").insert(
            {"user_id": str(bob.user_id), "type": "grant", "amount": 1000}
        ).execute()
    with pytest.raises(PermissionDeniedError):
        bob._rest.table("assets").delete().eq("id", str(w.asset_id)).execute()
    # Nothing changed.
    assert service.projects.get(w.project.id).title == "ada's"
    assert service.profiles.get(w.ada.user_id).display_name == "Ada"
    assert w.ada.drafts.get(w.draft_id).prompt_text == "ada's draft"
    assert len(w.ada.assets.list(w.job.id)) == 1
    assert bob.credits.balance() == 10


def _service_only_calls(w: World) -> list[tuple[str, dict[str, Any]]]:
    uid, job = str(w.bob.user_id), str(w.job.id)
    return [
        ("grant_credits", {"p_user_id": uid, "p_amount": 1000}),
        ("record_purchase", {"p_user_id": uid, "p_amount": 1000, "p_stripe_payment_id": "pi_x"}),
        ("expire_credits", {"p_user_id": str(w.ada.user_id), "p_amount": 5}),
        ("reserve_credits", {"p_user_id": uid, "p_job_id": job, "p_amount": 1}),
        ("settle_job_credits", {"p_job_id": job, "p_final_amount": 0}),
        ("refund_job_credits", {"p_job_id": job}),
        ("queue_job", {"p_job_id": job, "p_credits": 1}),
        ("advance_job", {"p_job_id": job, "p_status": "VOICE_GEN"}),
        ("start_job_step", {"p_job_id": job, "p_step_name": "VOICE_GEN"}),
        ("update_job_step", {"p_job_id": job, "p_step_name": "SCRIPTING", "p_progress": 50}),
        ("complete_job_step", {"p_job_id": job, "p_step_name": "SCRIPTING"}),
        ("finish_job", {"p_job_id": job, "p_output_url": "https://x"}),
        ("fail_job", {"p_job_id": job, "p_error_code": "X", "p_error_message": "x"}),
        ("append_job_log", {"p_job_id": job, "p_message": "x"}),
        ("append_job_logs", {"p_job_id": job, "p_lines": [{"message": "x"}]}),
    ]


def test_users_cannot_call_service_only_functions(world: World, service: ServiceDB) -> None:
    refused = []
    for name, body in _service_only_calls(world):
        for caller in (world.bob, world.ada):
            with pytest.raises(PermissionDeniedError) as caught:
                caller._rest.rpc(name, body).execute()
            refused.append((name, caught.value.code))
    assert {code for _, code in refused} == {"42501"}
    # Nor act on another user's balance or drafts.
    with pytest.raises(PermissionDeniedError):
        world.bob._rest.rpc("get_credit_balance", {"p_user_id": str(world.ada.user_id)}).execute()
    with pytest.raises(PermissionDeniedError):
        world.bob._rest.rpc(
            "claim_draft_prompt",
            {"p_session_token": secrets.token_urlsafe(24), "p_user_id": str(world.ada.user_id)},
        ).execute()
    # None of it happened.
    job = service.jobs.get(world.job.id)
    assert (job.status.value, job.credit_state.value) == ("SCRIPTING", "reserved")
    assert service.credits.balance(world.bob.user_id) == 10
    assert len(service.logs.list(world.job.id)) == 1


def test_the_anonymous_client_can_only_save_drafts(anon: AnonDB, world: World) -> None:
    token = secrets.token_urlsafe(24)
    anon.drafts.save(DraftPromptInsert(session_token=token, prompt_text="just visiting"))
    # It cannot read drafts back (its own or anyone's) ...
    with pytest.raises(PermissionDeniedError):
        _rows(anon, "draft_prompts", "session_token", token)
    # ... nor read, write or call anything else.
    for table in ("profiles", "projects", "jobs", "job_steps", "job_logs", "assets"):
        with pytest.raises((PermissionDeniedError, AuthenticationError)):
            anon._rest.table(table).select("*").limit(1).execute()
    with pytest.raises((PermissionDeniedError, AuthenticationError)):
        anon._rest.table("projects").insert(project_for(world.ada.user_id).to_postgrest()).execute()
    calls = [
        ("get_credit_balance", {"p_user_id": str(world.ada.user_id)}),
        ("claim_draft_prompt", {"p_session_token": token, "p_user_id": str(world.ada.user_id)}),
        ("get_dashboard", {}),
        *_service_only_calls(world),
    ]
    for name, body in calls:
        with pytest.raises((PermissionDeniedError, AuthenticationError)) as caught:
            anon._rest.rpc(name, body).execute()
        assert caught.value.code == "42501", name
    # The draft is still unclaimed: its visitor can claim it after signing up.
    assert world.bob.drafts.claim(token) is not None


def test_tokens_the_project_did_not_sign_are_refused(stack: Stack) -> None:
    from vidgen_db.testing import make_access_token, make_api_key, new_jwt_secret

    forged_secret = new_jwt_secret()
    forged = stack.user_client(make_access_token(uuid.uuid4(), forged_secret))
    with forged, pytest.raises(AuthenticationError):
        forged.projects.list()
    from vidgen_db import VidgenDB

    with (
        VidgenDB.service(stack.url, make_api_key("service_role", forged_secret)) as fake,
        pytest.raises(VidgenDBError),
    ):
        fake.credits.grant(uuid.uuid4(), 1)
