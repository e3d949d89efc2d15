"""The async clients over HTTP: the visitor-to-video path, concurrent reservations, and
the security boundary, with AsyncVidgenDB."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from uuid import UUID

import pytest

from vidgen_db import InsufficientCreditsError, NotFoundError, PermissionDeniedError
from vidgen_db.models import (
    AssetInsert,
    AssetType,
    CreditState,
    DraftPromptInsert,
    JobStatus,
    StepStatus,
)
from vidgen_db.testing import Stack

from .helpers import STAGES, job_for, project_for

NewUser = Callable[..., tuple[UUID, str]]


async def test_visitor_to_video_async(stack: Stack, new_user: NewUser) -> None:
    user_id, token = new_user("Async Ada")
    session = secrets.token_urlsafe(24)
    async with stack.async_anon_client() as visitor, stack.async_service_client() as worker:
        await visitor.drafts.save(DraftPromptInsert(session_token=session, prompt_text="Owls"))
        async with visitor.as_user(token) as ada:
            assert ada.user_id == user_id
            draft_id = await ada.drafts.claim(session)
            assert draft_id is not None
            draft = await ada.drafts.get(draft_id)
            project = await ada.projects.create(project_for(user_id, prompt_text=draft.prompt_text))
            job = await worker.jobs.create(job_for(project.id, user_id))
            job = await worker.jobs.queue(job.id, 5)
            assert job.credit_state is CreditState.RESERVED
            assert await ada.credits.balance() == 5
            for stage in STAGES:
                await worker.job_steps.start(job.id, stage.value)
                await worker.job_steps.update(job.id, stage.value, 50)
                await worker.logs.append(job.id, f"{stage.value}", step_name=stage.value)
                await worker.job_steps.complete(job.id, stage.value)
            await worker.assets.create(
                AssetInsert(
                    job_id=job.id, type=AssetType.VIDEO, url="https://x/v.mp4", storage_path="v"
                )
            )
            job = await worker.jobs.finish(job.id, "https://x/v.mp4")
            assert (job.status, job.credit_state) == (JobStatus.READY, CreditState.SETTLED)
            steps, assets, logs, balance, dashboard = await asyncio.gather(
                ada.job_steps.list(job.id),
                ada.assets.list(job.id),
                ada.logs.list(job.id),
                ada.credits.balance(),
                ada.dashboard.page(),
            )
            assert [s.state for s in steps] == [StepStatus.SUCCEEDED] * len(STAGES)
            assert len(assets) == 1 and len(logs) == len(STAGES)
            assert balance == 5
            assert dashboard.items[0].latest_job_status is JobStatus.READY


async def test_concurrent_reservations_never_overspend(stack: Stack, new_user: NewUser) -> None:
    user_id, token = new_user()
    async with stack.async_service_client() as worker, stack.async_user_client(token) as ada:
        project = await ada.projects.create(project_for(user_id))
        jobs = await asyncio.gather(
            *(worker.jobs.create(job_for(project.id, user_id)) for _ in range(5))
        )
        results = await asyncio.gather(
            *(worker.jobs.queue(job.id, 3) for job in jobs), return_exceptions=True
        )
        queued = [r for r in results if not isinstance(r, BaseException)]
        short = [r for r in results if isinstance(r, InsufficientCreditsError)]
        assert (len(queued), len(short)) == (3, 2), results
        assert await ada.credits.balance() == 1
        failed = await asyncio.gather(*(worker.jobs.fail(j.id, "X", "cancelled") for j in queued))
        assert {j.credit_state for j in failed} == {CreditState.REFUNDED}
        assert await worker.credits.balance(user_id) == 10


async def test_async_user_clients_are_confined_to_their_rows(
    stack: Stack, new_user: NewUser
) -> None:
    ada_id, ada_token = new_user()
    _, bob_token = new_user()
    async with stack.async_user_client(ada_token) as ada, stack.async_user_client(bob_token) as bob:
        project = await ada.projects.create(project_for(ada_id))
        with pytest.raises(NotFoundError):
            await bob.projects.get(project.id)
        assert (await bob.projects.list()).items == []
        with pytest.raises(PermissionDeniedError):
            await bob._rest.rpc(
                "grant_credits", {"p_user_id": str(bob.user_id), "p_amount": 5}
            ).execute()
        with pytest.raises(PermissionDeniedError):
            await bob._rest.rpc("get_credit_balance", {"p_user_id": str(ada_id)}).execute()
        assert await bob.credits.balance() == 10
