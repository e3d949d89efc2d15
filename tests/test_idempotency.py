"""Idempotency keys (20260302000200_idempotency_keys.sql) on the database: the same key with
the same arguments applies once and returns the first result, with other arguments it is
VG107, keys are unique in the database (concurrent calls with one key apply once), and a
failed call leaves no key. Plus the retry policy that relies on them.

The lost-response tests over HTTP are tests/e2e/test_idempotency.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from dbhelpers import Db, call_as_service, run_concurrently
from vidgen_db import RetryPolicy
from vidgen_db._retry import KEYED_FUNCTIONS, is_idempotent


@pytest.fixture
def db(migrated_url: str) -> Iterator[Db]:
    database = Db(migrated_url)
    yield database
    database.close()


def sqlstate(db: Db, sql: str, params: Any = None) -> str | None:
    try:
        db.service(sql, params)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def ledger(db: Db, user: uuid.UUID, kind: str) -> list[int]:
    rows = db.conn.execute(
        "SELECT amount FROM public.credit_ledger WHERE user_id = %s AND type = %s ORDER BY created_at",
        (user, kind),
    ).fetchall()
    return [r[0] for r in rows]


def balances_match_ledgers(db: Db) -> bool:
    row = db.conn.execute(
        "SELECT count(*) FROM public.credit_balances AS b WHERE b.balance <> "
        "(SELECT coalesce(sum(l.amount), 0) FROM public.credit_ledger AS l WHERE l.user_id = b.user_id)"
    ).fetchone()
    return row == (0,)


GRANT = "SELECT public.grant_credits(%s, %s, NULL, %s)"
EXPIRE = "SELECT public.expire_credits(%s, %s, NULL, %s)"
LOG = "SELECT public.append_job_log(%s, %s, 'info', NULL, NULL, NULL, %s)"


def test_a_repeated_grant_applies_once_and_returns_the_first_result(db: Db) -> None:
    user = db.new_user()  # 10 welcome credits
    assert db.service(GRANT, (user, 9, "k1")) == 19
    db.service(GRANT, (user, 1, "k2"))  # the balance moves on
    assert db.service(GRANT, (user, 9, "k1")) == 19
    assert ledger(db, user, "grant") == [10, 9, 1]
    assert db.balance(user) == 20 and balances_match_ledgers(db)


def test_a_repeated_expiry_applies_once(db: Db) -> None:
    user = db.new_user()
    assert db.service(EXPIRE, (user, 4, "e1")) == 4
    db.service(GRANT, (user, 50, None))
    assert db.service(EXPIRE, (user, 4, "e1")) == 4
    assert ledger(db, user, "expire") == [-4]
    # An expiry that found nothing to expire is remembered too.
    empty = db.new_user(credits=0)
    assert db.service(EXPIRE, (empty, 5, "e2")) == 0
    db.service(GRANT, (empty, 7, None))
    assert db.service(EXPIRE, (empty, 5, "e2")) == 0
    assert db.balance(empty) == 7 and balances_match_ledgers(db)


def test_a_repeated_log_line_is_stored_once(db: Db) -> None:
    job = db.new_job(db.new_user())
    assert db.service(LOG, (job, "started", "l1")) == 1
    assert db.service(LOG, (job, "working", "l2")) == 2
    assert db.service(LOG, (job, "started", "l1")) == 1
    rows = db.conn.execute(
        "SELECT line_no, message FROM public.job_logs WHERE job_id = %s ORDER BY line_no", (job,)
    ).fetchall()
    assert rows == [(1, "started"), (2, "working")]


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (("grant", 9, None), ("grant", 8, None)),
        (("grant", 9, None), ("grant", 9, "a note")),
        (("expire", 3, None), ("expire", 2, None)),
    ],
)
def test_a_key_reused_with_other_arguments_is_refused(
    db: Db, first: tuple[str, int, str | None], again: tuple[str, int, str | None]
) -> None:
    user = db.new_user()
    function = f"public.{first[0]}_credits"
    db.service(f"SELECT {function}(%s, %s, %s, 'same')", (user, first[1], first[2]))
    before = ledger(db, user, first[0])
    sql = f"SELECT public.{again[0]}_credits(%s, %s, %s, 'same')"
    assert sqlstate(db, sql, (user, again[1], again[2])) == "VG107"
    assert ledger(db, user, first[0]) == before
    # The same key for another user is another request too.
    assert sqlstate(db, f"SELECT {function}(%s, %s, %s, 'same')", (db.new_user(), *first[1:])) == (
        "VG107"
    )


def test_a_log_key_reused_for_another_line_is_refused(db: Db) -> None:
    job = db.new_job(db.new_user())
    db.service(LOG, (job, "a", "same"))
    assert sqlstate(db, LOG, (job, "b", "same")) == "VG107"
    assert sqlstate(db, LOG, (db.new_job(db.new_user()), "a", "same")) == "VG107"


def test_each_function_has_its_own_keys(db: Db) -> None:
    user = db.new_user()
    assert db.service(GRANT, (user, 5, "shared")) == 15
    assert db.service(EXPIRE, (user, 5, "shared")) == 5
    assert db.service(LOG, (db.new_job(user), "x", "shared")) == 1


def test_without_a_key_nothing_changes(db: Db) -> None:
    user = db.new_user()
    db.service("SELECT public.grant_credits(%s, 5)", (user,))
    db.service("SELECT public.grant_credits(%s, 5)", (user,))
    assert ledger(db, user, "grant") == [10, 5, 5]
    assert db.one("SELECT count(*) FROM vidgen_private.idempotency_keys") == 0


def test_a_failed_call_leaves_no_key(db: Db) -> None:
    user = db.new_user()
    job = db.new_job(user)
    db.service("SELECT public.queue_job(%s, 1)", (job,))
    worker = uuid.uuid4()
    db.service("SELECT id FROM public.register_worker(%s, 'w')", (worker,))
    lease = db.service("SELECT lease_token FROM public.claim_jobs(%s)", (worker,))
    stale = "SELECT public.append_job_log(%s, 'late', 'info', NULL, NULL, %s, 'k')"
    assert sqlstate(db, stale, (job, lease - 1)) == "VG302"
    # Not recorded: the same key with the right lease writes the line.
    fresh = "SELECT public.append_job_log(%s, 'late', 'info', NULL, NULL, %s, 'k')"
    assert db.service(fresh, (job, lease)) == 1


@pytest.mark.parametrize(("key", "state"), [("", "22023"), ("k" * 256, "22001")])
def test_bad_keys_are_refused(db: Db, key: str, state: str) -> None:
    user = db.new_user()
    assert sqlstate(db, GRANT, (user, 5, key)) == state
    assert sqlstate(db, LOG, (db.new_job(user), "x", key)) == state
    assert ledger(db, user, "grant") == [10]


def test_concurrent_calls_with_one_key_apply_once(db: Db) -> None:
    user = db.new_user()
    job = db.new_job(user)
    grants = run_concurrently(
        db.url, [lambda c: call_as_service(c, GRANT, (user, 9, "burst")) for _ in range(8)]
    )
    logs = run_concurrently(
        db.url, [lambda c: call_as_service(c, LOG, (job, "once", "burst")) for _ in range(8)]
    )
    assert grants == [19] * 8
    assert logs == [1] * 8
    assert ledger(db, user, "grant") == [10, 9] and balances_match_ledgers(db)
    assert db.one("SELECT count(*) FROM public.job_logs WHERE job_id = %s", (job,)) == 1


def test_keys_go_with_their_job_or_user(db: Db) -> None:
    user = db.new_user()
    job = db.new_job(user)
    db.service(LOG, (job, "x", "l"))
    db.service(GRANT, (user, 1, "g"))
    db.conn.execute("DELETE FROM public.jobs WHERE id = %s", (job,))
    assert db.one("SELECT count(*) FROM vidgen_private.idempotency_keys") == 1
    db.conn.execute("DELETE FROM auth.users WHERE id = %s", (user,))
    assert db.one("SELECT count(*) FROM vidgen_private.idempotency_keys") == 0


def test_a_log_lines_key_goes_with_the_line(db: Db) -> None:
    """Retention deletes old lines (prune_job_logs): their keys go with them."""
    job = db.new_job(db.new_user())
    db.service(LOG, (job, "old", "l1"))
    db.service(LOG, (job, "kept", "l2"))
    db.conn.execute("DELETE FROM public.job_logs WHERE job_id = %s AND line_no = 1", (job,))
    keys = db.conn.execute("SELECT key FROM vidgen_private.idempotency_keys").fetchall()
    assert keys == [("l2",)]


def test_keys_are_out_of_every_api_roles_reach(db: Db) -> None:
    rows = db.conn.execute(
        "SELECT r, has_table_privilege(r, 'vidgen_private.idempotency_keys', p) "
        "FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r, "
        "unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p"
    ).fetchall()
    assert not any(allowed for _, allowed in rows)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.service("SELECT count(*) FROM vidgen_private.idempotency_keys")


# -- the retry policy ----------------------------------------------------------------------------


def _rpc(name: str, body: bytes) -> httpx.Request:
    return httpx.Request("POST", f"https://ref.supabase.co/rest/v1/rpc/{name}", content=body)


@pytest.mark.parametrize("name", sorted(KEYED_FUNCTIONS))
def test_a_keyed_call_is_retried_only_with_its_key(name: str) -> None:
    policy = RetryPolicy()
    assert is_idempotent(_rpc(name, b'{"p_amount": 5, "p_idempotency_key": "k"}'), policy)
    assert not is_idempotent(_rpc(name, b'{"p_amount": 5}'), policy)
    assert not is_idempotent(_rpc(name, b'{"p_idempotency_key": ""}'), policy)
    assert not is_idempotent(_rpc(name, b'{"p_data": {"p_idempotency_key": "k"}}'), policy)
    assert not is_idempotent(_rpc(name, b"not json"), policy)
