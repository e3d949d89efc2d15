"""The worker fleet in SQL: claim, leases and fencing, heartbeats, recovery, release,
cancellation, and projects that cannot be deleted from under a running job.

Run as PostgREST runs requests (the service role, users, the anonymous role), on a real
PostgreSQL; concurrency with real concurrent connections. "Moving the clock" is done by
moving a lease's expiry into the past, as time passing would."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import MakeDatabase
from dbhelpers import Db, call_as_service, run_concurrently
from pgrest import anon, request, user

STAGES = ["SCRIPTING", "VOICE_GEN", "ALIGNMENT", "VISUAL_PLAN", "IMAGE_GEN", "TIMELINE",
          "RENDERING", "PACKAGING"]  # fmt: skip


@pytest.fixture
def db(make_database: MakeDatabase, migrated_template: str) -> Iterator[Db]:
    database = Db(make_database(template=migrated_template))
    yield database
    database.close()


def sqlstate(db: Db, sql: str, params: Any = None) -> str | None:
    try:
        db.service(sql, params)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def worker(db: Db, name: str = "w") -> uuid.UUID:
    worker_id = uuid.uuid4()
    db.service("SELECT (public.register_worker(%s, %s)).id", (worker_id, name))
    return worker_id


def queued_job(db: Db, user_id: uuid.UUID | None = None, cost: int = 5) -> uuid.UUID:
    user_id = user_id or db.new_user(100)
    job = db.new_job(user_id)
    db.service("SELECT (public.queue_job(%s, %s)).id", (job, cost))
    return job


def claim(db: Db, worker_id: uuid.UUID, limit: int = 1, **options: Any) -> list[dict[str, Any]]:
    """The jobs claimed, as rows."""
    args = ", ".join(f"{k} => %({k})s" for k in options)
    sql = (
        "SELECT coalesce(json_agg(c), '[]') FROM public.claim_jobs(%(w)s, %(n)s"
        + (", " + args if args else "")
        + ") AS c"
    )
    return list(db.service(sql, {"w": worker_id, "n": limit, **options}))


def expire(db: Db, job: uuid.UUID) -> None:
    """Time passes: the job's lease is over (as a superuser, like the clock would)."""
    db.conn.execute(
        "UPDATE public.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = %s",
        (job,),
    )


def assert_ledger_consistent(db: Db) -> None:
    rows = db.conn.execute(
        "SELECT b.user_id, b.balance, coalesce(sum(l.amount), 0) FROM public.credit_balances b "
        "LEFT JOIN public.credit_ledger l USING (user_id) GROUP BY 1, 2"
    ).fetchall()
    assert rows and all(balance == total for _, balance, total in rows), rows


def refunds_of(db: Db, job: uuid.UUID) -> int:
    return int(
        db.one(
            "SELECT count(*) FROM public.credit_ledger WHERE job_id = %s AND type = 'refund'",
            (job,),
        )
    )


# -- claiming ---------------------------------------------------------------------------------


def test_a_claim_takes_the_oldest_queued_job_with_a_lease(db: Db) -> None:
    w = worker(db)
    first, second = queued_job(db), queued_job(db)
    [job] = claim(db, w, p_lease_seconds=60)
    assert job["id"] == str(first) and job["status"] == "QUEUED"
    assert job["worker_id"] == str(w) and job["attempt"] == 1 and job["lease_seconds"] == 60
    assert job["lease_token"] is not None and job["lease_expires_at"] is not None
    [again] = claim(db, w)
    assert again["id"] == str(second) and again["lease_token"] != job["lease_token"]
    assert claim(db, w) == []


def test_lease_tokens_say_nothing_of_other_claims(db: Db) -> None:
    """A user may read their own jobs' tokens: they are random (within 2^53, exact in
    JavaScript), not a count of every claim on the platform."""
    w = worker(db)
    tokens = []
    for _ in range(20):
        queued_job(db)
        [job] = claim(db, w)
        tokens.append(job["lease_token"])
    assert all(isinstance(t, int) and 1 <= t < 2**53 for t in tokens)
    assert len(set(tokens)) == len(tokens)
    steps = [b - a for a, b in itertools.pairwise(tokens)]
    assert not all(step == 1 for step in steps) and min(steps) < 0 < max(steps)
    sequences = db.one(
        "SELECT count(*) FROM pg_catalog.pg_sequences WHERE schemaname = 'vidgen_private'"
    )
    assert sequences == 0


