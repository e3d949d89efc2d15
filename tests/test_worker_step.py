"""The worker's job step (AsyncRunningStep and its sync twin): coalesced progress, completion,
failure recording. Unit tests of the client-side logic, on in-memory stand-ins of the
two repositories the step writes through (job_steps, logs) and a fake clock; then the same
through the real service clients, HTTP mocked with respx."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
import respx
from pydantic import JsonValue

from jwts import service_key
from vidgen_db import (
    AsyncRunningStep,
    AsyncVidgenDB,
    ClientSettings,
    IllegalJobTransitionError,
    InvalidArgumentError,
    JobCancelledError,
    LeaseLostError,
    RunningStep,
    ServiceUnavailableError,
    VidgenDB,
)
from vidgen_db.models import Job
from vidgen_db.models.enums import CreditState, JobStatus, LogLevel, StepStatus
from vidgen_db.models.job_steps import JobStep as JobStepRow

JOB = UUID("00000000-0000-4000-8000-0000000000b1")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def step_row(name: str, state: StepStatus = StepStatus.STARTED, pct: int = 0) -> JobStepRow:
    return JobStepRow(
        id=uuid.uuid4(),
        job_id=JOB,
        step_name=name,
        step_order=1,
        state=state,
        progress_pct=pct,
        started_at=NOW,
    )


def job_row(status: JobStatus = JobStatus.FAILED) -> Job:
    return Job(
        id=JOB,
        project_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        status=status,
        created_at=NOW,
        credit_state=CreditState.REFUNDED,
        attempt=0,
        max_attempts=3,
    )


class Recorder:
    """The calls made, in order, across the stand-in repositories."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail_error: Exception | None = None
        self.update_error: Exception | None = None
        self.complete_error: Exception | None = None

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def updates(self) -> list[tuple[int, str | None]]:
        return [(c[3], c[4]) for c in self.calls if c[0] == "update"]


# -- async stand-ins ---------------------------------------------------------------------


class AsyncFakeJobSteps:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    async def start(
        self,
        job_id: UUID,
        step_name: str,
        *,
        message: str | None = None,
        lease: int | None = None,
    ) -> JobStepRow:
        self.rec.calls.append(("start", job_id, step_name, message))
        return step_row(step_name)

    async def update(
        self,
        job_id: UUID,
        step_name: str,
        progress: int,
        *,
        message: str | None = None,
        lease: int | None = None,
    ) -> JobStepRow:
        if self.rec.update_error is not None:
            raise self.rec.update_error
        self.rec.calls.append(("update", job_id, step_name, progress, message))
        return step_row(step_name, pct=progress)

    async def complete(
        self,
        job_id: UUID,
        step_name: str,
        *,
        artifacts: JsonValue | None = None,
        message: str | None = None,
        lease: int | None = None,
    ) -> JobStepRow:
        if self.rec.complete_error is not None:
            raise self.rec.complete_error
        self.rec.calls.append(("complete", job_id, step_name, artifacts, message))
        return step_row(step_name, StepStatus.SUCCEEDED, 100)

    def defer_completion(
        self,
        job_id: UUID,
        step_name: str,
        *,
        artifacts: JsonValue | None = None,
        message: str | None = None,
        lease: int | None = None,
    ) -> None:
        self.rec.calls.append(("defer", job_id, step_name, artifacts, message))

    async def fail(
        self,
        job_id: UUID,
        step_name: str,
        error_code: str,
        error_message: str,
        *,
        lease: int | None = None,
    ) -> Job:
        self.rec.calls.append(("fail", job_id, error_code, error_message, step_name))
        if self.rec.fail_error is not None:
            raise self.rec.fail_error
        return job_row()


class AsyncFakeLogs:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    async def append(
        self,
        job_id: UUID,
        message: str,
        *,
        level: LogLevel = LogLevel.INFO,
        step_name: str | None = None,
        data: JsonValue | None = None,
        lease: int | None = None,
    ) -> int:
        self.rec.calls.append(("log", job_id, message, level, step_name, data))
        return len(self.rec.calls)


class AsyncFakeDB:
    def __init__(self) -> None:
        self.rec = Recorder()
        self.job_steps = AsyncFakeJobSteps(self.rec)
        self.logs = AsyncFakeLogs(self.rec)


# -- sync stand-ins ----------------------------------------------------------------------


