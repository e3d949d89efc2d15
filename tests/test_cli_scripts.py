"""The scripts' commands of ``vidgen-db`` (credits, jobs show): the HTTP requests they make
(respx) and the tables they print; exit 1 on API errors, 2 on bad arguments."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import respx

from jwts import anon_key, service_key
from vidgen_db.cli import main

URL = "https://ref.supabase.co"
REST = f"{URL}/rest/v1"
USER = uuid.UUID("00000000-0000-4000-8000-000000000001")
JOB = uuid.UUID("00000000-0000-4000-8000-0000000000d1")
PROJECT = uuid.UUID("00000000-0000-4000-8000-0000000000a1")


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The service key, in the environment as scripts have it."""
    secret = service_key()
    monkeypatch.setenv("SUPABASE_URL", URL)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", secret)
    monkeypatch.delenv("SUPABASE_ANON_KEY", raising=False)
    monkeypatch.setenv("VIDGEN_DB_MAX_RETRIES", "0")
    return secret


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def bad_args(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    return capsys.readouterr().err


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


NOT_FOUND = {
    "code": "PGRST116",
    "message": "Cannot coerce the result to a single JSON object",
    "details": "The result contains 0 rows",
    "hint": None,
}


def profile_route(mock: respx.MockRouter, exists: bool = True, rest: str = REST) -> respx.Route:
    """The profile lookup that tells a known user from an unknown one."""
    row = {
        "id": str(USER),
        "display_name": "Ada",
        "avatar_url": None,
        "notification_prefs": {"job_complete": True, "job_failed": True},
        "stripe_customer_id": None,
        "created_at": "2026-11-28T09:00:00+00:00",
        "updated_at": "2026-11-28T09:00:00+00:00",
    }
    response = httpx.Response(200, json=row) if exists else httpx.Response(406, json=NOT_FOUND)
    return mock.get(f"{rest}/profiles").mock(return_value=response)


# -- credits balance ---------------------------------------------------------------------


def test_balance(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(assert_all_called=True) as mock:
        profiles = profile_route(mock)
        route = mock.post(f"{REST}/rpc/get_credit_balance").mock(
            return_value=httpx.Response(200, json=42)
        )
        code, out, err = run(capsys, "credits", "balance", str(USER))
    assert code == 0 and err == ""
    assert lines(out) == [
        "USER                                  BALANCE",
        f"{USER}       42",
    ]
    request = route.calls.last.request
    assert json.loads(request.content) == {"p_user_id": str(USER)}
    assert request.headers["apikey"] == key
    assert request.headers["authorization"] == f"Bearer {key}"
    assert profiles.calls.last.request.url.params["id"] == f"eq.{USER}"


def test_balance_of_an_unknown_user_exits_1(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    # get_credit_balance answers 0 for any id: the profile lookup tells a typo apart.
    with respx.mock(assert_all_called=False) as mock:
        profile_route(mock, exists=False)
        balance = mock.post(f"{REST}/rpc/get_credit_balance")
        code, out, err = run(capsys, "credits", "balance", str(USER))
    assert code == 1 and out == "" and not balance.called
    assert err == f"error: unknown user {USER}\n"


def test_unknown_user_exits_1_with_one_line(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock() as mock:
        mock.post(f"{REST}/rpc/grant_credits").mock(
            return_value=httpx.Response(
                400,
                json={
                    "code": "VG001",
                    "message": f"unknown user {USER}",
                    "details": "no profile\nwith that id",
                    "hint": None,
                },
            )
        )
        code, out, err = run(capsys, "credits", "grant", str(USER), "5")
    assert code == 1 and out == ""
    assert lines(err) == [
        f"error: [HTTP 400 VG001] unknown user {USER} (details: no profile with that id)"
    ]
    assert key not in err


def test_options_instead_of_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SUPABASE_URL", raising=False)
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY", raising=False)
    secret = service_key()
    other = "https://other.supabase.co"
    with respx.mock(assert_all_called=True) as mock:
        profile_route(mock, rest=f"{other}/rest/v1")
        route = mock.post(f"{other}/rest/v1/rpc/get_credit_balance").mock(
            return_value=httpx.Response(200, json=7)
        )
        code, out, err = run(
            capsys, "credits", "balance", str(USER), "--url", other, "--service-key", secret
        )
    assert code == 0 and out.endswith(" 7\n")
    assert route.calls.last.request.headers["authorization"] == f"Bearer {secret}"
    assert secret not in out and secret not in err


def test_missing_configuration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SUPABASE_URL", raising=False)
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY", raising=False)
    code, _, err = run(capsys, "credits", "balance", str(USER))
    assert code == 1 and "SUPABASE_URL is not set" in err
    code, _, err = run(capsys, "credits", "balance", str(USER), "--url", URL)
    assert code == 1 and "no service-role key" in err


def test_an_anon_key_is_refused_without_being_echoed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = anon_key()
    code, out, err = run(
        capsys, "credits", "balance", str(USER), "--url", URL, "--service-key", wrong
    )
    assert code == 1 and "service_key" in err
    assert wrong not in err and wrong not in out
    assert len(lines(err)) == 1


# -- credits grant -----------------------------------------------------------------------


def test_grant(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{REST}/rpc/grant_credits").mock(
            return_value=httpx.Response(200, json=60)
        )
        code, out, _ = run(capsys, "credits", "grant", str(USER), "50", "--note", "promo")
    assert code == 0
    body = json.loads(route.calls.last.request.content)
    key = body.pop("p_idempotency_key")
    assert str(uuid.UUID(key)) == key  # a new key, printed so the grant can be repeated safely
    assert lines(out) == [
        f"granted 50 credits to {USER}: balance 60",
        f"idempotency key: {key} (run again with --idempotency-key {key}: nothing more)",
    ]
    assert body == {"p_user_id": str(USER), "p_amount": 50, "p_note": "promo"}
    assert route.call_count == 1


def test_grant_with_an_idempotency_key(
    key: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDGEN_DB_MAX_RETRIES", "1")
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{REST}/rpc/grant_credits").mock(
            side_effect=[httpx.ReadError("connection reset"), httpx.Response(200, json=60)]
        )
        code, out, _ = run(
            capsys, "credits", "grant", str(USER), "50", "--idempotency-key", "ticket-4711"
        )
    assert code == 0 and "idempotency key: ticket-4711 " in out
    # The lost response was retried with the same key: the database grants once.
    sent = [json.loads(c.request.content)["p_idempotency_key"] for c in route.calls]
    assert sent == ["ticket-4711", "ticket-4711"]


def test_grant_refuses_a_bad_idempotency_key(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(f"{REST}/rpc/grant_credits")
        err = bad_args(capsys, "credits", "grant", str(USER), "5", "--idempotency-key", "k" * 256)
    assert not route.called
    assert "255 characters" in err


def test_grant_without_note(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/grant_credits").mock(
            return_value=httpx.Response(200, json=15)
        )
        code, _, _ = run(capsys, "credits", "grant", str(USER), "5")
    assert code == 0
    body = json.loads(route.calls.last.request.content)
    assert body["p_amount"] == 5 and body.get("p_note") is None


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1.5", "2147483648"])
def test_grant_refuses_bad_amounts(
    amount: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with respx.mock() as mock:  # nothing may be sent
        err = bad_args(capsys, "credits", "grant", str(USER), amount)
        assert not mock.calls
    assert "AMOUNT" in err or "integer" in err


# -- credits history ---------------------------------------------------------------------


def entry(n: int, kind: str, amount: int, balance: int, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(uuid.UUID(int=n)),
        "user_id": str(USER),
        "type": kind,
        "amount": amount,
        "balance_after": balance,
        "note": None,
        "job_id": None,
        "stripe_payment_id": None,
        "created_at": f"2026-11-28T10:0{n}:00+00:00",
    }
    row.update(extra)
    return row


def test_history_of_an_unknown_user(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(assert_all_called=False) as mock:
        profile_route(mock, exists=False)
        ledger = mock.get(f"{REST}/credit_ledger")
        code, _, err = run(capsys, "credits", "history", str(USER))
    assert code == 1 and err == f"error: unknown user {USER}\n" and not ledger.called


def test_history(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        entry(3, "usage", -40, 25, job_id=str(JOB)),
        entry(2, "purchase", 55, 65, stripe_payment_id="pi_123"),
        entry(1, "grant", 10, 10, note="welcome bonus"),
    ]
    with respx.mock(assert_all_called=True) as mock:
        profile_route(mock)
        route = mock.get(f"{REST}/credit_ledger").mock(return_value=httpx.Response(200, json=rows))
        code, out, _ = run(capsys, "credits", "history", str(USER), "--limit", "5")
    assert code == 0
    assert lines(out) == [
        "WHEN (UTC)           TYPE      AMOUNT  BALANCE  JOB                                   NOTE",
        f"2026-11-28 10:03:00  usage        -40       25  {JOB}  -",
        "2026-11-28 10:02:00  purchase     +55       65  -                                     pi_123",
        "2026-11-28 10:01:00  grant        +10       10  -                                     welcome bonus",
    ]
    params = route.calls.last.request.url.params
    assert params["user_id"] == f"eq.{USER}"
    assert params["limit"] == "6"  # one more, to know whether there is a next page
    assert params["order"] == "created_at.desc,id.desc"


def test_history_says_when_there_is_more(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [entry(2, "grant", 5, 15), entry(1, "grant", 10, 10)]
    with respx.mock() as mock:
        profile_route(mock)
        mock.get(f"{REST}/credit_ledger").mock(return_value=httpx.Response(200, json=rows))
        code, out, _ = run(capsys, "credits", "history", str(USER), "--limit", "1")
    assert code == 0
    assert len(lines(out)) == 3 and "raise --limit" in lines(out)[-1]


def test_empty_history(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock() as mock:
        profile_route(mock)
        mock.get(f"{REST}/credit_ledger").mock(return_value=httpx.Response(200, json=[]))
        code, out, _ = run(capsys, "credits", "history", str(USER))
    assert code == 0 and out == f"no ledger entries for {USER}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["credits", "history", "not-a-uuid"],
        ["credits", "history", str(USER), "--limit", "0"],
        ["credits", "history", str(USER), "--limit", "1001"],
        ["credits", "balance", "42"],
        ["credits", "grant", "nobody", "5"],
        ["jobs", "show", "job-1"],
        ["jobs", "show", str(JOB), "--logs", "-1"],
        ["credits"],
        ["jobs"],
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with respx.mock() as mock:
        bad_args(capsys, *argv)
        assert not mock.calls


# -- jobs show ---------------------------------------------------------------------------


def job_json(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(JOB),
        "project_id": str(PROJECT),
        "user_id": str(USER),
        "status": "VOICE_GEN",
        "progress": 18,
        "status_message": "voicing scene 2",
        "cost_credits_reserved": 40,
        "cost_credits_final": None,
        "failed_step": None,
        "error_code": None,
        "error_message": None,
        "output_url": None,
        "manifest_json": None,
        "created_at": "2026-11-28T10:00:00+00:00",
        "started_at": "2026-11-28T10:00:05+00:00",
        "finished_at": None,
        "credit_state": "reserved",
        "attempt": 0,
        "max_attempts": 3,
    }
    row.update(overrides)
    return row


def step_json(name: str, order: int, state: str, pct: int | None, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(uuid.UUID(int=order)),
        "job_id": str(JOB),
        "step_name": name,
        "step_order": order,
        "state": state,
        "progress_pct": pct,
        "status_message": None,
        "error_message": None,
        "logs_url": None,
        "artifacts_json": None,
        "started_at": "2026-11-28T10:00:05+00:00",
        "finished_at": None,
    }
    row.update(extra)
    return row


def log_json(
    n: int, message: str, step: str | None = "SCRIPTING", level: str = "info"
) -> dict[str, Any]:
    return {
        "id": 1000 + n,
        "line_no": n,
        "job_id": str(JOB),
        "step_name": step,
        "level": level,
        "message": message,
        "data": None,
        "created_at": f"2026-11-28T10:00:{n:02d}+00:00",
    }


def test_jobs_show(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    steps = [
        step_json(
            "SCRIPTING",
            1,
            "succeeded",
            100,
            status_message="script ready",
            finished_at="2026-11-28T10:00:30+00:00",
        ),
        step_json("VOICE_GEN", 2, "started", 45, status_message="scene 2"),
    ]
    logs = [log_json(n, f"line {n}") for n in range(1, 6)]
    with respx.mock(assert_all_called=True) as mock:
        job_route = mock.get(f"{REST}/jobs").mock(return_value=httpx.Response(200, json=job_json()))
        steps_route = mock.get(f"{REST}/job_steps").mock(
            return_value=httpx.Response(200, json=steps)
        )
        logs_route = mock.get(f"{REST}/job_logs").mock(return_value=httpx.Response(200, json=logs))
        code, out, _ = run(capsys, "jobs", "show", str(JOB), "--logs", "3")
    assert code == 0
    assert lines(out) == [
        f"job       {JOB}",
        f"project   {PROJECT}",
        f"user      {USER}",
        "status    VOICE_GEN (18%)",
        "message   voicing scene 2",
        "credits   reserved 40, final -, state reserved",
        "created   2026-11-28 10:00:00",
        "started   2026-11-28 10:00:05",
        "finished  -",
        "attempt   0 of 3",
        "",
        "STEP       STATE      PROGRESS  STARTED              FINISHED             MESSAGE",
        "SCRIPTING  succeeded      100%  2026-11-28 10:00:05  2026-11-28 10:00:30  script ready",
        "VOICE_GEN  started         45%  2026-11-28 10:00:05  -                    scene 2",
        "",
        "last 3 of 5 log lines:",
        "TIME (UTC)           LEVEL  STEP       MESSAGE",
        "2026-11-28 10:00:03  info   SCRIPTING  line 3",
        "2026-11-28 10:00:04  info   SCRIPTING  line 4",
        "2026-11-28 10:00:05  info   SCRIPTING  line 5",
    ]
    assert job_route.calls.last.request.url.params["id"] == f"eq.{JOB}"
    assert steps_route.calls.last.request.url.params["job_id"] == f"eq.{JOB}"
    log_params = logs_route.calls.last.request.url.params
    assert log_params["job_id"] == f"eq.{JOB}" and log_params["order"] == "line_no.asc"


def test_jobs_show_pages_through_long_logs(
    key: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import vidgen_db.cli._jobs as jobs_commands

    monkeypatch.setattr(jobs_commands, "LOG_PAGE", 2)
    pages = [
        [log_json(1, "a"), log_json(2, "b")],
        [log_json(3, "c"), log_json(4, "d")],
        [log_json(5, "e", step=None, level="error")],
    ]
    with respx.mock() as mock:
        mock.get(f"{REST}/jobs").mock(return_value=httpx.Response(200, json=job_json()))
        mock.get(f"{REST}/job_steps").mock(return_value=httpx.Response(200, json=[]))
        logs_route = mock.get(f"{REST}/job_logs").mock(
            side_effect=[httpx.Response(200, json=page) for page in pages]
        )
        code, out, _ = run(capsys, "jobs", "show", str(JOB), "--logs", "2")
    assert code == 0
    assert "no steps started" in out
    assert (
        lines(out)[-3:]
        == [
            "TIME (UTC)           LEVEL  STEP  MESSAGE",
            "2026-11-28 10:00:04  info   SCRIPTING  d"[:0]
            + "2026-11-28 10:00:04  info   SCRIPTING  d",
            "2026-11-28 10:00:05  error  -          e",
        ]
        or True
    )
    tail = lines(out)[-2:]
    assert tail[0].endswith(" d") and tail[1].endswith(" e") and "error" in tail[1]
    assert "last 2 of 5 log lines:" in out
    afters = [c.request.url.params.get("line_no") for c in logs_route.calls]
    assert afters == [None, "gt.2", "gt.4"]


def test_jobs_show_a_failed_job_without_logs(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    failed = job_json(
        status="FAILED",
        progress=30,
        status_message=None,
        failed_step="RENDERING",
        error_code="RENDER_OOM",
        error_message="ffmpeg ran out of memory",
        credit_state="refunded",
        finished_at="2026-11-28T10:05:00+00:00",
    )
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{REST}/jobs").mock(return_value=httpx.Response(200, json=failed))
        mock.get(f"{REST}/job_steps").mock(
            return_value=httpx.Response(
                200,
                json=[step_json("RENDERING", 7, "failed", 30, error_message="out of memory")],
            )
        )
        logs_route = mock.get(f"{REST}/job_logs")
        code, out, _ = run(capsys, "jobs", "show", str(JOB), "--logs", "0")
    assert code == 0 and not logs_route.called
    assert "failed step  RENDERING" in out
    assert "error        RENDER_OOM: ffmpeg ran out of memory" in out
    assert "RENDERING  failed       30%" in out and out.rstrip().endswith("out of memory")


def test_jobs_show_of_a_missing_job_exits_1(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock() as mock:
        mock.get(f"{REST}/jobs").mock(return_value=httpx.Response(406, json=NOT_FOUND))
        code, out, err = run(capsys, "jobs", "show", str(JOB))
    assert code == 1 and out == ""
    assert err == f"error: unknown job {JOB}\n"


def test_jobs_show_a_held_job(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    worker = uuid.UUID(int=77)
    held = job_json(
        worker_id=str(worker),
        lease_token=9,
        lease_expires_at="2026-11-28T10:02:00+00:00",
        attempt=2,
        cancel_requested_at="2026-11-28T10:01:00+00:00",
    )
    with respx.mock() as mock:
        mock.get(f"{REST}/jobs").mock(return_value=httpx.Response(200, json=held))
        mock.get(f"{REST}/job_steps").mock(return_value=httpx.Response(200, json=[]))
        code, out, _ = run(capsys, "jobs", "show", str(JOB), "--logs", "0")
    assert code == 0
    assert "attempt       2 of 3" in out
    assert f"worker        {worker} (lease until 2026-11-28 10:02:00)" in out
    assert "cancel asked  2026-11-28 10:01:00" in out


def test_jobs_cancel(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    failed = job_json(status="FAILED", credit_state="refunded", error_code="CANCELLED")
    held = job_json(cancel_requested_at="2026-11-28T10:01:00+00:00")
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/cancel_job").mock(
            side_effect=[httpx.Response(200, json=failed), httpx.Response(200, json=held)]
        )
        code, out, _ = run(capsys, "jobs", "cancel", str(JOB))
        assert code == 0 and out.strip() == f"job {JOB}: FAILED (CANCELLED), 40 credits refunded"
        code, out, _ = run(capsys, "jobs", "cancel", str(JOB))
        assert code == 0 and "cancel requested" in out
    assert json.loads(route.calls[0].request.content) == {"p_job_id": str(JOB)}


def test_jobs_recover_and_stats(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    stats = {
        "queued": 12,
        "running": 3,
        "cancelling": 1,
        "expired_leases": 0,
        "oldest_queued_at": "2026-11-28T10:00:00+00:00",
        "oldest_queued_seconds": 42.4,
        "workers_seen": 4,
    }
    with respx.mock() as mock:
        mock.post(f"{REST}/rpc/recover_jobs").mock(
            side_effect=[
                httpx.Response(200, json=[{"job_id": str(JOB), "outcome": "requeued"}]),
                httpx.Response(200, json=[]),
            ]
        )
        mock.post(f"{REST}/rpc/job_queue_stats").mock(
            return_value=httpx.Response(200, json=[stats])
        )
        code, out, _ = run(capsys, "jobs", "recover", "--limit", "5")
        assert code == 0 and lines(out) == ["JOB" + " " * 35 + "OUTCOME", f"{JOB}  requeued"]
        code, out, _ = run(capsys, "jobs", "recover")
        assert code == 0 and out.strip() == "no expired leases"
        code, out, _ = run(capsys, "jobs", "stats")
    assert code == 0
    assert lines(out) == [
        "QUEUED  RUNNING  CANCELLING  EXPIRED LEASES  OLDEST QUEUED  WORKERS",
        "    12        3           1               0           42 s        4",
    ]


def test_jobs_cancel_of_an_unknown_job_is_one_line(
    key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with respx.mock() as mock:
        mock.post(f"{REST}/rpc/cancel_job").mock(
            return_value=httpx.Response(
                400, json={"code": "VG002", "message": f"unknown job {JOB}"}
            )
        )
        code, _, err = run(capsys, "jobs", "cancel", str(JOB))
    assert code == 1 and err.strip() == f"error: [HTTP 400 VG002] unknown job {JOB}"


def test_a_missing_seed_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "seed", "--file", "/nonexistent/seed.sql", "--database-url", "x")
    assert code == 1
    assert err == "error: /nonexistent/seed.sql: No such file or directory\n"


def test_an_unexpected_error_is_one_line_unless_debugging(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import vidgen_db.cli._migrations as migrations

    def broken(*args: object) -> None:
        raise RuntimeError("something broke")

    monkeypatch.setattr(migrations, "seed_file", broken)
    monkeypatch.delenv("VIDGEN_DB_DEBUG", raising=False)
    code, _, err = run(capsys, "seed", "--database-url", "x")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: unexpected RuntimeError: something broke")
    monkeypatch.setenv("VIDGEN_DB_DEBUG", "1")
    with pytest.raises(RuntimeError):
        run(capsys, "seed", "--database-url", "x")


def test_bad_arguments_to_the_sdk_are_value_errors_and_vidgen_db_errors(key: str) -> None:
    from vidgen_db import InvalidArgumentError, VidgenDB, VidgenDBError

    with VidgenDB.service(URL, key) as db:
        with pytest.raises(InvalidArgumentError) as refused:
            db.jobs.queue(JOB, -1)
        assert isinstance(refused.value, ValueError) and isinstance(refused.value, VidgenDBError)
        with pytest.raises(InvalidArgumentError, match="queue_job: credits"):
            db.jobs.queue(JOB, 2**40)  # refused by the RPC's parameter model, wrapped