def test_a_batch_claim_takes_up_to_the_limit(db: Db) -> None:
    w = worker(db)
    jobs = [queued_job(db) for _ in range(5)]
    claimed = claim(db, w, limit=3)
    assert [c["id"] for c in claimed] == [str(j) for j in jobs[:3]]
    assert len({c["lease_token"] for c in claimed}) == 3


def test_a_retried_claim_returns_the_jobs_it_took(db: Db) -> None:
    w, request_id = worker(db), uuid.uuid4()
    queued_job(db), queued_job(db)
    first = claim(db, w, limit=2, p_claim_id=request_id)
    assert claim(db, w, limit=2, p_claim_id=request_id) == first  # the response was lost
    assert db.one("SELECT count(*) FROM public.jobs WHERE worker_id IS NOT NULL") == 2


def test_bad_claims_are_refused_and_change_nothing(db: Db) -> None:
    job = queued_job(db)
    assert sqlstate(db, "SELECT public.claim_jobs(%s)", (uuid.uuid4(),)) == "VG301"
    assert sqlstate(db, "SELECT public.claim_jobs(NULL)") == "VG301"
    w = worker(db)
    assert sqlstate(db, "SELECT public.claim_jobs(%s, 0)", (w,)) == "22023"
    assert sqlstate(db, "SELECT public.claim_jobs(%s, 1, 0)", (w,)) == "22023"
    assert db.job(job)["worker_id"] is None


def test_concurrent_claimers_never_get_the_same_job(db: Db) -> None:
    workers = [worker(db, f"w{i}") for i in range(8)]
    users = [db.new_user(100) for _ in range(10)]
    jobs = {queued_job(db, users[i % 10]) for i in range(40)}

    def claimer(w: uuid.UUID) -> Any:
        def call(conn: psycopg.Connection[Any]) -> list[str]:
            got: list[str] = []
            while True:
                rows = call_as_service(
                    conn, "SELECT array_agg(id) FROM public.claim_jobs(%s, 2, 60, NULL, 100)", (w,)
                )
                if not rows:
                    return got
                got += [str(r) for r in rows]

        return call

    results = run_concurrently(db.url, [claimer(w) for w in workers])
    taken = [job for result in results for job in result]
    assert len(taken) == len(set(taken)) == len(jobs)
    assert set(taken) == {str(j) for j in jobs}


def test_a_claim_never_waits_for_a_job_another_transaction_locked(db: Db) -> None:
    w = worker(db)
    first, second = queued_job(db), queued_job(db)
    with psycopg.connect(db.url) as other, other.transaction():
        other.execute("SELECT 1 FROM public.jobs WHERE id = %s FOR UPDATE", (first,))
        db.conn.execute("SET statement_timeout = '2s'")
        try:
            [job] = claim(db, w)
        finally:
            db.conn.execute("RESET statement_timeout")
    assert job["id"] == str(second)


def test_one_users_backlog_cannot_starve_the_others(db: Db) -> None:
    w = worker(db)
    flood_user, other_user = db.new_user(1000), db.new_user(100)
    flood = [queued_job(db, flood_user) for _ in range(20)]
    late = queued_job(db, other_user)
    claimed = [c["id"] for c in claim(db, w, limit=5, p_max_running_per_user=2)]
    assert claimed == [str(flood[0]), str(flood[1]), str(late)]
    # The default cap is 2; a setting changes it.
    db.conn.execute("SET vidgen.max_running_jobs_per_user = 3")
    try:
        assert [c["id"] for c in claim(db, w, limit=5)] == [str(flood[2])]
    finally:
        db.conn.execute("RESET vidgen.max_running_jobs_per_user")


def test_the_per_user_cap_holds_under_concurrent_claims(db: Db) -> None:
    workers = [worker(db, f"w{i}") for i in range(8)]
    users = [db.new_user(1000) for _ in range(3)]
    for i in range(30):
        queued_job(db, users[i % 3])

    def claimer(w: uuid.UUID) -> Any:
        return lambda conn: call_as_service(
            conn, "SELECT count(*) FROM public.claim_jobs(%s, 3, 60, NULL, 2)", (w,)
        )

    run_concurrently(db.url, [claimer(w) for w in workers])
    held = db.conn.execute(
        "SELECT user_id, count(*) FROM public.jobs WHERE worker_id IS NOT NULL GROUP BY 1"
    ).fetchall()
    assert held and all(count <= 2 for _, count in held), held