class FakeJobSteps:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def start(
        self, job_id: UUID, step_name: str, *, message: str | None = None, lease: int | None = None
    ) -> JobStepRow:
        self.rec.calls.append(("start", job_id, step_name, message))
        return step_row(step_name)

    def update(
        self,
        job_id: UUID,
        step_name: str,
        progress: int,
        *,
        message: str | None = None,
        lease: int | None = None,
    ) -> JobStepRow:
        self.rec.calls.append(("update", job_id, step_name, progress, message))
        return step_row(step_name, pct=progress)

    def complete(
        self,
        job_id: UUID,
        step_name: str,
        *,
        artifacts: JsonValue | None = None,
        message: str | None = None,
        lease: int | None = None,
    ) -> JobStepRow:
        self.rec.calls.append(("complete", job_id, step_name, artifacts, message))
        return step_row(step_name, StepStatus.SUCCEEDED, 100)

    def defer_completion(
        self,
        job_id: UUID,
        step_name: str,
        *,
        artifacts: JsonValue | None = None,
        message: str | None = None,
        lease: int | None = None,
    ) -> None:
        self.rec.calls.append(("defer", job_id, step_name, artifacts, message))

    def fail(
        self,
        job_id: UUID,
        step_name: str,
        error_code: str,
        error_message: str,
        *,
        lease: int | None = None,
    ) -> Job:
        self.rec.calls.append(("fail", job_id, error_code, error_message, step_name))
        if self.rec.fail_error is not None:
            raise self.rec.fail_error
        return job_row()


class FakeLogs:
    def __init__(self, rec: Recorder) -> None:
        self.rec = rec

    def append(
        self,
        job_id: UUID,
        message: str,
        *,
        level: LogLevel = LogLevel.INFO,
        step_name: str | None = None,
        data: JsonValue | None = None,
        lease: int | None = None,
    ) -> int:
        self.rec.calls.append(("log", job_id, message, level, step_name, data))
        return len(self.rec.calls)


class FakeDB:
    def __init__(self) -> None:
        self.rec = Recorder()
        self.job_steps = FakeJobSteps(self.rec)
        self.logs = FakeLogs(self.rec)


# -- async -------------------------------------------------------------------------------


async def test_a_hundred_fast_updates_write_once_and_keep_the_last() -> None:
    db, clock = AsyncFakeDB(), FakeClock()
    async with AsyncRunningStep(db.job_steps, db.logs, JOB, "SCRIPTING", clock=clock) as step:
        for pct in range(1, 101):
            await step.progress(pct, f"scene {pct}")
            clock.advance(0.001)  # 100 calls in 0.1 s: all within one interval
    # No progress write at all: the completion (100 %, deferred to the job's next call)
    # carries the last message.
    assert db.rec.names() == ["start", "defer"]
    assert db.rec.updates() == []
    assert db.rec.calls[0] == ("start", JOB, "SCRIPTING", None)
    assert db.rec.calls[-1] == ("defer", JOB, "SCRIPTING", None, "scene 100")


async def test_updates_are_written_once_per_interval() -> None:
    db, clock = AsyncFakeDB(), FakeClock()
    async with AsyncRunningStep(
        db.job_steps, db.logs, JOB, "IMAGE_GEN", min_interval=1.0, clock=clock
    ) as step:
        for pct in range(100):
            await step.progress(pct)
            clock.advance(0.25)  # 25 s in all: about one write per second
    updates = db.rec.updates()
    assert 20 <= len(updates) <= 26
    assert updates[-1][0] >= 95  # the last pending value is not written: completing sets 100
    assert [p for p, _ in updates] == sorted(p for p, _ in updates)
    assert db.rec.names()[-1] == "defer"


async def test_a_pending_update_is_written_by_the_next_late_call() -> None:
    db, clock = AsyncFakeDB(), FakeClock()
    async with AsyncRunningStep(db.job_steps, db.logs, JOB, "VOICE_GEN", clock=clock) as step:
        await step.progress(10)  # within the interval of the start: kept
        assert db.rec.updates() == [] and step.pending_progress == 10
        await step.progress(20)
        clock.advance(1.0)
        await step.progress(30, "half")  # late enough: written
        assert db.rec.updates() == [(30, "half")] and step.pending_progress is None
        await step.progress(30, "half")  # the same again: nothing to write
        clock.advance(5)
        await step.progress(30, "half")
        assert db.rec.updates() == [(30, "half")]
    assert db.rec.names() == ["start", "update", "defer"]


