"""The worker's own API over HTTP: ``db.jobs.step(...)`` blocks (progress, logs, artifacts,
failure with refund) while the user watches the job with ``db.jobs.watch(...)``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID

import pytest

from vidgen_db import ServiceDB, UserDB
from vidgen_db.models import CreditState, JobStatus, StepStatus
from vidgen_db.testing import Stack

from .helpers import STAGES, job_for, project_for

NewUser = Callable[..., tuple[UUID, str]]


class RenderError(Exception):
    error_code = "RENDER_OOM"


async def test_worker_steps_while_the_user_watches(stack: Stack, new_user: NewUser) -> None:
    user_id, token = new_user()
    async with stack.async_service_client() as worker, stack.async_user_client(token) as ada:
        project = await ada.projects.create(project_for(user_id))
        job = await worker.jobs.queue(
            (await worker.jobs.create(job_for(project.id, user_id))).id, 3
        )

        async def work() -> None:
            for stage in STAGES:
                async with worker.jobs.step(job.id, stage.value, min_interval=0) as step:
                    await step.log(f"{stage.value} running")
                    await step.progress(50, "half")
                    step.artifacts = {"stage": stage.value}
                await asyncio.sleep(0.02)
            await worker.jobs.finish(job.id, "https://cdn.example.com/out.mp4")

        async def watch() -> list[JobStatus]:
            seen: list[JobStatus] = []
            async for update in ada.jobs.watch(job.id, poll_interval=0.02, timeout=30):
                if not seen or seen[-1] is not update.status:
                    seen.append(update.status)
            return seen

        _, seen = await asyncio.gather(work(), watch())
        assert seen[-1] is JobStatus.READY
        order = [JobStatus.QUEUED, *STAGES, JobStatus.READY]
        assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)
        steps = await ada.job_steps.list(job.id)
        assert [(s.state, s.artifacts_json) for s in steps] == [
            (StepStatus.SUCCEEDED, {"stage": s.value}) for s in STAGES
        ]
        logs = await ada.logs.list(job.id)
        assert [line.step_name for line in logs] == [s.value for s in STAGES]
        assert await ada.credits.balance() == 7


async def test_an_exception_in_a_step_fails_the_job_and_refunds(
    stack: Stack, new_user: NewUser
) -> None:
    user_id, token = new_user()
    async with stack.async_service_client() as worker, stack.async_user_client(token) as ada:
        project = await ada.projects.create(project_for(user_id))
        job = await worker.jobs.queue(
            (await worker.jobs.create(job_for(project.id, user_id))).id, 4
        )
        async with worker.jobs.step(job.id, "SCRIPTING", min_interval=0):
            pass
        with pytest.raises(RenderError):
            async with worker.jobs.step(job.id, "VOICE_GEN", min_interval=0) as step:
                await step.progress(30)
                raise RenderError("out of memory")
        failed = await ada.jobs.get(job.id)
        assert (failed.status, failed.credit_state, failed.failed_step, failed.error_code) == (
            JobStatus.FAILED,
            CreditState.REFUNDED,
            "VOICE_GEN",
            "RENDER_OOM",
        )
        assert await ada.credits.balance() == 10


def test_sync_worker_steps(user_factory: Callable[..., UserDB], service: ServiceDB) -> None:
    ada = user_factory()
    project = ada.projects.create(project_for(ada.user_id))
    job = service.jobs.queue(service.jobs.create(job_for(project.id, ada.user_id)).id, 2)
    for stage in STAGES:
        with service.jobs.step(job.id, stage.value, min_interval=0) as step:
            step.progress(100)
    done = service.jobs.finish(job.id, "https://cdn.example.com/out.mp4")
    assert (done.status, done.credit_state) == (JobStatus.READY, CreditState.SETTLED)
    statuses = [j.status for j in ada.jobs.watch(job.id, poll_interval=0.01, timeout=5)]
    assert statuses == [JobStatus.READY]
