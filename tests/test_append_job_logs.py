"""append_job_logs: many lines of one job in one call, in order, exactly once per key,
under the job's lease, each line checked and named by its position when refused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import MakeDatabase
from dbhelpers import Db

CALL = "SELECT public.append_job_logs(%s, %s::jsonb, p_lease => %s, p_idempotency_key => %s)"


@pytest.fixture
def db(make_database: MakeDatabase, migrated_template: str) -> Iterator[Db]:
    database = Db(make_database(template=migrated_template))
    yield database
    database.close()


@pytest.fixture
def job(db: Db) -> uuid.UUID:
    return db.new_job(db.new_user())


def append(
    db: Db, job: uuid.UUID, lines: Any, lease: int | None = None, key: str | None = None
) -> Any:
    return db.service(CALL, (job, json.dumps(lines), lease, key))


def refused(db: Db, job: uuid.UUID, lines: Any, **options: Any) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        append(db, job, lines, **options)
    return caught.value


def lines_of(db: Db, job: uuid.UUID) -> list[tuple[Any, ...]]:
    return db.conn.execute(
        "SELECT line_no, level, step_name, message, data FROM public.job_logs "
        "WHERE job_id = %s ORDER BY line_no",
        (job,),
    ).fetchall()


def test_lines_are_appended_in_order_after_the_jobs_own(db: Db, job: uuid.UUID) -> None:
    db.service("SELECT public.append_job_log(%s, 'first')", (job,))
    last = append(
        db,
        job,
        [
            {"message": "a", "step_name": "SCRIPTING"},
            {"message": "b", "level": "warning", "data": {"ms": 8100}},
            {"message": "c", "level": None, "data": None},
        ],
    )
    assert last == 4
    assert lines_of(db, job) == [
        (1, "info", None, "first", None),
        (2, "info", "SCRIPTING", "a", None),
        (3, "warning", None, "b", {"ms": 8100}),
        (4, "info", None, "c", None),
    ]


def test_a_repeated_key_appends_nothing_and_returns_the_first_result(
    db: Db, job: uuid.UUID
) -> None:
    batch = [{"message": "a"}, {"message": "b"}]
    assert append(db, job, batch, key="k1") == 2
    assert append(db, job, batch, key="k1") == 2
    assert len(lines_of(db, job)) == 2
    error = refused(db, job, [{"message": "other"}], key="k1")
    assert error.sqlstate == "VG107"
    assert append(db, job, batch, key="k2") == 4


def test_a_lost_lease_appends_nothing(db: Db, job: uuid.UUID) -> None:
    worker = uuid.uuid4()
    db.service("SELECT (public.register_worker(%s, 'w')).id", (worker,))
    db.service("SELECT (public.queue_job(%s, 1)).id", (job,))
    token = db.service("SELECT (public.claim_jobs(%s)).lease_token", (worker,))
    assert append(db, job, [{"message": "held"}], lease=token) == 1
    assert refused(db, job, [{"message": "stale"}], lease=token + 1).sqlstate == "VG302"
    # Unleased while a worker holds the job: refused as every unleased worker-side call.
    assert refused(db, job, [{"message": "unleased"}]).sqlstate == "VG302"
    assert [line[3] for line in lines_of(db, job)] == ["held"]


@pytest.mark.parametrize(
    ("lines", "sqlstate", "words"),
    [
        ({"message": "x"}, "22023", "must be a JSON array"),
        ([], "22023", "from 1 to 1000 lines, got 0"),
        ([{"message": "x"}] * 1001, "22023", "got 1001"),
        ([{"message": "x"}, "x"], "22023", "p_lines[2] must be an object"),
        ([{"message": "x", "line_no": 9}], "22023", "unknown keys: line_no"),
        ([{"level": "info"}], "22004", "p_lines[1].message must be a string"),
        ([{"message": 5}], "22004", "p_lines[1].message"),
        ([{"message": "x", "level": 3}], "22023", "level and step_name must be strings"),
        ([{"message": "x"}, {"message": "y" * 4001}], "22001", "p_lines[2].message"),
        ([{"message": "x", "step_name": "s" * 65}], "22001", "p_lines[1].step_name"),
        ([{"message": "x", "data": {"d": "z" * 16384}}], "22001", "p_lines[1].data"),
        ([{"message": "x", "level": "loud"}], "23514", "job_logs_level_check"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_appended(
    db: Db, job: uuid.UUID, lines: Any, sqlstate: str, words: str
) -> None:
    error = refused(db, job, lines, key="bad")
    assert error.sqlstate == sqlstate
    assert words in str(error)
    assert lines_of(db, job) == []
    # The key of a refused call is not spent.
    assert append(db, job, [{"message": "ok"}], key="bad") == 1


def test_an_unknown_job(db: Db) -> None:
    assert refused(db, uuid.uuid4(), [{"message": "x"}]).sqlstate == "VG002"


def test_10_mb_of_lines_is_refused_before_anything_is_stored(db: Db, job: uuid.UUID) -> None:
    lines = [{"message": "m" * 4000}] * 999 + [{"message": "x" * 10_000_000}]
    error = refused(db, job, lines)
    assert error.sqlstate == "22001" and "p_lines[1000].message" in str(error)
    assert lines_of(db, job) == []