async def test_min_interval_zero_writes_every_change() -> None:
    db, clock = AsyncFakeDB(), FakeClock()
    async with AsyncRunningStep(
        db.job_steps, db.logs, JOB, "TIMELINE", min_interval=0, clock=clock
    ) as step:
        for pct in (10, 20, 20, 30):
            await step.progress(pct)
    assert db.rec.updates() == [(10, None), (20, None), (30, None)]


async def test_flush_writes_now() -> None:
    db, clock = AsyncFakeDB(), FakeClock()
    async with AsyncRunningStep(db.job_steps, db.logs, JOB, "RENDERING", clock=clock) as step:
        await step.progress(40)
        await step.flush()
        assert db.rec.updates() == [(40, None)]
    assert db.rec.names() == ["start", "update", "defer"]


async def test_normal_exit_completes_with_artifacts_and_message() -> None:
    db = AsyncFakeDB()
    async with AsyncRunningStep(db.job_steps, db.logs, JOB, "PACKAGING", clock=FakeClock()) as step:
        step.artifacts = {"zip_url": "s3://bucket/job.zip"}
        step.message = "packaged"
    assert db.rec.calls[-1] == (
        "defer",
        JOB,
        "PACKAGING",
        {"zip_url": "s3://bucket/job.zip"},
        "packaged",
    )


async def test_complete_inside_the_block_completes_once() -> None:
    db = AsyncFakeDB()
    async with AsyncRunningStep(db.job_steps, db.logs, JOB, "ALIGNMENT", clock=FakeClock()) as step:
        await step.progress(50)
        row = await step.complete(artifacts={"n": 3}, message="aligned")
        assert row.state is StepStatus.SUCCEEDED
        await step.log("after completion")  # still allowed inside the block
        with pytest.raises(RuntimeError):
            await step.progress(60)
    assert db.rec.names() == ["start", "complete", "log"]  # complete() writes at once
    assert db.rec.calls[1] == ("complete", JOB, "ALIGNMENT", {"n": 3}, "aligned")


async def test_log_is_tagged_with_the_step() -> None:
    db = AsyncFakeDB()
    async with AsyncRunningStep(
        db.job_steps, db.logs, JOB, "VISUAL_PLAN", clock=FakeClock()
    ) as step:
        log_id = await step.log("planned", level="warning", data={"shots": 12})
        assert isinstance(log_id, int)
        await step.log("plain")
    assert db.rec.calls[1] == (
        "log",
        JOB,
        "planned",
        LogLevel.WARNING,
        "VISUAL_PLAN",
        {"shots": 12},
    )
    assert db.rec.calls[2] == ("log", JOB, "plain", LogLevel.INFO, "VISUAL_PLAN", None)
    with pytest.raises(ValueError):
        LogLevel("loud")


class RenderError(Exception):
    error_code = "RENDER_OOM"


async def test_an_exception_fails_the_step_and_job_and_is_reraised() -> None:
    db, clock = AsyncFakeDB(), FakeClock()
    with pytest.raises(RenderError) as info:
        async with AsyncRunningStep(db.job_steps, db.logs, JOB, "RENDERING", clock=clock) as step:
            await step.progress(5)
            raise RenderError("ffmpeg ran out of memory")
    assert db.rec.names() == ["start", "fail"]  # no progress flush, no completion
    assert db.rec.calls[-1] == ("fail", JOB, "RENDER_OOM", "ffmpeg ran out of memory", "RENDERING")
    assert str(info.value) == "ffmpeg ran out of memory"
    assert not getattr(info.value, "__notes__", None)


async def test_the_error_code_defaults_to_the_class_name() -> None:
    db = AsyncFakeDB()
    with pytest.raises(KeyError):
        async with AsyncRunningStep(db.job_steps, db.logs, JOB, "SCRIPTING", clock=FakeClock()):
            raise KeyError("voice")
    assert db.rec.calls[-1] == ("fail", JOB, "KeyError", "'voice'", "SCRIPTING")


async def test_an_empty_or_huge_message_is_still_recorded() -> None:
    db = AsyncFakeDB()
    with pytest.raises(ValueError):
        async with AsyncRunningStep(db.job_steps, db.logs, JOB, "SCRIPTING", clock=FakeClock()):
            raise ValueError()
    assert db.rec.calls[-1][3] == "ValueError"
    with pytest.raises(ValueError):
        async with AsyncRunningStep(db.job_steps, db.logs, JOB, "SCRIPTING", clock=FakeClock()):
            raise ValueError("x" * 10_000)
    assert len(db.rec.calls[-1][3]) == 4000 and db.rec.calls[-1][3].endswith("...")


