"""The credit API on a real PostgreSQL, under concurrency: never below zero, always equal to
the ledger, each operation exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import MakeDatabase
from dbhelpers import Db, call_as_service, run_concurrently

CONCURRENCY = 50


@pytest.fixture(scope="module")
def db(make_database: MakeDatabase, migrated_template: str) -> Iterator[Db]:
    database = Db(make_database(template=migrated_template))
    yield database
    database.close()


def _reserve(user_id: uuid.UUID, job_id: uuid.UUID, amount: int) -> Any:
    return lambda conn: call_as_service(
        conn, "SELECT public.reserve_credits(%s, %s, %s)", (user_id, job_id, amount)
    )


def _assert_consistent(db: Db, user_id: uuid.UUID) -> None:
    balance = db.balance(user_id)
    assert balance >= 0
    assert balance == db.ledger_sum(user_id)
    assert db.service("SELECT public.get_credit_balance(%s)", (user_id,)) == balance
    # balance_after is the running balance, row by row in commit order of the balance row.
    last = db.one(
        "SELECT balance_after FROM public.credit_ledger WHERE user_id = %s "
        "ORDER BY balance_after = %s DESC, created_at DESC LIMIT 1",
        (user_id, balance),
    )
    assert last == balance


@pytest.mark.parametrize(("credits", "amount"), [(10, 10), (95, 10), (50, 7), (0, 1)])
def test_concurrent_reservations_on_distinct_jobs(db: Db, credits: int, amount: int) -> None:
    user_id = db.new_user(credits)
    jobs = [db.new_job(user_id) for _ in range(CONCURRENCY)]
    results = run_concurrently(db.url, [_reserve(user_id, job, amount) for job in jobs])
    assert all(isinstance(r, bool) for r in results), results
    assert sum(results) == min(CONCURRENCY, credits // amount)
    assert db.balance(user_id) == credits - sum(results) * amount
    _assert_consistent(db, user_id)
    reserved = db.one(
        "SELECT count(*) FROM public.jobs WHERE user_id = %s AND credit_state = 'reserved'",
        (user_id,),
    )
    assert reserved == sum(results)


def test_a_repeated_reservation_reserves_once(db: Db) -> None:
    user_id = db.new_user(30)
    job = db.new_job(user_id)
    results = run_concurrently(db.url, [_reserve(user_id, job, 10) for _ in range(10)])
    assert results == [True] * 10
    assert db.balance(user_id) == 20
    assert db.service("SELECT public.reserve_credits(%s, %s, 10)", (user_id, job)) is True
    assert db.balance(user_id) == 20
    with pytest.raises(psycopg.Error) as info:
        db.service("SELECT public.reserve_credits(%s, %s, 11)", (user_id, job))
    assert info.value.sqlstate == "VG102"
    _assert_consistent(db, user_id)


def test_a_short_balance_returns_false_and_changes_nothing(db: Db) -> None:
    user_id = db.new_user(5)
    job = db.new_job(user_id)
    assert db.service("SELECT public.reserve_credits(%s, %s, 6)", (user_id, job)) is False
    assert db.balance(user_id) == 5
    assert db.job(job)["credit_state"] == "none"
    assert db.service("SELECT public.reserve_credits(%s, %s, 5)", (user_id, job)) is True


@pytest.mark.parametrize(
    ("sql", "args", "sqlstate"),
    [
        ("SELECT public.reserve_credits(%s, %s, 0)", "user,job", "22023"),
        ("SELECT public.reserve_credits(%s, %s, -5)", "user,job", "22023"),
        ("SELECT public.reserve_credits(%s, %s, NULL)", "user,job", "22023"),
        ("SELECT public.reserve_credits(%s, %s, 1)", "user,unknown", "VG002"),
        ("SELECT public.reserve_credits(%s, %s, 1)", "other,job", "VG003"),
        ("SELECT public.reserve_credits(%s, %s, 1)", "unknown,job", "VG001"),
        ("SELECT public.grant_credits(%s, 0)", "user", "22023"),
        ("SELECT public.grant_credits(%s, 5)", "unknown", "VG001"),
        ("SELECT public.settle_job_credits(%s, -1)", "job", "22023"),
        ("SELECT public.settle_job_credits(%s, 1)", "job", "VG105"),
        ("SELECT public.refund_job_credits(%s)", "unknown", "VG002"),
        ("SELECT public.record_purchase(%s, 100, '')", "user", "22004"),
        ("SELECT public.expire_credits(%s, 0)", "user", "22023"),
    ],
)
def test_bad_input_is_a_clear_error(db: Db, sql: str, args: str, sqlstate: str) -> None:
    user_id = db.new_user(20)
    values = {
        "user": user_id,
        "other": db.new_user(),
        "job": db.new_job(user_id),
        "unknown": uuid.uuid4(),
    }
    before = db.ledger_sum(user_id)
    with pytest.raises(psycopg.Error) as info:
        db.service(sql, tuple(values[a] for a in args.split(",")))
    assert info.value.sqlstate == sqlstate, info.value
    assert str(info.value)  # a message that says what was wrong
    assert db.ledger_sum(user_id) == before


def test_settle_turns_the_reservation_into_usage_exactly_once(db: Db) -> None:
    user_id = db.new_user(50)
    job = db.new_job(user_id)
    assert db.service("SELECT public.reserve_credits(%s, %s, 20)", (user_id, job))
    results = run_concurrently(
        db.url,
        [
            (lambda conn: call_as_service(conn, "SELECT public.settle_job_credits(%s, 12)", (job,)))
            for _ in range(10)
        ],
    )
    assert results == [12] * 10
    assert db.balance(user_id) == 38
    assert db.job(job)["cost_credits_final"] == 12
    assert db.job(job)["credit_state"] == "settled"
    assert db.service("SELECT public.settle_job_credits(%s, 99)", (job,)) == 12  # no change
    assert db.balance(user_id) == 38
    usage = db.one(
        "SELECT count(*) FROM public.credit_ledger WHERE job_id = %s AND type = 'usage'", (job,)
    )
    assert usage == 1
    with pytest.raises(psycopg.Error) as info:
        db.service("SELECT public.refund_job_credits(%s)", (job,))
    assert info.value.sqlstate == "VG103"
    _assert_consistent(db, user_id)


def test_settle_takes_the_extra_only_as_far_as_the_balance_allows(db: Db) -> None:
    user_id = db.new_user(15)
    job = db.new_job(user_id)
    assert db.service("SELECT public.reserve_credits(%s, %s, 10)", (user_id, job))
    assert db.service("SELECT public.settle_job_credits(%s, 12)", (job,)) == 12
    assert db.balance(user_id) == 3
    job2 = db.new_job(user_id)
    assert db.service("SELECT public.reserve_credits(%s, %s, 2)", (user_id, job2))
    assert db.service("SELECT public.settle_job_credits(%s, 10)", (job2,)) == 3  # capped
    assert db.balance(user_id) == 0
    _assert_consistent(db, user_id)


def test_refund_exactly_once_and_never_after_settle(db: Db) -> None:
    user_id = db.new_user(30)
    job = db.new_job(user_id)
    assert db.service("SELECT public.reserve_credits(%s, %s, 25)", (user_id, job))
    assert db.balance(user_id) == 5
    results = run_concurrently(
        db.url,
        [
            (lambda conn: call_as_service(conn, "SELECT public.refund_job_credits(%s)", (job,)))
            for _ in range(10)
        ],
    )
    assert results == [25] * 10
    assert db.balance(user_id) == 30
    with pytest.raises(psycopg.Error) as info:
        db.service("SELECT public.settle_job_credits(%s, 1)", (job,))
    assert info.value.sqlstate == "VG104"
    with pytest.raises(psycopg.Error) as info:
        db.service("SELECT public.reserve_credits(%s, %s, 1)", (user_id, job))
    assert info.value.sqlstate == "VG104"
    _assert_consistent(db, user_id)


def test_concurrent_settle_and_refund_apply_one_of_them(db: Db) -> None:
    user_id = db.new_user(40)
    job = db.new_job(user_id)
    assert db.service("SELECT public.reserve_credits(%s, %s, 30)", (user_id, job))
    calls = []
    for i in range(20):
        sql = (
            "SELECT public.settle_job_credits(%s, 30)"
            if i % 2
            else "SELECT public.refund_job_credits(%s)"
        )
        calls.append(lambda conn, sql=sql: call_as_service(conn, sql, (job,)))
    results = run_concurrently(db.url, calls)
    state = db.job(job)["credit_state"]
    assert state in {"settled", "refunded"}
    assert db.balance(user_id) == (10 if state == "settled" else 40)
    errors = [r for r in results if isinstance(r, psycopg.Error)]
    assert {e.sqlstate for e in errors} <= {"VG103", "VG104"}
    _assert_consistent(db, user_id)


def test_a_replayed_payment_is_credited_once(db: Db) -> None:
    user_id = db.new_user(10)
    payment = f"pi_{uuid.uuid4().hex}"
    results = run_concurrently(
        db.url,
        [
            (
                lambda conn: call_as_service(
                    conn, "SELECT public.record_purchase(%s, 100, %s)", (user_id, payment)
                )
            )
            for _ in range(10)
        ],
    )
    assert results == [110] * 10
    assert db.balance(user_id) == 110
    assert db.service("SELECT public.record_purchase(%s, 100, %s)", (user_id, payment)) == 110
    other = db.new_user()
    with pytest.raises(psycopg.Error) as info:
        db.service("SELECT public.record_purchase(%s, 100, %s)", (other, payment))
    assert info.value.sqlstate == "VG106"
    with pytest.raises(psycopg.Error) as info:
        db.service("SELECT public.record_purchase(%s, 5, %s)", (user_id, payment))
    assert info.value.sqlstate == "VG106"
    assert db.balance(other) == 10
    _assert_consistent(db, user_id)


def test_the_same_payment_for_two_users_at_once_is_credited_to_one(db: Db) -> None:
    users = [db.new_user(10) for _ in range(6)]
    payment = f"pi_{uuid.uuid4().hex}"
    results = run_concurrently(
        db.url,
        [
            (
                lambda conn, u=u: call_as_service(
                    conn, "SELECT public.record_purchase(%s, 100, %s)", (u, payment)
                )
            )
            for u in users
        ],
    )
    assert sum(1 for r in results if r == 110) == 1
    assert all(isinstance(r, psycopg.Error) and r.sqlstate == "VG106" for r in results if r != 110)
    assert sorted(db.balance(u) for u in users) == [10] * 5 + [110]


def test_grant_and_expire_never_below_zero(db: Db) -> None:
    user_id = db.new_user(10)
    assert db.service("SELECT public.grant_credits(%s, 5, 'support')", (user_id,)) == 15
    assert db.service("SELECT public.expire_credits(%s, 100)", (user_id,)) == 15
    assert db.balance(user_id) == 0
    assert db.service("SELECT public.expire_credits(%s, 1)", (user_id,)) == 0
    assert (
        db.one(
            "SELECT count(*) FROM public.credit_ledger WHERE user_id = %s AND type = 'expire'",
            (user_id,),
        )
        == 1
    )
    _assert_consistent(db, user_id)


def test_a_direct_ledger_insert_cannot_overdraw(db: Db) -> None:
    user_id = db.new_user(10)
    with pytest.raises(psycopg.errors.CheckViolation):
        db.service(
            "INSERT INTO public.credit_ledger (user_id, type, amount) VALUES (%s, 'usage', -11)",
            (user_id,),
        )
    db.service(
        "INSERT INTO public.credit_ledger (user_id, type, amount) VALUES (%s, 'usage', -4)",
        (user_id,),
    )
    assert db.balance(user_id) == 6
    _assert_consistent(db, user_id)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE public.credit_ledger SET amount = 1000 WHERE user_id = %s",
        "UPDATE public.credit_ledger SET note = 'rewritten' WHERE user_id = %s",
        "DELETE FROM public.credit_ledger WHERE user_id = %s",
    ],
)
def test_the_ledger_is_append_only_even_for_superusers(db: Db, sql: str) -> None:
    user_id = db.new_user(10)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.conn.execute(sql, (user_id,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.conn.execute("TRUNCATE public.credit_ledger")


def test_deleting_a_project_keeps_its_ledger_and_deleting_a_user_removes_it(db: Db) -> None:
    user_id = db.new_user(30)
    job = db.new_job(user_id)
    assert db.service("SELECT public.reserve_credits(%s, %s, 10)", (user_id, job))
    # A project whose job holds a reservation cannot be deleted (VG304) until it is refunded.
    with pytest.raises(psycopg.Error) as refused:
        db.conn.execute("DELETE FROM public.projects WHERE user_id = %s", (user_id,))
    assert refused.value.sqlstate == "VG304"
    assert db.service("SELECT public.refund_job_credits(%s)", (job,)) == 10
    db.conn.execute("DELETE FROM public.projects WHERE user_id = %s", (user_id,))
    assert db.one("SELECT count(*) FROM public.credit_ledger WHERE user_id = %s", (user_id,)) == 4
    assert (
        db.one(
            "SELECT count(*) FROM public.credit_ledger WHERE user_id = %s AND job_id IS NULL",
            (user_id,),
        )
        == 4
    )
    db.conn.execute("DELETE FROM auth.users WHERE id = %s", (user_id,))
    assert db.one("SELECT count(*) FROM public.credit_ledger WHERE user_id = %s", (user_id,)) == 0
    assert db.one("SELECT count(*) FROM public.credit_balances WHERE user_id = %s", (user_id,)) == 0


def test_balance_reads_one_row(db: Db) -> None:
    user_id = db.new_user(10)
    with db.conn.transaction(force_rollback=True):
        db.conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in db.conn.execute(
                "EXPLAIN SELECT b.balance FROM public.credit_balances b WHERE b.user_id = %s",
                (user_id,),
            ).fetchall()
        )
    assert "credit_balances_pkey" in plan
    assert "credit_ledger" not in plan


def test_the_service_role_cannot_choose_balance_after(db: Db) -> None:
    user_id = db.new_user(10)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.service(
            "INSERT INTO public.credit_ledger (user_id, type, amount, balance_after) "
            "VALUES (%s, 'grant', 5, 1000000)",
            (user_id,),
        )
    assert db.balance(user_id) == 10


def test_expired_visitor_drafts_are_deleted_by_the_database_clock(db: Db) -> None:
    user_id = db.new_user()
    db.conn.execute(
        "INSERT INTO public.draft_prompts (session_token, prompt_text, user_id, expires_at) VALUES "
        "('expired-visitor-token-000001', 'old', NULL, now() - interval '1 minute'), "
        "('live-visitor-token-0000000001', 'new', NULL, now() + interval '1 day'), "
        "('expired-claimed-token-000001', 'kept', %s, now() - interval '1 minute')",
        (user_id,),
    )
    assert db.service("SELECT public.delete_expired_drafts()") >= 1
    texts = {
        r[0]
        for r in db.conn.execute(
            "SELECT prompt_text FROM public.draft_prompts WHERE session_token LIKE '%%-token-%%'"
        ).fetchall()
    }
    assert "old" not in texts and {"new", "kept"} <= texts


def test_a_settlements_entries_keep_their_order(db: Db) -> None:
    user_id = db.new_user(50)
    job = db.new_job(user_id)
    assert db.service("SELECT public.reserve_credits(%s, %s, 20)", (user_id, job))
    db.service("SELECT public.settle_job_credits(%s, 12)", (job,))
    rows = db.conn.execute(
        "SELECT type, amount, balance_after FROM public.credit_ledger WHERE job_id = %s "
        "ORDER BY created_at, id",
        (job,),
    ).fetchall()
    assert rows == [("reserve", -20, 30), ("reserve", 20, 50), ("usage", -12, 38)]