def test_the_claim_path_uses_the_queue_index(db: Db) -> None:
    plan = "\n".join(
        r[0]
        for r in db.conn.execute(
            "EXPLAIN SELECT id FROM public.jobs WHERE status = 'QUEUED' AND worker_id IS NULL "
            "ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        ).fetchall()
    )
    assert "idx_jobs_queue" in plan


# -- leases and fencing ------------------------------------------------------------------------


def test_every_worker_call_renews_the_lease(db: Db) -> None:
    w, job = worker(db), queued_job(db)
    [held] = claim(db, w, p_lease_seconds=30)
    token = held["lease_token"]
    expire(db, job)
    db.service("SELECT public.start_job_step(%s, 'SCRIPTING', NULL, %s)", (job, token))
    assert db.one(
        "SELECT lease_expires_at > now() + interval '25 s' FROM public.jobs WHERE id = %s", (job,)
    )
    for call in (
        "SELECT public.update_job_step(%s, 'SCRIPTING', 50, NULL, %s)",
        "SELECT public.append_job_log(%s, 'line', 'info', NULL, NULL, %s)",
        "SELECT public.add_job_asset(%s, 'image', 'https://x', 'x.png', p_lease => %s)",
        "SELECT public.heartbeat_job(%s, %s)",
        "SELECT public.complete_job_step(%s, 'SCRIPTING', NULL, NULL, %s)",
    ):
        expire(db, job)
        db.service(call, (job, token))
        renewed = db.one(
            "SELECT lease_expires_at > now() + interval '25 s' FROM public.jobs WHERE id = %s",
            (job,),
        )
        assert renewed, call


def test_a_stale_token_is_refused_and_changes_nothing(db: Db) -> None:
    w1, w2, job = worker(db, "one"), worker(db, "two"), queued_job(db)
    [first] = claim(db, w1, p_lease_seconds=30)
    db.service(
        "SELECT public.start_job_step(%s, 'SCRIPTING', NULL, %s)", (job, first["lease_token"])
    )
    expire(db, job)
    db.service("SELECT public.recover_jobs()")
    [second] = claim(db, w2)
    assert second["id"] == str(job) and second["attempt"] == 2
    before, balance = db.job(job), db.balance(db.job(job)["user_id"])
    stale = first["lease_token"]
    for call in (
        ("SELECT public.start_job_step(%s, 'VOICE_GEN', NULL, %s)", (job, stale)),
        ("SELECT public.update_job_step(%s, 'SCRIPTING', 90, NULL, %s)", (job, stale)),
        ("SELECT public.complete_job_step(%s, 'SCRIPTING', NULL, NULL, %s)", (job, stale)),
        ("SELECT public.append_job_log(%s, 'late', 'info', NULL, NULL, %s)", (job, stale)),
        ("SELECT public.add_job_asset(%s, 'image', 'https://x', 'x', p_lease => %s)", (job, stale)),
        ("SELECT public.heartbeat_job(%s, %s)", (job, stale)),
        ("SELECT public.finish_job(%s, 'https://out', NULL, NULL, %s)", (job, stale)),
        # A second worker on the same job can no longer fail a healthy job.
        ("SELECT public.fail_job(%s, 'E', 'stale worker', NULL, %s)", (job, stale)),
        ("SELECT public.release_job(%s, %s)", (job, stale)),
    ):
        assert sqlstate(db, *call) == "VG302", call[0]
    assert db.job(job) == before
    assert db.balance(before["user_id"]) == balance
    assert db.one("SELECT count(*) FROM public.job_logs WHERE job_id = %s", (job,)) == 0


def test_a_held_job_needs_its_token_but_an_operator_can_fail_it(db: Db) -> None:
    w, job = worker(db), queued_job(db)
    claim(db, w)
    assert sqlstate(db, "SELECT public.start_job_step(%s, 'SCRIPTING')", (job,)) == "VG302"
    assert sqlstate(db, "SELECT public.append_job_log(%s, 'x')", (job,)) == "VG302"
    failed = db.service(
        "SELECT row_to_json(public.fail_job(%s, 'OPS', 'stopped by an operator'))", (job,)
    )
    assert failed["status"] == "FAILED" and failed["worker_id"] is None
    assert failed["credit_state"] == "refunded" and refunds_of(db, job) == 1


def test_jobs_nobody_claimed_still_run_without_a_lease(db: Db) -> None:
    job = queued_job(db)
    for stage in STAGES:
        db.service("SELECT public.start_job_step(%s, %s)", (job, stage))
        db.service("SELECT public.complete_job_step(%s, %s)", (job, stage))
    assert db.service("SELECT (public.finish_job(%s, 'https://out')).status", (job,)) == "READY"


def test_a_held_job_cannot_go_back_to_the_queue_by_an_update(db: Db) -> None:
    w, job = worker(db), queued_job(db)
    [held] = claim(db, w)
    db.service(
        "SELECT public.start_job_step(%s, 'SCRIPTING', NULL, %s)", (job, held["lease_token"])
    )
    assert sqlstate(db, "UPDATE public.jobs SET status = 'QUEUED' WHERE id = %s", (job,)) == "VG201"
    for column in (
        "worker_id",
        "lease_token",
        "lease_expires_at",
        "attempt",
        "cancel_requested_at",
    ):
        assert (
            sqlstate(db, f"UPDATE public.jobs SET {column} = NULL WHERE id = %s", (job,)) == "42501"
        )
    assert sqlstate(db, "UPDATE public.workers SET name = 'x'") == "42501"


# -- recovery -----------------------------------------------------------------------------------


def test_recovery_requeues_a_dead_workers_job_keeping_its_steps_and_credits(db: Db) -> None:
    w, job = worker(db), queued_job(db, cost=7)
    [held] = claim(db, w)
    token = held["lease_token"]
    for stage in STAGES[:2]:
        db.service("SELECT public.start_job_step(%s, %s, NULL, %s)", (job, stage, token))
        db.service("SELECT public.complete_job_step(%s, %s, NULL, NULL, %s)", (job, stage, token))
    db.service("SELECT public.start_job_step(%s, 'ALIGNMENT', NULL, %s)", (job, token))
    user_id = db.job(job)["user_id"]
    balance = db.balance(user_id)
    assert db.service("SELECT count(*) FROM public.recover_jobs()") == 0  # not expired yet
    expire(db, job)
    outcome = db.service("SELECT json_agg(r) FROM public.recover_jobs() AS r")
    assert outcome == [{"job_id": str(job), "outcome": "requeued"}]
    row = db.job(job)
    assert row["status"] == "QUEUED" and row["worker_id"] is None and row["lease_token"] is None
    assert row["credit_state"] == "reserved" and row["cost_credits_reserved"] == 7
    assert db.balance(user_id) == balance
    states = dict(
        db.conn.execute(
            "SELECT step_name, state::text FROM public.job_steps WHERE job_id = %s", (job,)
        ).fetchall()
    )
    assert states == {"SCRIPTING": "succeeded", "VOICE_GEN": "succeeded", "ALIGNMENT": "started"}
    # The next worker resumes from the first unfinished step.
    [again] = claim(db, worker(db, "next"))
    assert again["id"] == str(job) and again["attempt"] == 2
    token2 = again["lease_token"]
    for stage in STAGES[2:]:
        db.service("SELECT public.start_job_step(%s, %s, NULL, %s)", (job, stage, token2))
        db.service("SELECT public.complete_job_step(%s, %s, NULL, NULL, %s)", (job, stage, token2))
    done = db.service(
        "SELECT row_to_json(public.finish_job(%s, 'https://out', NULL, NULL, %s))", (job, token2)
    )
    assert (
        done["status"] == "READY"
        and done["credit_state"] == "settled"
        and done["worker_id"] is None
    )
    assert_ledger_consistent(db)


def test_a_job_out_of_attempts_fails_and_is_refunded_once(db: Db) -> None:
    job = queued_job(db, cost=9)
    user_id = db.job(job)["user_id"]
    balance = db.balance(user_id)
    for attempt in (1, 2, 3):
        [held] = claim(db, worker(db, f"w{attempt}"))
        assert held["attempt"] == attempt
        db.service(
            "SELECT public.start_job_step(%s, 'SCRIPTING', NULL, %s)", (job, held["lease_token"])
        )
        expire(db, job)
        db.service("SELECT public.recover_jobs()")
    row = db.job(job)
    assert row["status"] == "FAILED" and row["error_code"] == "LEASE_EXPIRED"
    assert row["credit_state"] == "refunded" and row["failed_step"] == "SCRIPTING"
    assert db.balance(user_id) == balance + 9 and refunds_of(db, job) == 1
    assert db.service("SELECT count(*) FROM public.recover_jobs()") == 0
    assert_ledger_consistent(db)


def test_recovery_run_twice_at_once_recovers_each_job_once(db: Db) -> None:
    jobs = [queued_job(db) for _ in range(30)]
    w = worker(db)
    claim(db, w, limit=30, p_max_running_per_user=100)
    for job in jobs:
        expire(db, job)
    recover = lambda conn: call_as_service(  # noqa: E731
        conn, "SELECT coalesce(json_agg(r), '[]') FROM public.recover_jobs() AS r"
    )
    results = run_concurrently(db.url, [recover, recover, recover])
    recovered = [r["job_id"] for result in results for r in result]
    assert sorted(recovered) == sorted(str(j) for j in jobs)
    assert (
        db.one("SELECT count(*) FROM public.jobs WHERE status = 'QUEUED' AND worker_id IS NULL")
        == 30
    )


def test_claiming_recovers_expired_leases_without_a_scheduler(db: Db) -> None:
    job = queued_job(db)
    claim(db, worker(db, "dead"))
    expire(db, job)
    [again] = claim(db, worker(db, "alive"))
    assert again["id"] == str(job) and again["attempt"] == 2


# -- release --------------------------------------------------------------------------------------


def test_release_gives_the_job_back_without_charging_an_attempt(db: Db) -> None:
    w, job = worker(db), queued_job(db)
    [held] = claim(db, w)
    db.service(
        "SELECT public.start_job_step(%s, 'SCRIPTING', NULL, %s)", (job, held["lease_token"])
    )
    row = db.service("SELECT row_to_json(public.release_job(%s, %s))", (job, held["lease_token"]))
    assert row["status"] == "QUEUED" and row["worker_id"] is None and row["attempt"] == 0
    assert row["credit_state"] == "reserved"
    [again] = claim(db, w)
    assert again["attempt"] == 1


# -- cancellation -----------------------------------------------------------------------------------


def cancel_as(db: Db, actor: Any, job: uuid.UUID) -> Any:
    with request(db.conn, actor, commit=True) as cur:
        cur.execute("SELECT row_to_json(public.cancel_job(%s))", (job,))
        row = cur.fetchone()
        return row[0] if row else None


def test_an_owner_cancels_a_queued_job_and_is_refunded_at_once(db: Db) -> None:
    owner = db.new_user(50)
    job = queued_job(db, owner, cost=20)
    assert db.balance(owner) == 30
    row = cancel_as(db, user(owner), job)
    assert row["status"] == "FAILED" and row["error_code"] == "CANCELLED"
    assert row["credit_state"] == "refunded" and db.balance(owner) == 50
    assert cancel_as(db, user(owner), job)["status"] == "FAILED"  # again: unchanged
    assert refunds_of(db, job) == 1
    pending = db.new_job(owner)
    assert cancel_as(db, user(owner), pending)["error_code"] == "CANCELLED"


@pytest.mark.parametrize("attacker", ["other", "anon"])
def test_nobody_else_can_cancel_a_users_job(db: Db, attacker: str) -> None:
    owner = db.new_user(50)
    job = queued_job(db, owner)
    actor = anon() if attacker == "anon" else user(db.new_user(10), "other")
    with pytest.raises(psycopg.Error) as refused:
        cancel_as(db, actor, job)
    assert refused.value.sqlstate == ("42501" if attacker == "anon" else "VG002")
    assert db.job(job)["status"] == "QUEUED" and db.job(job)["cancel_requested_at"] is None


@pytest.mark.parametrize(
    "function",
    [
        "claim_jobs",
        "recover_jobs",
        "register_worker",
        "release_job",
        "heartbeat_job",
        "job_queue_stats",
    ],
)
def test_users_cannot_claim_recover_or_drive_workers(db: Db, function: str) -> None:
    owner = db.new_user(50)
    args = {
        "claim_jobs": "(%s)",
        "recover_jobs": "()",
        "register_worker": "(%s, 'me')",
        "release_job": "(%s, 1)",
        "heartbeat_job": "(%s, 1)",
        "job_queue_stats": "()",
    }[function]
    params = (uuid.uuid4(),) if "%s" in args else None
    for actor in (user(owner), anon()):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), request(db.conn, actor) as cur:
            cur.execute(f"SELECT public.{function}{args}", params)


