"""db.jobs.step() and db.jobs.watch(): the worker and watch helpers reached from a client."""

from __future__ import annotations

import pytest
import respx

from jwts import anon_key, service_key, user_token
from test_watch import JOB, REST, URL, USER, responses
from test_worker_step import body, mock_step_functions
from vidgen_db import AsyncVidgenDB, VidgenDB
from vidgen_db.models.enums import JobStatus


class RenderError(Exception):
    error_code = "RENDER_CRASHED"


async def test_async_service_jobs_step() -> None:
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        db = AsyncVidgenDB.service(URL, service_key())
        async with db, db.jobs.step(JOB, "SCRIPTING", min_interval=0) as step:
            await step.progress(50, "half")
    assert body(routes["start"]) == {"p_job_id": str(JOB), "p_step_name": "SCRIPTING"}
    assert body(routes["update"])["p_progress"] == 50
    assert routes["complete"].called and not routes["fail"].called


def test_sync_service_jobs_step_failure_fails_the_job() -> None:
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        db = VidgenDB.service(URL, service_key())
        with db, pytest.raises(RenderError), db.jobs.step(JOB, "RENDERING"):
            raise RenderError("ffmpeg exited 1")
    assert body(routes["fail"]) == {
        "p_job_id": str(JOB),
        "p_error_code": "RENDER_CRASHED",
        "p_error_message": "ffmpeg exited 1",
        "p_failed_step": "RENDERING",
    }
    assert not routes["complete"].called


def test_user_clients_cannot_run_steps() -> None:
    with VidgenDB.for_user(URL, anon_key(), user_token(USER)) as db:
        assert not hasattr(db.jobs, "step")


async def test_async_user_jobs_watch() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{REST}/jobs").mock(
            side_effect=responses(("QUEUED", 0), ("SCRIPTING", 5), ("READY", 100))
        )
        async with AsyncVidgenDB.for_user(URL, anon_key(), user_token(USER)) as db:
            seen = [
                j.status async for j in db.jobs.watch(JOB, poll_interval=0.001, max_interval=0.001)
            ]
    assert seen == [JobStatus.QUEUED, JobStatus.SCRIPTING, JobStatus.READY]
    assert route.call_count == 3


def test_sync_service_jobs_watch() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{REST}/jobs").mock(side_effect=responses(("RENDERING", 80), ("FAILED", 80)))
        with VidgenDB.service(URL, service_key()) as db:
            seen = [j.status for j in db.jobs.watch(JOB, poll_interval=0.001, max_interval=0.001)]
    assert seen == [JobStatus.RENDERING, JobStatus.FAILED]