async def test_a_failure_to_record_is_attached_never_raised_instead() -> None:
    db = AsyncFakeDB()
    db.rec.fail_error = ConnectionError("database down")
    original = RenderError("boom")
    with pytest.raises(RenderError) as info:
        async with AsyncRunningStep(db.job_steps, db.logs, JOB, "RENDERING", clock=FakeClock()):
            raise original
    assert info.value is original
    assert info.value.__context__ is db.rec.fail_error
    assert db.rec.fail_error.__context__ is None  # no cycle back to the original
    notes = getattr(info.value, "__notes__", [])
    assert any("database down" in n and "RENDERING" in n for n in notes)


async def test_cancellation_is_not_recorded_as_a_failure() -> None:
    import asyncio

    db = AsyncFakeDB()
    with pytest.raises(asyncio.CancelledError):
        async with AsyncRunningStep(db.job_steps, db.logs, JOB, "RENDERING", clock=FakeClock()):
            raise asyncio.CancelledError
    assert db.rec.names() == ["start"]


async def test_a_failing_progress_write_propagates_and_fails_the_step() -> None:
    db, clock = AsyncFakeDB(), FakeClock()
    db.rec.update_error = RuntimeError("write refused")
    with pytest.raises(RuntimeError, match="write refused"):
        async with AsyncRunningStep(db.job_steps, db.logs, JOB, "VOICE_GEN", clock=clock) as step:
            clock.advance(2)
            await step.progress(10)
    assert db.rec.calls[-1][:3] == ("fail", JOB, "RuntimeError")


async def test_progress_is_validated() -> None:
    db = AsyncFakeDB()
    async with AsyncRunningStep(db.job_steps, db.logs, JOB, "SCRIPTING", clock=FakeClock()) as step:
        for bad in (-1, 101, 50.5, True, None, "5"):
            with pytest.raises(ValueError, match="0 to 100"):
                await step.progress(bad)  # type: ignore[arg-type]
    assert db.rec.names() == ["start", "defer"]


async def test_a_step_is_used_once() -> None:
    db = AsyncFakeDB()
    step = AsyncRunningStep(db.job_steps, db.logs, JOB, "SCRIPTING", clock=FakeClock())
    with pytest.raises(RuntimeError):
        await step.progress(1)  # not entered
    with pytest.raises(RuntimeError):
        await step.log("early")
    async with step:
        pass
    with pytest.raises(RuntimeError, match="already entered"):
        async with step:
            pass
    with pytest.raises(RuntimeError):
        await step.progress(1)
    with pytest.raises(RuntimeError):
        await step.log("late")
    with pytest.raises(RuntimeError):
        await step.complete()
    assert db.rec.names() == ["start", "defer"]


def test_bad_construction() -> None:
    with pytest.raises(ValueError):
        AsyncRunningStep(
            AsyncFakeJobSteps(Recorder()),
            AsyncFakeLogs(Recorder()),
            JOB,
            "SCRIPTING",
            min_interval=-1,
        )
    with pytest.raises(ValueError):
        AsyncRunningStep(AsyncFakeJobSteps(Recorder()), AsyncFakeLogs(Recorder()), JOB, "")


async def test_the_default_clock_is_monotonic_time() -> None:
    db = AsyncFakeDB()
    async with AsyncRunningStep(db.job_steps, db.logs, JOB, "SCRIPTING", min_interval=3600) as step:
        await step.progress(1)
        await step.progress(2)
        assert step.pending_progress == 2  # within the hour: kept
        await step.flush()
    assert db.rec.updates() == [(2, None)]


# -- sync (the generated twin) -----------------------------------------------------------


def test_sync_coalesces_and_completes() -> None:
    db, clock = FakeDB(), FakeClock()
    with RunningStep(db.job_steps, db.logs, JOB, "SCRIPTING", clock=clock) as step:
        for pct in range(1, 101):
            step.progress(pct)
            clock.advance(0.001)
        step.log("done", level=LogLevel.DEBUG)
        step.artifacts = {"script": "s"}
    assert db.rec.names() == ["start", "log", "defer"]
    assert db.rec.updates() == []
    assert db.rec.calls[-1] == ("defer", JOB, "SCRIPTING", {"script": "s"}, None)


def test_sync_failure_is_recorded_and_reraised() -> None:
    db = FakeDB()
    with (
        pytest.raises(RenderError),
        RunningStep(db.job_steps, db.logs, JOB, "RENDERING", clock=FakeClock()),
    ):
        raise RenderError("no disk")
    assert db.rec.calls[-1] == ("fail", JOB, "RENDER_OOM", "no disk", "RENDERING")


