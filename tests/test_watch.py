"""watch_job, async and sync: yields changes only, stops at READY/FAILED, backs off while
nothing changes, times out; the Realtime path with a fake channel; the real client's
``jobs.get`` through respx."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
import respx

from jwts import anon_key, user_token
from vidgen_db import AsyncVidgenDB, NotFoundError, TransientError, VidgenDB, WatchTimeoutError
from vidgen_db.models import Job
from vidgen_db.models.enums import CreditState, JobStatus
from vidgen_db.repos._jobs_watch import watch_job as sync_watch_job
from vidgen_db.repos._jobs_watch_async import watch_job

URL = "https://ref.supabase.co"
REST = f"{URL}/rest/v1"
JOB = UUID("00000000-0000-4000-8000-0000000000c1")
USER = UUID("00000000-0000-4000-8000-000000000001")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def job(status: str, progress: int | None = 0, message: str | None = None) -> Job:
    return Job(
        id=JOB,
        project_id=uuid.uuid4(),
        user_id=USER,
        status=JobStatus(status),
        progress=progress,
        status_message=message,
        created_at=NOW,
        credit_state=CreditState.RESERVED,
        attempt=0,
        max_attempts=3,
    )


class Script:
    """A job read repeatedly: the states in turn, the last one for ever."""

    def __init__(self, *states: Job) -> None:
        self.states = list(states)
        self.reads = 0

    def _next(self, job_id: UUID) -> Job:
        assert job_id == JOB
        state = self.states[min(self.reads, len(self.states) - 1)]
        self.reads += 1
        return state

    async def aget(self, job_id: UUID, /) -> Job:
        return self._next(job_id)

    def get(self, job_id: UUID, /) -> Job:
        return self._next(job_id)


class FakeTime:
    """A clock that only the fake sleep advances; records the sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float, /) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float, /) -> None:
        self.sleep(seconds)


def summary(jobs: list[Job]) -> list[tuple[str, int | None, str | None]]:
    return [(j.status.value, j.progress, j.status_message) for j in jobs]


# -- polling -----------------------------------------------------------------------------


async def test_yields_the_current_state_then_only_changes_until_ready() -> None:
    script = Script(
        job("QUEUED"),
        job("QUEUED"),
        job("SCRIPTING", 5),
        job("SCRIPTING", 5),
        job("SCRIPTING", 10, "scene 2"),
        job("VOICE_GEN", 20),
        job("READY", 100),
        job("READY", 100),
    )
    t = FakeTime()
    seen = [j async for j in watch_job(script.aget, JOB, sleep=t.asleep, clock=t.clock)]
    assert summary(seen) == [
        ("QUEUED", 0, None),
        ("SCRIPTING", 5, None),
        ("SCRIPTING", 10, "scene 2"),
        ("VOICE_GEN", 20, None),
        ("READY", 100, None),
    ]
    assert script.reads == 7  # stopped at READY: never read again


async def test_a_job_already_final_is_yielded_once() -> None:
    script = Script(job("FAILED", 30))
    t = FakeTime()
    seen = [j async for j in watch_job(script.aget, JOB, sleep=t.asleep, clock=t.clock)]
    assert summary(seen) == [("FAILED", 30, None)]
    assert t.sleeps == [] and script.reads == 1


async def test_stops_at_failed() -> None:
    script = Script(job("RENDERING", 80), job("FAILED", 80), job("QUEUED"))
    t = FakeTime()
    seen = [j async for j in watch_job(script.aget, JOB, sleep=t.asleep, clock=t.clock)]
    assert [j.status for j in seen] == [JobStatus.RENDERING, JobStatus.FAILED]


async def test_the_wait_grows_while_nothing_changes_and_resets_on_a_change() -> None:
    script = Script(*[job("RENDERING", 50)] * 8, job("RENDERING", 60), job("READY", 100))
    t = FakeTime()
    seen = [
        j
        async for j in watch_job(
            script.aget, JOB, poll_interval=1.0, max_interval=5.0, sleep=t.asleep, clock=t.clock
        )
    ]
    assert len(seen) == 3
    assert t.sleeps == pytest.approx([1.0, 1.5, 2.25, 3.375, 5.0, 5.0, 5.0, 5.0, 1.0])


async def test_timeout_raises_a_watch_timeout_error_not_a_transient_one() -> None:
    script = Script(job("RENDERING", 50))
    t = FakeTime()
    seen: list[Job] = []
    with pytest.raises(WatchTimeoutError, match="not done within 10 s") as info:
        async for j in watch_job(
            script.aget,
            JOB,
            poll_interval=1,
            max_interval=4,
            timeout=10,
            sleep=t.asleep,
            clock=t.clock,
        ):
            seen.append(j)
    assert len(seen) == 1
    assert sum(t.sleeps) == pytest.approx(10.0)  # the last wait is cut to the deadline
    # A caller that retries transient errors must not re-watch a job that is just slow.
    assert not isinstance(info.value, TransientError)
    assert isinstance(info.value, TimeoutError)
    assert t.sleeps[-1] < 4