def test_a_running_job_is_cancelled_at_its_workers_next_call(db: Db) -> None:
    owner = db.new_user(50)
    w, job = worker(db), queued_job(db, owner, cost=15)
    [held] = claim(db, w)
    token = held["lease_token"]
    db.service("SELECT public.start_job_step(%s, 'SCRIPTING', NULL, %s)", (job, token))
    row = cancel_as(db, user(owner), job)
    assert row["status"] == "SCRIPTING" and row["cancel_requested_at"] is not None
    assert db.balance(owner) == 35  # not yet: the worker may be writing
    assert sqlstate(db, "SELECT public.heartbeat_job(%s, %s)", (job, token)) == "VG303"
    assert (
        sqlstate(db, "SELECT public.update_job_step(%s, 'SCRIPTING', 50, NULL, %s)", (job, token))
        == "VG303"
    )
    assert (
        sqlstate(db, "SELECT public.finish_job(%s, 'https://out', NULL, NULL, %s)", (job, token))
        == "VG303"
    )
    failed = db.service(
        "SELECT row_to_json(public.fail_job(%s, 'KeyboardInterrupt', 'stopped', NULL, %s))",
        (job, token),
    )
    assert failed["status"] == "FAILED" and failed["error_code"] == "CANCELLED"
    assert db.balance(owner) == 50 and refunds_of(db, job) == 1
    assert_ledger_consistent(db)


