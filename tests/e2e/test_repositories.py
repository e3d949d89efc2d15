"""The repositories' scenarios over HTTP (sync clients): users, drafts, projects, credits,
the dashboard, and the worker's path through a job."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable

import pytest

from vidgen_db import (
    AnonDB,
    CreditStateError,
    IllegalJobTransitionError,
    InsufficientCreditsError,
    NotFoundError,
    ServiceDB,
    UserDB,
)
from vidgen_db.models import (
    AssetInsert,
    AssetType,
    CreditState,
    DraftPromptInsert,
    DraftPromptUpdate,
    JobLogInsert,
    JobStatus,
    LedgerEntryType,
    LogLevel,
    ProfileUpdate,
    ProjectUpdate,
    StepStatus,
)

from .helpers import STAGES, job_for, project_for

MakeUser = Callable[..., UserDB]


def test_sign_up_gives_a_profile_and_welcome_credits(
    user_factory: MakeUser, service: ServiceDB
) -> None:
    ada = user_factory("Ada")
    profile = ada.profiles.get_mine()
    assert (profile.id, profile.display_name) == (ada.user_id, "Ada")
    assert ada.credits.balance() == 10
    (welcome,) = ada.credits.history().items
    assert (welcome.type, welcome.amount, welcome.balance_after) == (LedgerEntryType.GRANT, 10, 10)

    changed = ada.profiles.update_mine(ProfileUpdate(display_name="Ada L."))
    assert changed.display_name == "Ada L."
    customer = f"cus_{secrets.token_hex(6)}"
    service.profiles.update(ada.user_id, ProfileUpdate(stripe_customer_id=customer))
    found = service.profiles.find_by_stripe_customer(customer)
    assert found is not None and found.id == ada.user_id
    assert service.profiles.get(ada.user_id).display_name == "Ada L."
    assert service.profiles.find_by_stripe_customer("cus_nobody") is None


def test_a_visitors_draft_is_claimed_after_sign_up(
    anon: AnonDB, user_factory: MakeUser, service: ServiceDB
) -> None:
    token = secrets.token_urlsafe(24)
    anon.drafts.save(DraftPromptInsert(session_token=token, prompt_text="Volcanoes, explained"))
    ada = user_factory()
    draft_id = ada.drafts.claim(token)
    assert draft_id is not None
    draft = ada.drafts.get(draft_id)
    assert (draft.user_id, draft.prompt_text) == (ada.user_id, "Volcanoes, explained")
    assert ada.drafts.claim(token) == draft_id  # a repeat returns what was claimed
    updated = ada.drafts.update(draft_id, DraftPromptUpdate(prompt_text="Volcanoes, in depth"))
    assert updated.prompt_text == "Volcanoes, in depth"

    own = ada.drafts.save(
        DraftPromptInsert(session_token=secrets.token_urlsafe(24), prompt_text="Glaciers")
    )
    assert {d.id for d in ada.drafts.list()} == {draft_id, own.id}
    assert [d.id for d in service.drafts.list(user_id=ada.user_id)] == [own.id, draft_id]
    ada.drafts.delete(own.id)
    with pytest.raises(NotFoundError):
        ada.drafts.get(own.id)

    # The service role claims on a user's behalf (e.g. from the sign-up webhook).
    later = secrets.token_urlsafe(24)
    anon.drafts.save(DraftPromptInsert(session_token=later, prompt_text="Tectonics"))
    claimed = service.drafts.claim(later, ada.user_id)
    assert claimed is not None and ada.drafts.get(claimed).prompt_text == "Tectonics"


def test_projects_create_page_update_delete(user_factory: MakeUser) -> None:
    ada = user_factory()
    made = [ada.projects.create(project_for(ada.user_id, title=f"video {i}")) for i in range(3)]
    first = ada.projects.list(limit=2)
    assert [p.id for p in first] == [made[2].id, made[1].id]
    assert first.next_cursor is not None
    second = ada.projects.list(limit=2, before=first.next_cursor)
    assert [p.id for p in second] == [made[0].id] and second.next_cursor is None

    renamed = ada.projects.update(made[0].id, ProjectUpdate(title="renamed"))
    assert renamed.title == "renamed" and ada.projects.get(made[0].id).title == "renamed"
    ada.projects.delete(made[0].id)
    with pytest.raises(NotFoundError):
        ada.projects.get(made[0].id)
    with pytest.raises(NotFoundError):
        ada.projects.delete(made[0].id)


def test_the_worker_takes_a_job_from_queue_to_ready(
    user_factory: MakeUser, service: ServiceDB
) -> None:
    ada = user_factory()
    project = ada.projects.create(project_for(ada.user_id))
    job = service.jobs.create(job_for(project.id, ada.user_id))
    assert (job.status, job.credit_state) == (JobStatus.PENDING, CreditState.NONE)
    job = service.jobs.queue(job.id, 4)
    assert (job.status, job.credit_state, job.cost_credits_reserved) == (
        JobStatus.QUEUED,
        CreditState.RESERVED,
        4,
    )
    assert service.jobs.queue(job.id, 4).status is JobStatus.QUEUED  # idempotent
    assert ada.credits.balance() == 6

    for stage in STAGES:
        step = service.job_steps.start(job.id, stage.value)
        assert step.state is StepStatus.STARTED
        service.job_steps.update(job.id, stage.value, 40, message="working")
        service.logs.append(job.id, f"{stage.value} begins", step_name=stage.value)
        if stage is JobStatus.RENDERING:
            asset = service.assets.create(
                AssetInsert(
                    job_id=job.id,
                    type=AssetType.VIDEO,
                    url="https://cdn.example.com/v.mp4",
                    storage_path=f"jobs/{job.id}/v.mp4",
                    size_bytes=2048,
                    mime_type="video/mp4",
                )
            )
        done = service.job_steps.complete(job.id, stage.value, artifacts={"stage": stage.value})
        assert done.state is StepStatus.SUCCEEDED
        seen = ada.jobs.get(job.id)
        assert seen.status is stage
    service.logs.append_many(
        job.id,
        [
            JobLogInsert(job_id=job.id, message="packed", level=LogLevel.DEBUG),
            JobLogInsert(job_id=job.id, message="uploaded"),
        ],
    )
    advanced = service.jobs.advance(job.id, JobStatus.PACKAGING, progress=99, message="final")
    assert (advanced.progress, advanced.status_message) == (99, "final")

    job = service.jobs.finish(job.id, "https://cdn.example.com/v.mp4", final_credits=3)
    assert (job.status, job.credit_state, job.progress, job.cost_credits_final) == (
        JobStatus.READY,
        CreditState.SETTLED,
        100,
        3,
    )
    assert service.jobs.finish(job.id, "https://cdn.example.com/v.mp4").status is JobStatus.READY
    with pytest.raises(IllegalJobTransitionError):
        service.jobs.advance(job.id, JobStatus.RENDERING)

    # What the user sees.
    assert ada.jobs.get(job.id).output_url == "https://cdn.example.com/v.mp4"
    steps = ada.job_steps.list(job.id)
    assert [s.step_name for s in steps] == [s.value for s in STAGES]
    assert all(s.state is StepStatus.SUCCEEDED for s in steps)
    assert [a.id for a in ada.assets.list(job.id)] == [asset.id]
    assert ada.assets.get(asset.id).mime_type == "video/mp4"
    logs = ada.logs.list(job.id)
    assert [line.message for line in logs[-2:]] == ["packed", "uploaded"]
    newer = ada.logs.list(job.id, after_line=logs[-2].line_no)
    assert [line.message for line in newer] == ["uploaded"]
    assert [j.id for j in ada.jobs.list(project_id=project.id, status=JobStatus.READY)] == [job.id]
    assert ada.credits.balance() == 7  # 10 - 3
    # Entries of one transaction share created_at, so their order in a page is not defined.
    kinds = sorted((e.type.value, e.amount) for e in ada.credits.history().items)
    assert kinds == sorted(
        [
            (LedgerEntryType.GRANT.value, 10),
            (LedgerEntryType.RESERVE.value, -4),
            (LedgerEntryType.RESERVE.value, 4),
            (LedgerEntryType.USAGE.value, -3),
        ]
    )
    (row,) = ada.dashboard.page().items
    assert (row.id, row.latest_job_id, row.latest_job_status) == (
        project.id,
        job.id,
        JobStatus.READY,
    )


def test_a_failed_job_is_refunded_once(user_factory: MakeUser, service: ServiceDB) -> None:
    ada = user_factory()
    project = ada.projects.create(project_for(ada.user_id))
    job = service.jobs.queue(service.jobs.create(job_for(project.id, ada.user_id)).id, 7)
    service.job_steps.start(job.id, "SCRIPTING")
    failed = service.jobs.fail(job.id, "LLM_DOWN", "the script model is unavailable")
    assert (failed.status, failed.credit_state, failed.failed_step, failed.error_code) == (
        JobStatus.FAILED,
        CreditState.REFUNDED,
        "SCRIPTING",
        "LLM_DOWN",
    )
    assert service.jobs.fail(job.id, "LLM_DOWN", "again").error_message == (
        "the script model is unavailable"
    )
    assert ada.credits.balance() == 10
    (step,) = ada.job_steps.list(job.id)
    assert step.state is StepStatus.FAILED
    with pytest.raises(IllegalJobTransitionError):
        service.jobs.advance(job.id, JobStatus.VOICE_GEN)


def test_queueing_beyond_the_balance_changes_nothing(
    user_factory: MakeUser, service: ServiceDB
) -> None:
    ada = user_factory()
    project = ada.projects.create(project_for(ada.user_id))
    job = service.jobs.create(job_for(project.id, ada.user_id))
    with pytest.raises(InsufficientCreditsError):
        service.jobs.queue(job.id, 11)
    assert ada.jobs.get(job.id).status is JobStatus.PENDING
    assert ada.credits.balance() == 10


def test_credit_operations_of_the_service(user_factory: MakeUser, service: ServiceDB) -> None:
    ada = user_factory()
    uid = ada.user_id
    assert service.credits.grant(uid, 5, note="support") == 15
    payment = f"pi_{uuid.uuid4().hex}"
    assert service.credits.record_purchase(uid, 20, payment) == 35
    assert service.credits.record_purchase(uid, 20, payment) == 35  # a replayed webhook
    with pytest.raises(CreditStateError):
        service.credits.record_purchase(uid, 99, payment)
    assert service.credits.expire(uid, 5) == 5
    assert service.credits.balance(uid) == 30

    project = ada.projects.create(project_for(uid))
    settled = service.jobs.create(job_for(project.id, uid))
    assert service.credits.reserve(uid, settled.id, 10) is True
    assert service.credits.reserve(uid, settled.id, 10) is True  # idempotent
    assert service.credits.settle(settled.id, 12) == 12
    assert service.credits.settle(settled.id, 12) == 12
    with pytest.raises(CreditStateError):
        service.credits.refund(settled.id)
    refunded = service.jobs.create(job_for(project.id, uid))
    assert service.credits.reserve(uid, refunded.id, 1000) is False
    assert service.credits.reserve(uid, refunded.id, 8) is True
    assert service.credits.refund(refunded.id) == 8
    assert service.credits.refund(refunded.id) == 8
    assert service.credits.balance(uid) == ada.credits.balance() == 18
    history = service.credits.history(uid, limit=100).items
    assert sum(e.amount for e in history) == 18
    assert history[0].balance_after == 18


def test_the_dashboard_pages_newest_first(user_factory: MakeUser, service: ServiceDB) -> None:
    ada = user_factory()
    projects = [ada.projects.create(project_for(ada.user_id, title=f"p{i}")) for i in range(3)]
    job = service.jobs.create(job_for(projects[1].id, ada.user_id))
    first = ada.dashboard.page(limit=2)
    assert [r.id for r in first] == [projects[2].id, projects[1].id]
    assert first.items[1].latest_job_id == job.id and first.items[0].latest_job_id is None
    assert first.next_cursor is not None
    rest = ada.dashboard.page(limit=2, before=first.next_cursor)
    assert [r.id for r in rest] == [projects[0].id] and rest.next_cursor is None