async def test_a_job_finishing_at_the_deadline_is_not_a_timeout() -> None:
    script = Script(job("RENDERING", 50), job("RENDERING", 50), job("READY", 100))
    t = FakeTime()
    seen = [
        j
        async for j in watch_job(
            script.aget, JOB, poll_interval=2, timeout=3.5, sleep=t.asleep, clock=t.clock
        )
    ]
    assert seen[-1].status is JobStatus.READY and sum(t.sleeps) == pytest.approx(3.5)


async def test_read_errors_propagate() -> None:
    async def missing(job_id: UUID, /) -> Job:
        raise NotFoundError("job not found", code="PGRST116", status_code=406)

    with pytest.raises(NotFoundError):
        async for _ in watch_job(missing, JOB):
            pass


@pytest.mark.parametrize(
    "kwargs",
    [
        {"poll_interval": 0},
        {"poll_interval": 2, "max_interval": 1},
        {"timeout": 0},
    ],
)
async def test_bad_intervals(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        async for _ in watch_job(Script(job("READY")).aget, JOB, **kwargs):
            pass


async def test_real_sleep_by_default() -> None:
    script = Script(job("PACKAGING", 95), job("READY", 100))
    seen = [j async for j in watch_job(script.aget, JOB, poll_interval=0.01)]
    assert [j.status for j in seen] == [JobStatus.PACKAGING, JobStatus.READY]


# -- sync (the generated twin) -----------------------------------------------------------


def test_sync_polls_with_the_same_rules() -> None:
    script = Script(job("QUEUED"), job("QUEUED"), job("QUEUED"), job("SCRIPTING", 3), job("READY"))
    t = FakeTime()
    seen = list(
        sync_watch_job(
            script.get, JOB, poll_interval=2, max_interval=10, sleep=t.sleep, clock=t.clock
        )
    )
    assert [j.status for j in seen] == [JobStatus.QUEUED, JobStatus.SCRIPTING, JobStatus.READY]
    assert t.sleeps == pytest.approx([2, 3, 4.5, 2])


def test_sync_timeout() -> None:
    t = FakeTime()
    with pytest.raises(WatchTimeoutError):
        for _ in sync_watch_job(
            Script(job("QUEUED")).get, JOB, timeout=5, sleep=t.sleep, clock=t.clock
        ):
            pass


def test_sync_ignores_realtime_and_polls() -> None:
    t = FakeTime()
    seen = list(
        sync_watch_job(
            Script(job("QUEUED"), job("READY")).get,
            JOB,
            realtime=FakeRealtime(),
            sleep=t.sleep,
            clock=t.clock,
        )
    )
    assert len(seen) == 2 and t.sleeps == [1.0]


# -- through the real clients' jobs.get (HTTP mocked) --------------------------------------


def job_json(status: str, progress: int, message: str | None = None) -> dict[str, Any]:
    return job(status, progress, message).model_dump(mode="json")


def responses(*states: tuple[str, int]) -> Iterator[httpx.Response]:
    for status, progress in states:
        yield httpx.Response(200, json=job_json(status, progress))


async def test_async_user_client_watch_over_http() -> None:
    t = FakeTime()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{REST}/jobs").mock(
            side_effect=responses(
                ("QUEUED", 0), ("IMAGE_GEN", 60), ("IMAGE_GEN", 60), ("READY", 100)
            )
        )
        async with AsyncVidgenDB.for_user(URL, anon_key(), user_token(USER)) as db:
            seen = [j async for j in watch_job(db.jobs.get, JOB, sleep=t.asleep, clock=t.clock)]
    assert summary(seen) == [("QUEUED", 0, None), ("IMAGE_GEN", 60, None), ("READY", 100, None)]
    assert route.call_count == 4
    request = route.calls.last.request
    assert request.url.params["id"] == f"eq.{JOB}"


def test_sync_user_client_watch_over_http() -> None:
    t = FakeTime()
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{REST}/jobs").mock(
            side_effect=responses(("RENDERING", 80), ("FAILED", 80))
        )
        with VidgenDB.for_user(URL, anon_key(), user_token(USER)) as db:
            seen = list(sync_watch_job(db.jobs.get, JOB, sleep=t.sleep, clock=t.clock))
    assert [j.status for j in seen] == [JobStatus.RENDERING, JobStatus.FAILED]
    assert route.call_count == 2


# -- Realtime, with a fake channel -------------------------------------------------------