def test_a_cancelled_job_whose_worker_died_is_refunded_by_recovery(db: Db) -> None:
    owner = db.new_user(50)
    job = queued_job(db, owner, cost=15)
    claim(db, worker(db))
    cancel_as(db, user(owner), job)
    expire(db, job)
    assert db.service("SELECT json_agg(r) FROM public.recover_jobs() AS r") == [
        {"job_id": str(job), "outcome": "cancelled"}
    ]
    assert db.job(job)["error_code"] == "CANCELLED" and db.balance(owner) == 50
    assert refunds_of(db, job) == 1


def test_a_finished_job_cannot_be_cancelled(db: Db) -> None:
    owner = db.new_user(50)
    job = queued_job(db, owner)
    db.service("SELECT public.start_job_step(%s, 'SCRIPTING')", (job,))
    db.service("SELECT public.finish_job(%s, 'https://out')", (job,))
    with pytest.raises(psycopg.Error) as refused:
        cancel_as(db, user(owner), job)
    assert refused.value.sqlstate == "VG201"
    assert db.job(job)["status"] == "READY"


# -- deleting projects ---------------------------------------------------------------------------


def test_a_project_with_an_active_job_cannot_be_deleted(db: Db) -> None:
    owner = db.new_user(50)
    job = queued_job(db, owner)
    project = db.job(job)["project_id"]
    with pytest.raises(psycopg.Error) as refused, request(db.conn, user(owner), commit=True) as cur:
        cur.execute("DELETE FROM public.projects WHERE id = %s", (project,))
    assert refused.value.sqlstate == "VG304"
    assert sqlstate(db, "DELETE FROM public.jobs WHERE id = %s", (job,)) == "VG304"
    cancel_as(db, user(owner), job)
    with request(db.conn, user(owner), commit=True) as cur:
        cur.execute("DELETE FROM public.projects WHERE id = %s", (project,))
        assert cur.rowcount == 1
    assert db.balance(owner) == 50
    assert_ledger_consistent(db)


def test_deleting_a_user_still_deletes_their_active_jobs(db: Db) -> None:
    owner = db.new_user(50)
    job = queued_job(db, owner)
    claim(db, worker(db))
    db.conn.execute("DELETE FROM auth.users WHERE id = %s", (owner,))
    assert db.conn.execute("SELECT 1 FROM public.jobs WHERE id = %s", (job,)).fetchone() is None


# -- stats ----------------------------------------------------------------------------------------


def test_queue_stats(db: Db) -> None:
    w = worker(db)
    for _ in range(3):
        queued_job(db)
    [held] = claim(db, w)
    expire(db, uuid.UUID(held["id"]))
    stats = db.service("SELECT row_to_json(s) FROM public.job_queue_stats() AS s")
    assert stats["queued"] == 2 and stats["running"] == 1 and stats["expired_leases"] == 1
    assert stats["workers_seen"] == 1 and stats["oldest_queued_seconds"] >= 0
