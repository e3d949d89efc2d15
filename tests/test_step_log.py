"""step.log() inside db.jobs.step: retry-safe (each line carries an idempotency key, which
the client's retries resend), and never the reason a job fails: a line that cannot be
stored is a warning on the ``vidgen_db.jobs`` logger and ``log()`` returns None. Only what
says the job is no longer the worker's (lease lost, cancelled) and a bad level raise.
HTTP mocked with respx; tests/e2e/test_idempotency.py does it over a real stack."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from jwts import service_key
from vidgen_db import (
    AsyncVidgenDB,
    ClientSettings,
    InvalidArgumentError,
    JobCancelledError,
    LeaseLostError,
    VidgenDB,
)
from vidgen_db.models.enums import StepStatus
from vidgen_db.models.job_steps import JobStep

URL = "https://ref.supabase.co"
REST = f"{URL}/rest/v1"
JOB = uuid.UUID("00000000-0000-4000-8000-0000000000b1")
FAST = ClientSettings(max_retries=2, initial_retry_delay=0.0, max_retry_delay=0.0)


def step_json(state: str = "started") -> dict[str, Any]:
    return JobStep(
        id=uuid.uuid4(),
        job_id=JOB,
        step_name="SCRIPTING",
        step_order=1,
        state=StepStatus(state),
        progress_pct=0,
        started_at=datetime(2026, 11, 28, 10, tzinfo=UTC),
    ).model_dump(mode="json")


def error(code: str, status: int = 400) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": code, "details": None})


def routes(mock: respx.MockRouter, log: Any) -> dict[str, respx.Route]:
    return {
        "start": mock.post(f"{REST}/rpc/start_job_step").mock(
            return_value=httpx.Response(200, json=step_json())
        ),
        "complete": mock.post(f"{REST}/rpc/complete_job_step").mock(
            return_value=httpx.Response(200, json=step_json("succeeded"))
        ),
        "fail": mock.post(f"{REST}/rpc/fail_job"),
        "log": mock.post(f"{REST}/rpc/append_job_log").mock(side_effect=log),
    }


def sent(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]


def test_a_lost_response_is_retried_with_the_same_key() -> None:
    with respx.mock(assert_all_called=False) as mock:
        r = routes(mock, [httpx.ReadError("reset"), httpx.Response(200, json=4)])
        with (
            VidgenDB.service(URL, service_key(), settings=FAST) as db,
            db.jobs.step(JOB, "SCRIPTING") as step,
        ):
            assert step.log("drafted") == 4
    first, second = sent(r["log"])
    assert first == second and uuid.UUID(first["p_idempotency_key"])


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, text="boom"),  # the server failed: not known to be stored
        httpx.ReadError("reset"),  # lost on every attempt (the SDK retried twice)
        error("23514"),  # refused
        error("42501", 403),
    ],
    ids=["server-error", "network", "refused", "denied"],
)
def test_a_line_that_cannot_be_stored_is_dropped_with_a_warning(
    failure: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="vidgen_db")
    with respx.mock(assert_all_called=False) as mock:
        r = routes(mock, [failure] * 3)
        with (
            VidgenDB.service(URL, service_key(), settings=FAST) as db,
            db.jobs.step(JOB, "SCRIPTING") as step,
        ):
            assert step.log("a line") is None
            step.artifacts = {"ok": True}
    assert r["complete"].called and not r["fail"].called  # the job went on
    warnings = [rec for rec in caplog.records if rec.name == "vidgen_db.jobs"]
    assert len(warnings) == 1
    assert "dropped" in warnings[0].getMessage() and str(JOB) in warnings[0].getMessage()


def test_oversized_data_is_dropped_and_a_long_message_cut(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="vidgen_db")
    with respx.mock(assert_all_called=False) as mock:
        r = routes(mock, [httpx.Response(200, json=1)])
        with (
            VidgenDB.service(URL, service_key(), settings=FAST) as db,
            db.jobs.step(JOB, "SCRIPTING") as step,
        ):
            assert step.log("big", data={"x": "y" * 20_000}) is None  # not sent
            assert step.log("m" * 5000) == 1
    (body,) = sent(r["log"])
    assert len(body["p_message"]) == 4000 and body["p_message"].endswith("...")
    assert any("InvalidArgumentError" in rec.getMessage() for rec in caplog.records)


@pytest.mark.parametrize(
    ("code", "raised"), [("VG302", LeaseLostError), ("VG303", JobCancelledError)]
)
def test_a_lost_or_cancelled_job_still_raises(code: str, raised: type[Exception]) -> None:
    with respx.mock(assert_all_called=False) as mock:
        routes(mock, [error(code, 409)])
        with (
            VidgenDB.service(URL, service_key(), settings=FAST) as db,
            pytest.raises(raised),
            db.jobs.step(JOB, "SCRIPTING", lease=7) as step,
        ):
            step.log("a line")


def test_a_bad_level_is_a_bug_of_the_caller() -> None:
    with respx.mock(assert_all_called=False) as mock:
        r = routes(mock, [httpx.Response(200, json=1)])
        with (
            VidgenDB.service(URL, service_key(), settings=FAST) as db,
            pytest.raises(InvalidArgumentError, match="level"),
            db.jobs.step(JOB, "SCRIPTING") as step,
        ):
            step.log("x", level="loud")
    assert not r["log"].called


async def test_the_async_step_drops_the_same_way(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="vidgen_db")
    with respx.mock(assert_all_called=False) as mock:
        r = routes(mock, [httpx.Response(500, text="boom")])
        async with (
            AsyncVidgenDB.service(URL, service_key(), settings=FAST) as db,
            db.jobs.step(JOB, "SCRIPTING") as step,
        ):
            assert await step.log("a line") is None
    assert not r["fail"].called
    assert [rec.name for rec in caplog.records if rec.levelno == logging.WARNING] == [
        "vidgen_db.jobs"
    ]