class FakeChannel:
    def __init__(self, topic: str, answer: str | Exception) -> None:
        self.topic = topic
        self.answer = answer
        self.listeners: list[dict[str, Any]] = []
        self.subscribed = False

    def on_postgres_changes(self, event: str, **kwargs: Any) -> FakeChannel:
        self.listeners.append({"event": event, **kwargs})
        return self

    async def subscribe(self, callback: Any) -> FakeChannel:
        if isinstance(self.answer, Exception):
            raise self.answer
        callback(self.answer, None)
        self.subscribed = self.answer == "SUBSCRIBED"
        return self

    def fire(self) -> None:
        """The server's notification of an UPDATE of the job."""
        payload = {"data": {"type": "UPDATE", "record": {"id": str(JOB)}}}
        for listener in self.listeners:
            listener["callback"](payload)


class FakeRealtime:
    def __init__(self, answer: str | Exception = "SUBSCRIBED") -> None:
        self.answer = answer
        self.channels: list[FakeChannel] = []
        self.removed: list[FakeChannel] = []

    def channel(self, topic: str) -> FakeChannel:
        ch = FakeChannel(topic, self.answer)
        self.channels.append(ch)
        return ch

    async def remove_channel(self, channel: FakeChannel) -> None:
        self.removed.append(channel)


async def test_realtime_reads_the_job_when_notified() -> None:
    script = Script(job("QUEUED"), job("SCRIPTING", 10), job("READY", 100))
    realtime = FakeRealtime()
    t = FakeTime()
    async with aclosing(
        watch_job(
            script.aget, JOB, realtime=realtime, max_interval=30, sleep=t.asleep, clock=t.clock
        )
    ) as gen:
        first = await anext(gen)
        assert first.status is JobStatus.QUEUED
        (channel,) = realtime.channels
        assert channel.listeners == [
            {
                "event": "UPDATE",
                "schema": "public",
                "table": "jobs",
                "filter": f"id=eq.{JOB}",
                "callback": channel.listeners[0]["callback"],
            }
        ]
        asyncio.get_running_loop().call_later(0.01, channel.fire)
        second = await asyncio.wait_for(anext(gen), 5)
        assert second.status is JobStatus.SCRIPTING
        asyncio.get_running_loop().call_later(0.01, channel.fire)
        third = await asyncio.wait_for(anext(gen), 5)
        assert third.status is JobStatus.READY
        with pytest.raises(StopAsyncIteration):
            await anext(gen)
    assert t.sleeps == []  # woken by notifications, never by the timer
    assert realtime.removed == [channel]


async def test_realtime_still_reads_every_max_interval() -> None:
    script = Script(job("QUEUED"), job("READY", 100))
    realtime = FakeRealtime()
    seen = [
        j
        async for j in watch_job(
            script.aget, JOB, realtime=realtime, poll_interval=0.01, max_interval=0.05
        )
    ]
    assert [j.status for j in seen] == [JobStatus.QUEUED, JobStatus.READY]
    assert len(realtime.removed) == 1


@pytest.mark.parametrize("answer", ["CHANNEL_ERROR", "TIMED_OUT", ConnectionError("no server")])
async def test_realtime_falls_back_to_polling(
    answer: str | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script(job("QUEUED"), job("QUEUED"), job("READY", 100))
    realtime = FakeRealtime(answer)
    t = FakeTime()
    seen = [
        j
        async for j in watch_job(script.aget, JOB, realtime=realtime, sleep=t.asleep, clock=t.clock)
    ]
    assert [j.status for j in seen] == [JobStatus.QUEUED, JobStatus.READY]
    assert t.sleeps == [1.0, 1.5]  # polled
    assert realtime.removed == realtime.channels  # the failed channel was left
    assert "polling instead" in caplog.text


async def test_realtime_that_cannot_make_a_channel_falls_back() -> None:
    script = Script(job("READY", 100))
    seen = [j async for j in watch_job(script.aget, JOB, realtime=object())]
    assert len(seen) == 1


async def test_realtime_watch_times_out() -> None:
    script = Script(job("RENDERING", 40))
    realtime = FakeRealtime()
    with pytest.raises(WatchTimeoutError):
        async for _ in watch_job(
            script.aget, JOB, realtime=realtime, max_interval=30, timeout=0.05
        ):
            pass
    assert len(realtime.removed) == 1  # the channel is left on the way out


async def test_an_unreachable_realtime_server_falls_back_to_polling() -> None:
    # supabase-py's own client, pointed at a port nothing listens on.
    import socket

    from realtime import AsyncRealtimeClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    realtime = AsyncRealtimeClient(
        f"ws://127.0.0.1:{port}/realtime/v1", token="t", max_retries=1, initial_backoff=0.01
    )
    script = Script(job("QUEUED"), job("READY", 100))
    t = FakeTime()
    seen = [
        j
        async for j in watch_job(script.aget, JOB, realtime=realtime, sleep=t.asleep, clock=t.clock)
    ]
    assert [j.status for j in seen] == [JobStatus.QUEUED, JobStatus.READY]
    assert t.sleeps == [1.0]
