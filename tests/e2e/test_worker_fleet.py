"""The worker runner over HTTP, on a stack of its own (so no other test's queued jobs are
claimed): jobs run to READY, a handler's exception refunds, an owner's cancellation stops
a running job, a stalled worker loses its job to another without either acting twice,
shutdown releases, and a project with an active job cannot be deleted."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from uuid import UUID

import pytest

from conftest import MakeDatabase
from vidgen_db import ActiveJobError, AsyncServiceDB, ServiceDB
from vidgen_db.models import CreditState, JobStatus
from vidgen_db.testing import LocalStack
from vidgen_db.worker import (
    AsyncClaimedJob,
    AsyncWorkerRunner,
    ClaimedJob,
    JobResult,
    WorkerRunner,
)

from .helpers import job_for, project_for

OUTPUT = "https://cdn.example.com/out.mp4"


@pytest.fixture(scope="module")
def fleet(make_database: MakeDatabase, migrated_template: str) -> Iterator[LocalStack]:
    url = make_database(template=migrated_template)
    with LocalStack(database_url=url, migrate=False) as stack:
        yield stack


def ledger_is_consistent(stack: LocalStack) -> None:
    with stack.connect() as conn:
        rows = conn.execute(
            "SELECT b.balance, coalesce(sum(l.amount), 0) FROM public.credit_balances b "
            "LEFT JOIN public.credit_ledger l USING (user_id) GROUP BY b.user_id, b.balance"
        ).fetchall()
        reserved = conn.execute(
            "SELECT count(*) FROM public.jobs WHERE credit_state = 'reserved' "
            "AND status IN ('READY', 'FAILED')"
        ).fetchone()
    assert all(balance == total for balance, total in rows), rows
    assert reserved == (0,)


def queue_jobs(stack: LocalStack, service: ServiceDB, count: int, cost: int = 3) -> list[UUID]:
    jobs = []
    for _ in range(count):
        user_id, _ = stack.create_user(f"fleet-{time.monotonic_ns()}@example.com")
        project = service.projects.create(project_for(user_id))
        job = service.jobs.create(job_for(project.id, user_id))
        jobs.append(service.jobs.queue(job.id, cost).id)
    return jobs


async def run_until(
    runner: AsyncWorkerRunner, done: Callable[[], Awaitable[bool]], timeout: float = 60
) -> None:
    """Run ``runner`` until ``done()``; then stop it and wait for it."""
    task = asyncio.ensure_future(runner.run())
    deadline = time.monotonic() + timeout
    try:
        while not await done():
            assert time.monotonic() < deadline, "the jobs did not finish in time"
            assert not task.done(), task.exception() if task.done() else None
            await asyncio.sleep(0.05)
    finally:
        runner.stop()
        await asyncio.wait_for(task, 30)


def all_final(db: AsyncServiceDB, jobs: list[UUID]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        statuses = [(await db.jobs.get(j)).status for j in jobs]
        return all(s in (JobStatus.READY, JobStatus.FAILED) for s in statuses)

    return check


async def test_the_async_runner_runs_jobs_to_ready(fleet: LocalStack) -> None:
    with fleet.service_client() as service:
        jobs = queue_jobs(fleet, service, 5)
    ran: list[tuple[UUID, str]] = []

    async def handler(job: AsyncClaimedJob) -> JobResult:
        for stage in job.remaining_stages():
            async with job.step(stage, min_interval=0) as step:
                await step.progress(50)
                ran.append((job.id, stage))
        return JobResult(OUTPUT, final_credits=2)

    async with fleet.async_service_client() as db:
        runner = AsyncWorkerRunner(db, handler, concurrency=3, handle_signals=False)
        await run_until(runner, all_final(db, jobs))
        for job_id in jobs:
            job = await db.jobs.get(job_id)
            assert job.status is JobStatus.READY and job.credit_state is CreditState.SETTLED
            assert job.cost_credits_final == 2 and job.worker_id is None
    assert runner.finished == 5 and runner.failed == runner.lost == 0
    assert sorted(ran) == sorted({(j, s) for j, _ in ran for s in {s for _, s in ran}})
    assert len(ran) == 5 * 8
    ledger_is_consistent(fleet)


def test_the_sync_runner_runs_jobs_on_threads(fleet: LocalStack) -> None:
    with fleet.service_client() as service:
        jobs = queue_jobs(fleet, service, 4)
        threads: set[str] = set()

        def handler(job: ClaimedJob) -> str:
            threads.add(threading.current_thread().name)
            for stage in job.remaining_stages():
                with job.step(stage, min_interval=0):
                    pass
            return OUTPUT

        runner = WorkerRunner(service, handler, concurrency=2, handle_signals=False)
        thread = threading.Thread(target=runner.run)
        thread.start()
        deadline = time.monotonic() + 60
        while not all(service.jobs.get(j).status is JobStatus.READY for j in jobs):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        runner.stop()
        thread.join(30)
        assert not thread.is_alive() and runner.finished == 4
        assert threading.main_thread().name not in threads
    ledger_is_consistent(fleet)


async def test_a_handler_exception_fails_the_job_and_refunds_it(fleet: LocalStack) -> None:
    with fleet.service_client() as service:
        [job_id] = queue_jobs(fleet, service, 1, cost=4)

    class VoiceDown(Exception):
        error_code = "TTS_DOWN"

    async def handler(job: AsyncClaimedJob) -> str:
        async with job.step("SCRIPTING"):
            pass
        raise VoiceDown("the voice provider is down")

    async with fleet.async_service_client() as db:
        runner = AsyncWorkerRunner(db, handler, handle_signals=False)
        await run_until(runner, all_final(db, [job_id]))
        job = await db.jobs.get(job_id)
    assert job.status is JobStatus.FAILED and job.error_code == "TTS_DOWN"
    assert job.credit_state is CreditState.REFUNDED and runner.failed == 1
    ledger_is_consistent(fleet)


async def test_the_owner_cancels_a_running_job(fleet: LocalStack) -> None:
    user_id, token = fleet.create_user("canceller@example.com")
    started = asyncio.Event()
    reached_end = False
    async with fleet.async_service_client() as db, fleet.async_user_client(token) as owner:
        balance = await owner.credits.balance()
        project = await owner.projects.create(project_for(user_id))
        job = await db.jobs.queue((await db.jobs.create(job_for(project.id, user_id))).id, 6)

        async def handler(claimed: AsyncClaimedJob) -> str:
            nonlocal reached_end
            async with claimed.step("SCRIPTING"):
                started.set()
                await asyncio.sleep(30)  # a long step: the heartbeat learns of the cancel
            reached_end = True
            return OUTPUT

        runner = AsyncWorkerRunner(
            db, handler, lease_seconds=3, heartbeat_interval=0.2, handle_signals=False
        )

        async def cancel_when_started() -> bool:
            if started.is_set() and (await owner.jobs.get(job.id)).cancel_requested_at is None:
                cancelling = await owner.jobs.cancel(job.id)
                assert cancelling.status is JobStatus.SCRIPTING
            return (await owner.jobs.get(job.id)).status is JobStatus.FAILED

        await run_until(runner, cancel_when_started, timeout=20)
        final = await owner.jobs.get(job.id)
        assert final.error_code == "CANCELLED" and final.credit_state is CreditState.REFUNDED
        assert await owner.credits.balance() == balance
    assert not reached_end
    ledger_is_consistent(fleet)


async def test_a_stalled_worker_loses_its_job_and_never_acts_again(fleet: LocalStack) -> None:
    """Worker A stalls (no heartbeat) past its lease; worker B recovers and finishes the
    job; when A wakes up, its writes are refused and it leaves the job alone."""
    with fleet.service_client() as service:
        [job_id] = queue_jobs(fleet, service, 1, cost=5)
    a_stalled, b_finished = asyncio.Event(), asyncio.Event()
    refused: list[str] = []

    async def stalling(job: AsyncClaimedJob) -> str:
        async with job.step("SCRIPTING") as step:
            a_stalled.set()
            await b_finished.wait()  # frozen, no heartbeat: the lease expires meanwhile
            try:
                await step.progress(90)
            except Exception as exc:
                refused.append(type(exc).__name__)
                raise
        return OUTPUT

    async def healthy(job: AsyncClaimedJob) -> str:
        assert job.job.attempt == 2
        for stage in job.remaining_stages():
            async with job.step(stage, min_interval=0):
                pass
        return OUTPUT

    async with fleet.async_service_client() as db:
        a = AsyncWorkerRunner(
            db, stalling, lease_seconds=1, heartbeat_interval=3600, handle_signals=False
        )
        b = AsyncWorkerRunner(db, healthy, poll_interval=0.1, handle_signals=False)
        a_task = asyncio.ensure_future(a.run())
        await asyncio.wait_for(a_stalled.wait(), 20)
        await run_until(b, all_final(db, [job_id]))
        b_finished.set()
        deadline = time.monotonic() + 10
        while not refused:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        a.stop()
        await asyncio.wait_for(a_task, 10)
        job = await db.jobs.get(job_id)
    assert refused == ["LeaseLostError"] and a.lost == 1 and b.finished == 1
    assert job.status is JobStatus.READY and job.credit_state is CreditState.SETTLED
    with fleet.connect() as conn:
        usage = conn.execute(
            "SELECT count(*) FROM public.credit_ledger WHERE job_id = %s AND type = 'usage'",
            (job_id,),
        ).fetchone()
    assert usage == (1,)
    ledger_is_consistent(fleet)


async def test_shutdown_releases_a_running_job(fleet: LocalStack) -> None:
    with fleet.service_client() as service:
        [job_id] = queue_jobs(fleet, service, 1)
    started = asyncio.Event()

    async def handler(job: AsyncClaimedJob) -> str:
        async with job.step("SCRIPTING"):
            started.set()
            await asyncio.sleep(60)
        return OUTPUT

    async with fleet.async_service_client() as db:
        runner = AsyncWorkerRunner(db, handler, shutdown_timeout=0.2, handle_signals=False)
        task = asyncio.ensure_future(runner.run())
        await asyncio.wait_for(started.wait(), 20)
        runner.stop()
        await asyncio.wait_for(task, 20)
        job = await db.jobs.get(job_id)
    assert runner.released == 1
    assert job.status is JobStatus.QUEUED and job.worker_id is None and job.attempt == 0
    assert job.credit_state is CreditState.RESERVED
    with fleet.service_client() as service:
        service.jobs.cancel(job_id)  # leave nothing queued for the other tests


def test_a_project_with_an_active_job_cannot_be_deleted_over_http(fleet: LocalStack) -> None:
    user_id, token = fleet.create_user("deleter@example.com")
    with fleet.user_client(token) as owner, fleet.service_client() as service:
        project = owner.projects.create(project_for(user_id))
        job = service.jobs.queue(service.jobs.create(job_for(project.id, user_id)).id, 3)
        with pytest.raises(ActiveJobError) as refused:
            owner.projects.delete(project.id)
        assert refused.value.code == "VG304"
        assert owner.projects.get(project.id).id == project.id
        assert owner.jobs.cancel(job.id).error_code == "CANCELLED"
        owner.projects.delete(project.id)
        assert owner.credits.balance() == 10
    ledger_is_consistent(fleet)