def test_sync_failure_to_record_is_attached() -> None:
    db = FakeDB()
    db.rec.fail_error = TimeoutError("gateway")
    with (
        pytest.raises(RenderError) as info,
        RunningStep(db.job_steps, db.logs, JOB, "RENDERING", clock=FakeClock()),
    ):
        raise RenderError("no disk")
    assert info.value.__context__ is db.rec.fail_error
    assert any("gateway" in n for n in info.value.__notes__)


# -- through the real service clients (HTTP mocked with respx) ---------------------------

URL = "https://ref.supabase.co"
REST = f"{URL}/rest/v1"


def step_json(name: str, state: str, pct: int) -> dict[str, Any]:
    return step_row(name, StepStatus(state), pct).model_dump(mode="json")


def job_json(status: str) -> dict[str, Any]:
    return job_row(JobStatus(status)).model_dump(mode="json")


def mock_step_functions(mock: respx.MockRouter) -> dict[str, respx.Route]:
    return {
        "next": mock.post(f"{REST}/rpc/next_job_step").mock(
            return_value=httpx.Response(200, json=step_json("VOICE_GEN", "started", 0))
        ),
        "start": mock.post(f"{REST}/rpc/start_job_step").mock(
            return_value=httpx.Response(200, json=step_json("SCRIPTING", "started", 0))
        ),
        "update": mock.post(f"{REST}/rpc/update_job_step").mock(
            return_value=httpx.Response(200, json=step_json("SCRIPTING", "started", 50))
        ),
        "complete": mock.post(f"{REST}/rpc/complete_job_step").mock(
            return_value=httpx.Response(200, json=step_json("SCRIPTING", "succeeded", 100))
        ),
        "fail": mock.post(f"{REST}/rpc/fail_job").mock(
            return_value=httpx.Response(200, json=job_json("FAILED"))
        ),
        "log": mock.post(f"{REST}/rpc/append_job_log").mock(
            return_value=httpx.Response(200, json=7)
        ),
    }


def body(route: respx.Route, n: int = -1) -> Any:
    return json.loads(route.calls[n].request.content)


async def test_async_service_client_over_http() -> None:
    clock = FakeClock()
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        db = AsyncVidgenDB.service(URL, service_key())
        async with db:
            async with AsyncRunningStep(
                db.job_steps, db.logs, JOB, "SCRIPTING", clock=clock
            ) as step:
                for pct in range(0, 101, 5):
                    await step.progress(pct, "writing")
                assert await step.log("drafted", data={"words": 420}) == 7
                step.artifacts = {"script_url": "s3://b/script.json"}
            assert not routes["complete"].called  # deferred to the job's next call ...
        # ... or, with none, written when the client closes.
    assert body(routes["start"]) == {"p_job_id": str(JOB), "p_step_name": "SCRIPTING"}
    assert not routes["update"].called  # 21 fast progress calls: none written
    log = body(routes["log"])
    assert uuid.UUID(log.pop("p_idempotency_key"))  # a new key per line: retry-safe
    assert log == {
        "p_job_id": str(JOB),
        "p_message": "drafted",
        "p_level": "info",
        "p_step_name": "SCRIPTING",
        "p_data": {"words": 420},
    }
    assert body(routes["complete"]) == {
        "p_job_id": str(JOB),
        "p_step_name": "SCRIPTING",
        "p_artifacts": {"script_url": "s3://b/script.json"},
        "p_message": "writing",
    }
    assert not routes["fail"].called


async def test_a_stage_transition_is_one_request() -> None:
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        async with AsyncVidgenDB.service(URL, service_key()) as db:
            async with db.jobs.step(JOB, "SCRIPTING", lease=41) as step:
                step.artifacts = {"script": 1}
            async with db.jobs.step(JOB, "VOICE_GEN", lease=41) as step:
                await step.progress(10, "voicing")
            assert body(routes["next"]) == {
                "p_job_id": str(JOB),
                "p_step_name": "VOICE_GEN",
                "p_previous_step": "SCRIPTING",
                "p_previous_artifacts": {"script": 1},
                "p_lease": 41,
            }
    assert routes["start"].call_count == 1 and routes["next"].call_count == 1
    assert body(routes["complete"]) == {  # the last one, at close
        "p_job_id": str(JOB),
        "p_step_name": "VOICE_GEN",
        "p_message": "voicing",
        "p_lease": 41,
    }
    assert not routes["update"].called


