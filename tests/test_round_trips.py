"""The one-call functions in SQL: a job created and queued at once (idempotent, nothing left
behind when credits are short), and a stage transition (complete one step, start the
next) in one call."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import MakeDatabase
from dbhelpers import Db, call_as_service, run_concurrently


@pytest.fixture
def db(make_database: MakeDatabase, migrated_template: str) -> Iterator[Db]:
    database = Db(make_database(template=migrated_template))
    yield database
    database.close()


def project_of(db: Db, user_id: uuid.UUID) -> uuid.UUID:
    project = uuid.uuid4()
    db.conn.execute(
        "INSERT INTO public.projects (id, user_id, title, prompt_text, niche_preset) "
        "VALUES (%s, %s, 't', 'p', 'facts')",
        (project, user_id),
    )
    return project


CREATE = "SELECT row_to_json(public.create_and_queue_job(%s, %s, %s, %s))"


def sqlstate(db: Db, sql: str, params: Any) -> str | None:
    try:
        db.service(sql, params)
    except psycopg.Error as exc:
        return exc.sqlstate
    return None


def test_a_job_is_created_and_queued_in_one_call(db: Db) -> None:
    user = db.new_user(30)
    project, job = project_of(db, user), uuid.uuid4()
    row = db.service(CREATE, (job, project, user, 12))
    assert row["id"] == str(job) and row["status"] == "QUEUED"
    assert row["credit_state"] == "reserved" and row["cost_credits_reserved"] == 12
    assert row["queued_at"] is not None and db.balance(user) == 18


def test_short_credits_leave_no_job_behind(db: Db) -> None:
    user = db.new_user(5)
    project, job = project_of(db, user), uuid.uuid4()
    with pytest.raises(psycopg.Error) as short:
        db.service(CREATE, (job, project, user, 12))
    assert short.value.sqlstate == "VG101"
    assert short.value.diag.message_detail == '{"required" : 12, "balance" : 5}'
    assert db.conn.execute("SELECT count(*) FROM public.jobs").fetchone() == (0,)
    assert db.balance(user) == 5 == db.ledger_sum(user)


def test_a_repeated_request_returns_the_first_job_and_reserves_once(db: Db) -> None:
    user = db.new_user(30)
    project, job = project_of(db, user), uuid.uuid4()
    first = db.service(CREATE, (job, project, user, 12))
    again = db.service(CREATE, (job, project, user, 12))
    assert again == first and db.balance(user) == 18
    assert sqlstate(db, CREATE, (job, project, user, 13)) == "VG107"
    assert sqlstate(db, CREATE, (job, project_of(db, user), user, 12)) == "VG107"
    assert db.balance(user) == 18 == db.ledger_sum(user)


def test_a_double_submit_at_once_makes_one_job(db: Db) -> None:
    user = db.new_user(100)
    project, job = project_of(db, user), uuid.uuid4()
    submit = lambda conn: call_as_service(conn, CREATE, (job, project, user, 10))  # noqa: E731
    results = run_concurrently(db.url, [submit] * 6)
    assert all(not isinstance(r, Exception) for r in results), results
    assert {r["id"] for r in results} == {str(job)}
    assert db.balance(user) == 90 == db.ledger_sum(user)


def test_a_job_of_another_users_project_is_refused(db: Db) -> None:
    owner, other = db.new_user(30), db.new_user(30)
    assert sqlstate(db, CREATE, (uuid.uuid4(), project_of(db, owner), other, 5)) == "23503"
    assert db.balance(other) == 30


def test_a_transition_completes_one_step_and_starts_the_next(db: Db) -> None:
    user = db.new_user(30)
    job = uuid.uuid4()
    db.service(CREATE, (job, project_of(db, user), user, 5))
    db.service("SELECT public.start_job_step(%s, 'SCRIPTING')", (job,))
    step = db.service(
        "SELECT row_to_json(public.next_job_step(%s, 'VOICE_GEN', 'SCRIPTING', %s, 'scripted'))",
        (job, '{"script": 1}'),
    )
    assert step["step_name"] == "VOICE_GEN" and step["state"] == "started"
    steps = dict(
        db.conn.execute(
            "SELECT step_name, (state::text, artifacts_json::text, status_message) "
            "FROM public.job_steps "
            "WHERE job_id = %s",
            (job,),
        ).fetchall()
    )
    assert steps["SCRIPTING"] == ("succeeded", '{"script": 1}', "scripted")
    assert db.job(job)["status"] == "VOICE_GEN"
    # A retry after a lost response changes nothing more than the first call did.
    db.service("SELECT public.next_job_step(%s, 'VOICE_GEN', 'SCRIPTING')", (job,))
    assert db.job(job)["status"] == "VOICE_GEN"


def test_a_transition_under_a_stale_lease_changes_nothing(db: Db) -> None:
    user = db.new_user(30)
    job = uuid.uuid4()
    db.service(CREATE, (job, project_of(db, user), user, 5))
    worker = uuid.uuid4()
    db.service("SELECT public.register_worker(%s, 'w')", (worker,))
    token = db.service("SELECT lease_token FROM public.claim_jobs(%s)", (worker,))
    db.service("SELECT public.start_job_step(%s, 'SCRIPTING', NULL, %s)", (job, token))
    before = db.job(job)
    assert (
        sqlstate(
            db,
            "SELECT public.next_job_step(%s, 'VOICE_GEN', 'SCRIPTING', p_lease => %s)",
            (job, token + 1),
        )
        == "VG302"
    )
    assert db.job(job) == before
