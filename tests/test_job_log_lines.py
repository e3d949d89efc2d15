"""Log lines numbered per job (20260302000100_job_log_lines.sql), from the attacker's side:
what a signed-in user can read of their own job's log says nothing about how much other
users' jobs log. And the numbering holds under concurrent writers."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import MakeDatabase
from dbhelpers import Db, call_as_service
from pgrest import request, user

READABLE = ["job_id", "line_no", "step_name", "level", "message", "data", "created_at"]


@pytest.fixture
def db(migrated_url: str) -> Iterator[Db]:
    database = Db(migrated_url)
    yield database
    database.close()


def _log(db: Db, job: uuid.UUID, message: str) -> int:
    line: int = db.service("SELECT public.append_job_log(%s, %s)", (job, message))
    return line


def _as_user(db: Db, user_id: uuid.UUID, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with request(db.conn, user(user_id)) as cur:
        cur.execute(sql.encode() if params is None else sql, params)
        return cur.fetchall()


def _readable(db: Db, user_id: uuid.UUID, job: uuid.UUID) -> list[tuple[Any, ...]]:
    """Everything a user can read of a job's log, but the wall clock."""
    columns = ", ".join(c for c in READABLE if c != "created_at")
    return _as_user(
        db, user_id, f"SELECT {columns} FROM public.job_logs WHERE job_id = %s ORDER BY 2", (job,)
    )


def test_lines_are_numbered_per_job(db: Db) -> None:
    ada, bob = db.new_user(), db.new_user()
    job, other = db.new_job(ada), db.new_job(bob)
    assert [_log(db, job, "a1"), _log(db, other, "b1"), _log(db, job, "a2")] == [1, 1, 2]
    # Direct inserts by the service role are numbered too, in order, several at once.
    db.service(
        "INSERT INTO public.job_logs (job_id, message) VALUES (%s, 'a3'), (%s, 'a4'), (%s, 'b2')",
        (job, job, other),
    )
    rows = db.conn.execute(
        "SELECT job_id, line_no, message FROM public.job_logs ORDER BY id"
    ).fetchall()
    assert [(r[0] == job, r[1], r[2]) for r in rows] == [
        (True, 1, "a1"),
        (False, 1, "b1"),
        (True, 2, "a2"),
        (True, 3, "a3"),
        (True, 4, "a4"),
        (False, 2, "b2"),
    ]


def test_another_users_logging_leaves_no_trace_in_what_a_user_reads(db: Db) -> None:
    """Two identical jobs of Ada's, one logged while Bob's job logs a lot: Ada reads the
    same thing from both (but the job id and the wall clock)."""
    ada, bob = db.new_user(), db.new_user()
    quiet, busy, bobs = db.new_job(ada), db.new_job(ada), db.new_job(bob)
    for n in range(3):
        _log(db, quiet, f"step {n}")
    for n in range(3):
        _log(db, busy, f"step {n}")
        for m in range(25):
            _log(db, bobs, f"bob {n}.{m}")
    assert [r[1:] for r in _readable(db, ada, busy)] == [r[1:] for r in _readable(db, ada, quiet)]
    assert [r[1] for r in _readable(db, ada, busy)] == [1, 2, 3]
    # Bob's lines stay invisible to her.
    assert _readable(db, ada, bobs) == []


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id FROM public.job_logs",
        "SELECT * FROM public.job_logs",
        "SELECT line_no FROM public.job_logs WHERE id > 0",
        "SELECT line_no FROM public.job_logs ORDER BY id",
        "SELECT max(id) FROM public.job_logs",
        "SELECT count(*) FROM public.job_logs WHERE id IS NOT NULL",
    ],
)
def test_users_cannot_read_filter_or_sort_by_the_global_id(db: Db, sql: str) -> None:
    ada = db.new_user()
    _log(db, db.new_job(ada), "a line")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_user(db, ada, sql)


def test_what_users_may_read_of_a_line(db: Db) -> None:
    rows = db.conn.execute(
        "SELECT column_name FROM information_schema.column_privileges "
        "WHERE grantee = 'authenticated' AND table_schema = 'public' "
        "AND table_name = 'job_logs' AND privilege_type = 'SELECT'"
    ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(READABLE)


def test_no_column_users_read_is_fed_by_a_sequence(db: Db) -> None:
    """A counter shared by all users (an identity or serial column) would tell each of them
    how many rows everyone else made."""
    rows = db.conn.execute(
        """
        SELECT c.relname, a.attname
          FROM pg_class c
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'm')
           AND has_column_privilege('authenticated', c.oid, a.attnum, 'SELECT')
           AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%')
        """
    ).fetchall()
    assert rows == []


def test_the_service_role_cannot_renumber_or_move_lines(db: Db) -> None:
    ada = db.new_user()
    job, other = db.new_job(ada), db.new_job(ada)
    _log(db, job, "a line")
    for sql in (
        "UPDATE public.job_logs SET line_no = 7 WHERE job_id = %s",
        "UPDATE public.job_logs SET job_id = %s",
        "INSERT INTO public.job_logs (job_id, message, line_no) VALUES (%s, 'm', 9)",
    ):
        params = (job,) if "job_id = %s" in sql or "VALUES" in sql else (other,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.service(sql, params)
    # It may still correct a line's text.
    db.service("UPDATE public.job_logs SET message = 'fixed' WHERE job_id = %s", (job,))


def test_concurrent_writers_number_a_job_without_gaps_or_repeats(db: Db) -> None:
    job = db.new_job(db.new_user())
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with psycopg.connect(db.url, autocommit=True) as conn:
                for m in range(15):
                    call_as_service(conn, "SELECT public.append_job_log(%s, %s)", (job, f"{n}.{m}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = db.conn.execute(
        "SELECT line_no, message FROM public.job_logs WHERE job_id = %s ORDER BY line_no", (job,)
    ).fetchall()
    assert [r[0] for r in rows] == list(range(1, 61))
    # Each writer's lines keep its order.
    for n in range(4):
        mine = [r[1] for r in rows if r[1].startswith(f"{n}.")]
        assert mine == [f"{n}.{m}" for m in range(15)]


def test_migration_numbers_existing_lines_in_their_order(make_database: MakeDatabase) -> None:
    from vidgen_db.migrate import Migrator, load_migrations

    url = make_database()
    every = load_migrations()
    Migrator(url, migrations=[m for m in every if m.version < "20260302000100"]).migrate()
    db = Db(url)
    try:
        ada = db.new_user()
        a, b = db.new_job(ada), db.new_job(ada)
        for job in (a, b, a, a, b):
            db.service("SELECT public.append_job_log(%s, 'old')", (job,))
        Migrator(url).migrate()
        rows = db.conn.execute("SELECT job_id, line_no FROM public.job_logs ORDER BY id").fetchall()
        assert [(r[0] == a, r[1]) for r in rows] == [
            (True, 1),
            (False, 1),
            (True, 2),
            (True, 3),
            (False, 2),
        ]
        assert _log(db, a, "new") == 4
    finally:
        db.close()