async def test_a_transition_that_fails_keeps_the_completion_and_fails_nothing() -> None:
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        routes["next"].mock(return_value=httpx.Response(503, text="busy"))
        fast = ClientSettings(max_retries=1, initial_retry_delay=0, max_retry_delay=0)
        async with AsyncVidgenDB.service(URL, service_key(), settings=fast) as db:
            async with db.jobs.step(JOB, "SCRIPTING"):
                pass
            with pytest.raises(ServiceUnavailableError):
                async with db.jobs.step(JOB, "VOICE_GEN"):
                    raise AssertionError("the block must not run")
            assert routes["next"].call_count == 2 and not routes["fail"].called
            assert await db.job_steps.flush(JOB) is not None  # still there to write
        assert body(routes["complete"])["p_step_name"] == "SCRIPTING"


def test_sync_service_client_failure_over_http() -> None:
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        db = VidgenDB.service(URL, service_key())
        with (
            db,
            pytest.raises(RenderError),
            RunningStep(db.job_steps, db.logs, JOB, "RENDERING", clock=FakeClock()),
        ):
            raise RenderError("ffmpeg exited with 137")
    assert body(routes["fail"]) == {
        "p_job_id": str(JOB),
        "p_error_code": "RENDER_OOM",
        "p_error_message": "ffmpeg exited with 137",
        "p_failed_step": "RENDERING",
    }
    assert not routes["complete"].called and not routes["update"].called


async def test_an_http_error_while_recording_is_attached() -> None:
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        routes["fail"].mock(
            return_value=httpx.Response(
                400, json={"code": "VG201", "message": "illegal job transition", "hint": None}
            )
        )
        async with AsyncVidgenDB.service(URL, service_key()) as db:
            with pytest.raises(RenderError) as info:
                async with AsyncRunningStep(
                    db.job_steps, db.logs, JOB, "RENDERING", clock=FakeClock()
                ):
                    raise RenderError("boom")
    assert isinstance(info.value.__context__, IllegalJobTransitionError)
    assert any("VG201" in note for note in info.value.__notes__)


# -- under a claim: every write carries the lease ------------------------------------------


async def test_every_write_of_a_claimed_step_carries_its_lease() -> None:
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        async with AsyncVidgenDB.service(URL, service_key()) as db:
            async with db.jobs.step(JOB, "SCRIPTING", min_interval=0, lease=41) as step:
                await step.progress(50)
                await step.log("half way")
            with pytest.raises(RenderError):
                async with db.jobs.step(JOB, "RENDERING", lease=41):
                    raise RenderError("boom")
    for name in ("start", "next", "update", "log", "fail"):
        assert all(json.loads(c.request.content)["p_lease"] == 41 for c in routes[name].calls), name


async def test_a_lost_lease_leaves_the_job_alone() -> None:
    lost = {"code": "VG302", "message": f"lease 41 on job {JOB} is lost", "hint": None}
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        routes["update"].mock(return_value=httpx.Response(400, json=lost))
        async with AsyncVidgenDB.service(URL, service_key()) as db:
            with pytest.raises(LeaseLostError):
                async with db.jobs.step(JOB, "SCRIPTING", min_interval=0, lease=41) as step:
                    await step.progress(50)
    assert not routes["fail"].called and not routes["complete"].called


def test_a_cancelled_job_is_recorded_as_failed_with_the_lease() -> None:
    cancelled = {"code": "VG303", "message": f"job {JOB} was cancelled", "hint": None}
    with respx.mock(assert_all_called=False) as mock:
        routes = mock_step_functions(mock)
        routes["log"].mock(return_value=httpx.Response(400, json=cancelled))
        with (
            VidgenDB.service(URL, service_key()) as db,
            pytest.raises(JobCancelledError),
            db.jobs.step(JOB, "VOICE_GEN", lease=41) as step,
        ):
            step.log("voicing")
    assert body(routes["fail"]) == {
        "p_job_id": str(JOB),
        "p_error_code": "JobCancelledError",
        "p_error_message": f"[HTTP 400 VG303] job {JOB} was cancelled",
        "p_failed_step": "VOICE_GEN",
        "p_lease": 41,
    }


def test_bad_step_arguments_are_invalid_argument_errors() -> None:
    job = uuid.uuid4()
    with pytest.raises(InvalidArgumentError, match="min_interval must be zero or more"):
        RunningStep(None, None, job, "SCRIPTING", min_interval=-1)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="step_name must not be empty"):
        RunningStep(None, None, job, "")  # type: ignore[arg-type]
