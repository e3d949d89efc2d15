"""The job lifecycle and the dashboard on a real PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from conftest import MakeDatabase
from dbhelpers import Db, call_as_service, run_concurrently
from pgrest import request, user

STAGES = [
    "SCRIPTING",
    "VOICE_GEN",
    "ALIGNMENT",
    "VISUAL_PLAN",
    "IMAGE_GEN",
    "TIMELINE",
    "RENDERING",
    "PACKAGING",
]


@pytest.fixture(scope="module")
def db(make_database: MakeDatabase, migrated_template: str) -> Iterator[Db]:
    database = Db(make_database(template=migrated_template))
    yield database
    database.close()


def _sqlstate(db: Db, sql: str, params: object) -> str | None:
    try:
        db.service(sql, params)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def _queued_job(db: Db, credits: int = 30, cost: int = 10) -> tuple[uuid.UUID, uuid.UUID]:
    user_id = db.new_user(credits)
    job = db.new_job(user_id)
    db.service("SELECT (public.queue_job(%s, %s)).id", (job, cost))
    return user_id, job


def test_the_whole_pipeline_to_ready(db: Db) -> None:
    user_id, job = _queued_job(db, credits=30, cost=10)
    queued = db.job(job)
    assert queued["status"] == "QUEUED" and queued["credit_state"] == "reserved"
    assert queued["started_at"] is None
    assert db.balance(user_id) == 20
    progress_seen = []
    for stage in STAGES:
        db.service("SELECT public.start_job_step(%s, %s, 'working')", (job, stage))
        assert db.job(job)["status"] == stage
        db.service("SELECT public.update_job_step(%s, %s, 50)", (job, stage))
        progress_seen.append(db.job(job)["progress"])
        db.service(
            "SELECT public.append_job_log(%s, %s, 'info', %s)", (job, f"{stage} half", stage)
        )
        db.service("SELECT public.complete_job_step(%s, %s, '{\"ok\": true}')", (job, stage))
    assert progress_seen == sorted(progress_seen) and progress_seen[0] < progress_seen[-1] < 100
    assert db.job(job)["started_at"] is not None
    db.service("SELECT public.finish_job(%s, 'https://cdn.example.com/out.mp4', 8)", (job,))
    done = db.job(job)
    assert done["status"] == "READY" and done["progress"] == 100
    assert done["credit_state"] == "settled" and done["cost_credits_final"] == 8
    assert done["output_url"] == "https://cdn.example.com/out.mp4"
    assert done["finished_at"] is not None and done["finished_at"] >= done["started_at"]
    assert db.balance(user_id) == 22
    steps = db.conn.execute(
        "SELECT step_name, step_order, state, progress_pct, finished_at IS NOT NULL "
        "FROM public.job_steps WHERE job_id = %s ORDER BY step_order",
        (job,),
    ).fetchall()
    assert steps == [(s, i + 1, "succeeded", 100, True) for i, s in enumerate(STAGES)]
    assert db.one("SELECT count(*) FROM public.job_logs WHERE job_id = %s", (job,)) == 8
    # Completing a step again (a retried request) changes nothing.
    assert (
        db.service("SELECT (public.complete_job_step(%s, 'SCRIPTING')).state", (job,))
        == "succeeded"
    )
    # Finishing again changes nothing.
    db.service("SELECT public.finish_job(%s, 'https://elsewhere', 1)", (job,))
    assert db.job(job)["output_url"] == "https://cdn.example.com/out.mp4"
    assert db.balance(user_id) == 22


def test_a_job_whose_reservation_fails_is_not_queued(db: Db) -> None:
    user_id = db.new_user(5)
    job = db.new_job(user_id)
    with pytest.raises(psycopg.Error) as info:
        db.service("SELECT public.queue_job(%s, 10)", (job,))
    assert info.value.sqlstate == "VG101"
    assert "insufficient credits" in str(info.value)
    assert db.job(job)["status"] == "PENDING"
    assert db.job(job)["credit_state"] == "none"
    assert db.balance(user_id) == 5


def test_queueing_twice_is_harmless(db: Db) -> None:
    user_id, job = _queued_job(db, credits=30, cost=10)
    db.service("SELECT public.queue_job(%s, 10)", (job,))
    assert db.balance(user_id) == 20
    assert _sqlstate(db, "SELECT public.queue_job(%s, 11)", (job,)) == "VG201"


def test_failing_a_job_refunds_it_exactly_once(db: Db) -> None:
    user_id, job = _queued_job(db, credits=30, cost=10)
    db.service("SELECT public.start_job_step(%s, 'SCRIPTING')", (job,))
    db.service("SELECT public.complete_job_step(%s, 'SCRIPTING')", (job,))
    db.service("SELECT public.start_job_step(%s, 'VOICE_GEN')", (job,))
    results = run_concurrently(
        db.url,
        [
            (
                lambda conn: call_as_service(
                    conn,
                    "SELECT (public.fail_job(%s, 'TTS_TIMEOUT', 'voice provider timed out')).status",
                    (job,),
                )
            )
            for _ in range(8)
        ],
    )
    assert results == ["FAILED"] * 8
    failed = db.job(job)
    assert failed["failed_step"] == "VOICE_GEN"
    assert failed["error_code"] == "TTS_TIMEOUT"
    assert failed["error_message"] == "voice provider timed out"
    assert failed["credit_state"] == "refunded" and failed["finished_at"] is not None
    assert db.balance(user_id) == 30
    assert (
        db.one(
            "SELECT state FROM public.job_steps WHERE job_id = %s AND step_name = 'VOICE_GEN'",
            (job,),
        )
        == "failed"
    )
    assert (
        db.one(
            "SELECT count(*) FROM public.credit_ledger WHERE job_id = %s AND type = 'refund'",
            (job,),
        )
        == 1
    )


def test_a_pending_job_can_fail_without_credits(db: Db) -> None:
    user_id = db.new_user(10)
    job = db.new_job(user_id)
    db.service("SELECT public.fail_job(%s, 'INVALID_PROMPT', 'prompt rejected')", (job,))
    assert db.job(job)["status"] == "FAILED"
    assert db.job(job)["failed_step"] is None
    assert db.balance(user_id) == 10


def test_finish_and_fail_racing_leave_one_consistent_outcome(db: Db) -> None:
    user_id, job = _queued_job(db, credits=30, cost=10)
    db.service("SELECT public.start_job_step(%s, 'PACKAGING')", (job,))
    calls = []
    for i in range(16):
        sql = (
            "SELECT (public.finish_job(%s, 'https://out', 10)).status"
            if i % 2
            else "SELECT (public.fail_job(%s, 'E', 'boom')).status"
        )
        calls.append(lambda conn, sql=sql: call_as_service(conn, sql, (job,)))
    results = run_concurrently(db.url, calls)
    final = db.job(job)
    assert final["status"] in {"READY", "FAILED"}
    assert db.balance(user_id) == (20 if final["status"] == "READY" else 30)
    assert db.balance(user_id) == db.ledger_sum(user_id)
    errors = [r for r in results if isinstance(r, psycopg.Error)]
    assert all(e.sqlstate == "VG201" for e in errors)


@pytest.mark.parametrize(
    ("setup", "sql", "sqlstate"),
    [
        # backward, and out of final states
        ("RENDERING", "SELECT public.advance_job(%s, 'SCRIPTING')", "VG201"),
        ("RENDERING", "SELECT public.start_job_step(%s, 'VOICE_GEN')", "VG201"),
        ("READY", "SELECT public.advance_job(%s, 'PACKAGING')", "VG201"),
        ("READY", "SELECT public.fail_job(%s, 'E', 'too late')", "VG201"),
        ("FAILED", "SELECT public.start_job_step(%s, 'SCRIPTING')", "VG201"),
        ("FAILED", "SELECT public.finish_job(%s, 'https://out')", "VG201"),
        # the final states and QUEUED only through their functions
        ("SCRIPTING", "SELECT public.advance_job(%s, 'READY')", "VG201"),
        ("SCRIPTING", "SELECT public.advance_job(%s, 'FAILED')", "VG201"),
        ("PENDING", "SELECT public.start_job_step(%s, 'SCRIPTING')", "VG201"),
        ("QUEUED", "SELECT public.finish_job(%s, 'https://out')", "VG201"),
        # direct writes by the service role go through the same rules
        ("SCRIPTING", "UPDATE public.jobs SET status = 'READY' WHERE id = %s", "VG201"),
        ("SCRIPTING", "UPDATE public.jobs SET status = 'FAILED' WHERE id = %s", "VG201"),
        ("PENDING", "UPDATE public.jobs SET status = 'QUEUED' WHERE id = %s", "VG201"),
        ("RENDERING", "UPDATE public.jobs SET status = 'QUEUED' WHERE id = %s", "VG201"),
        ("SCRIPTING", "UPDATE public.jobs SET credit_state = 'settled' WHERE id = %s", "42501"),
        ("SCRIPTING", "UPDATE public.jobs SET cost_credits_reserved = 0 WHERE id = %s", "42501"),
        # steps
        ("SCRIPTING", "SELECT public.start_job_step(%s, 'MIXING')", "VG202"),
        ("SCRIPTING", "SELECT public.update_job_step(%s, 'VOICE_GEN', 10)", "VG203"),
        ("SCRIPTING", "SELECT public.update_job_step(%s, 'SCRIPTING', 101)", "22023"),
        ("SCRIPTING", "SELECT public.advance_job(%s, 'VOICE_GEN', 150)", "22023"),
        ("SCRIPTING", "SELECT public.finish_job(%s, '')", "22004"),
    ],
)
def test_illegal_moves_are_rejected_and_change_nothing(
    db: Db, setup: str, sql: str, sqlstate: str
) -> None:
    user_id = db.new_user(30)
    job = db.new_job(user_id)
    if setup != "PENDING":
        db.service("SELECT public.queue_job(%s, 10)", (job,))
    if setup in STAGES:
        db.service("SELECT public.start_job_step(%s, %s)", (job, setup))
    elif setup == "READY":
        db.service("SELECT public.start_job_step(%s, 'SCRIPTING')", (job,))
        db.service("SELECT public.finish_job(%s, 'https://out')", (job,))
    elif setup == "FAILED":
        db.service("SELECT public.fail_job(%s, 'E', 'x')", (job,))
    before = db.job(job)
    balance = db.balance(user_id)
    assert _sqlstate(db, sql, (job,)) == sqlstate
    assert db.job(job) == before
    assert db.balance(user_id) == balance


def test_advance_skips_forward_and_sets_started_at(db: Db) -> None:
    _, job = _queued_job(db)
    db.service("SELECT public.advance_job(%s, 'IMAGE_GEN', 40, 'drawing')", (job,))
    row = db.job(job)
    assert row["status"] == "IMAGE_GEN" and row["progress"] == 40
    assert row["status_message"] == "drawing" and row["started_at"] is not None


def test_append_job_log_checks_the_job(db: Db) -> None:
    _, job = _queued_job(db)
    line = db.service(
        "SELECT public.append_job_log(%s, 'hello', 'warning', 'SCRIPTING', '{\"k\": 1}')", (job,)
    )
    assert line == 1  # the line's number in its job
    row = db.conn.execute(
        "SELECT level, message, step_name, data FROM public.job_logs "
        "WHERE job_id = %s AND line_no = %s",
        (job, line),
    ).fetchone()
    assert row == ("warning", "hello", "SCRIPTING", {"k": 1})
    assert _sqlstate(db, "SELECT public.append_job_log(%s, 'x')", (uuid.uuid4(),)) == "VG002"
    assert _sqlstate(db, "SELECT public.append_job_log(%s, 'x', 'loud')", (job,)) == "23514"


# -- the dashboard -----------------------------------------------------------------------------


def _dashboard(
    db: Db, user_id: uuid.UUID, sql: str, params: tuple[object, ...] = ()
) -> list[tuple]:
    with request(db.conn, user(user_id)) as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def test_dashboard_pages_through_the_users_projects_with_latest_jobs(db: Db) -> None:
    owner = db.new_user(100)
    other = db.new_user(100)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    projects = []
    for i in range(25):
        pid = uuid.uuid4()
        projects.append(pid)
        db.conn.execute(
            "INSERT INTO public.projects (id, user_id, title, prompt_text, niche_preset, created_at) "
            "VALUES (%s, %s, %s, 'p', 'facts', %s)",
            (pid, owner, f"project {i}", base + timedelta(minutes=i // 2)),  # ties on created_at
        )
    latest = {}
    for i, pid in enumerate(projects[:10]):
        for k in range(2):
            jid = uuid.uuid4()
            db.conn.execute(
                "INSERT INTO public.jobs (id, project_id, user_id, created_at) VALUES (%s, %s, %s, %s)",
                (jid, pid, owner, base + timedelta(hours=1 + i, minutes=k)),
            )
            latest[pid] = jid
    db.new_job(other)

    sql = "SELECT id, latest_job_id, created_at FROM public.get_dashboard(%s, %s, %s)"
    page1 = _dashboard(db, owner, sql, (20, None, None))
    assert len(page1) == 20
    last = page1[-1]
    page2 = _dashboard(db, owner, sql, (20, last[2], last[0]))
    rows = page1 + page2
    assert len(rows) == 25 and len({r[0] for r in rows}) == 25
    keys = [(r[2], r[0]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    assert set(r[0] for r in rows) == set(projects)
    for pid, job_id, _ in rows:
        assert job_id == latest.get(pid)
    # The other user sees only their own project.
    assert len(_dashboard(db, other, sql, (20, None, None))) == 1


@pytest.mark.parametrize(
    "params", [(0, None, None), (101, None, None), (20, datetime(2026, 1, 1, tzinfo=UTC), None)]
)
def test_dashboard_rejects_bad_paging(db: Db, params: tuple[object, ...]) -> None:
    owner = db.new_user()
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        _dashboard(db, owner, "SELECT * FROM public.get_dashboard(%s, %s, %s)", params)


def test_dashboard_uses_the_keyset_index(db: Db) -> None:
    owner = db.new_user()
    with request(db.conn, user(owner)) as cur:
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        cur.execute("LOAD 'auto_explain'" if False else "SELECT 1")
        cur.execute(
            "EXPLAIN SELECT p.id FROM public.projects p WHERE p.user_id = %s "
            "ORDER BY p.created_at DESC, p.id DESC LIMIT 20",
            (owner,),
        )
        plan = json.dumps([r[0] for r in cur.fetchall()])
    assert "idx_projects_user_created" in plan
    assert "Sort" not in plan
