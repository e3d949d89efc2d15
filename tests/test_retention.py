"""Retention in SQL: prune_job_logs deletes the log lines of long-finished jobs (and only
those), in short batches that never block the workers writing lines meanwhile, and is safe
to run concurrently; prune_workers deletes the rows of workers gone for a while. Run as
PostgREST runs requests, on a real PostgreSQL. (The same with 1,000,000 lines is in
benchmarks/bench_growth.py.)"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
import respx

from conftest import MakeDatabase
from dbhelpers import SERVICE_PRELUDE, Db
from jwts import service_key
from pgrest import anon, request, user
from test_repos_clients import REST, URL, async_client, sync_client
from vidgen_db.cli import main
from vidgen_db.local._postgrest import PRELUDE


@pytest.fixture
def db(make_database: MakeDatabase, migrated_template: str) -> Iterator[Db]:
    database = Db(make_database(template=migrated_template))
    yield database
    database.close()


def jobs_with_logs(
    db: Db, lines: int, finished_days_ago: list[float | None], user_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """A job per entry of ``finished_days_ago`` (None: still running), each with ``lines``
    log lines written before it finished (bulk, as a restore would)."""
    user_id = user_id or db.new_user()
    jobs = [db.new_job(user_id) for _ in finished_days_ago]
    with db.conn.transaction():
        db.conn.execute("SET LOCAL session_replication_role = replica")
        for job, days in zip(jobs, finished_days_ago, strict=True):
            if days is not None:
                db.conn.execute(
                    "UPDATE public.jobs SET status = 'READY', credit_state = 'settled', "
                    "finished_at = now() - make_interval(secs => %s * 86400) WHERE id = %s",
                    (days, job),
                )
            db.conn.execute(
                "INSERT INTO public.job_logs (job_id, line_no, message, created_at) "
                "SELECT %s, g, 'line ' || g, now() - make_interval(secs => (%s + 1) * 86400 - g) "
                "FROM generate_series(1, %s) AS g",
                (job, days or 0, lines),
            )
    return jobs


def lines_of(db: Db, job: uuid.UUID) -> int:
    return int(db.one("SELECT count(*) FROM public.job_logs WHERE job_id = %s", (job,)))


def prune(db: Db, days: int | None = None, max_rows: int | None = None, setting: str = "") -> int:
    """One prune_job_logs call as the service role (with the retention setting if given)."""
    with db.conn.transaction(), db.conn.cursor() as cur:
        cur.execute(PRELUDE, SERVICE_PRELUDE)
        if setting:
            cur.execute("SELECT set_config('vidgen.job_log_retention_days', %s, true)", (setting,))
        cur.execute("SELECT public.prune_job_logs(%s, coalesce(%s, 10000))", (days, max_rows))
        row = cur.fetchone()
    assert row is not None
    return int(row[0])


def test_only_the_lines_of_jobs_finished_long_ago_go(db: Db) -> None:
    old, edge, recent, running = jobs_with_logs(db, 300, [45, 30.01, 29, None])
    assert prune(db) == 600  # the default: 30 days
    assert [lines_of(db, j) for j in (old, edge, recent, running)] == [0, 0, 300, 300]
    assert prune(db) == 0
    # The jobs themselves, and their steps and credits, are kept.
    assert db.one("SELECT count(*) FROM public.jobs WHERE id = ANY(%s)", ([old, edge],)) == 2


def test_the_period_comes_from_the_call_else_the_setting(db: Db) -> None:
    ten, twenty = jobs_with_logs(db, 50, [10.5, 20.5])
    assert prune(db, setting="15") == 50
    assert [lines_of(db, ten), lines_of(db, twenty)] == [50, 0]
    assert prune(db, days=10) == 50
    assert lines_of(db, ten) == 0


def test_each_call_deletes_at_most_its_batch(db: Db) -> None:
    jobs = jobs_with_logs(db, 2500, [40, 50])
    deleted = []
    while not deleted or deleted[-1] == 1000:
        deleted.append(prune(db, max_rows=1000))
    assert deleted == [1000, 1000, 1000, 1000, 1000, 0]
    assert sum(lines_of(db, j) for j in jobs) == 0


@pytest.mark.parametrize(
    ("days", "max_rows", "setting"),
    [(-1, None, ""), (40000, None, ""), (None, 0, ""), (None, 1_000_001, ""), (None, None, "-3")],
)
def test_bad_arguments_are_refused(db: Db, days: Any, max_rows: Any, setting: str) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        prune(db, days, max_rows, setting)


def test_only_the_service_role_may_prune(db: Db) -> None:
    owner = db.new_user()
    jobs_with_logs(db, 10, [40], owner)
    for actor in (anon(), user(owner)):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), request(db.conn, actor) as cur:
            cur.execute("SELECT public.prune_job_logs()")
    assert prune(db) == 10


def test_concurrent_runs_skip_each_others_lines_and_never_wait(db: Db) -> None:
    jobs = jobs_with_logs(db, 3000, [40, 41])
    first = psycopg.connect(db.url)  # a run that has not committed yet
    try:
        first.execute(PRELUDE, SERVICE_PRELUDE)
        held = first.execute("SELECT public.prune_job_logs(NULL, 4000)").fetchone()
        assert held == (4000,)
        with db.conn.transaction(), db.conn.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '100ms'")  # waiting would fail the test
            cur.execute(PRELUDE, SERVICE_PRELUDE)
            second = cur.execute("SELECT public.prune_job_logs(NULL, 10000)").fetchone()
        assert second == (2000,)  # the lines the first run had not locked
        first.commit()
    finally:
        first.close()
    assert sum(lines_of(db, j) for j in jobs) == 0


def test_workers_writing_lines_are_never_blocked_while_retention_runs(db: Db) -> None:
    """60,000 lines pruned in batches of 5,000 while 4 workers append lines to their running
    jobs: no append waits on a lock (lock_timeout 100 ms would fail it). Their latencies are
    measured in benchmarks/bench_growth.py, not here (these machines are shared)."""
    jobs_with_logs(db, 15_000, [40, 41, 42, 43])
    running = jobs_with_logs(db, 0, [None] * 4)
    latencies: list[float] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(job: uuid.UUID) -> None:
        with psycopg.connect(db.url, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '100ms'")
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    with conn.transaction():
                        conn.execute(PRELUDE, SERVICE_PRELUDE)
                        conn.execute("SELECT public.append_job_log(%s, 'working')", (job,))
                except psycopg.Error as exc:
                    errors.append(exc)
                    return
                latencies.append(time.perf_counter() - start)

    writers = [threading.Thread(target=write, args=(job,)) for job in running]
    for thread in writers:
        thread.start()
    try:
        time.sleep(0.2)
        deleted = []
        while not deleted or deleted[-1] == 5000:
            deleted.append(prune(db, max_rows=5000))
        time.sleep(0.2)
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert errors == []
    assert sum(deleted) == 60_000
    assert len(latencies) > 100


# -- workers ---------------------------------------------------------------------------------


def test_prune_workers_deletes_only_long_gone_workers_holding_no_job(db: Db) -> None:
    gone, recent, holding = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for worker in (gone, recent, holding):
        db.service("SELECT (public.register_worker(%s, 'w')).id", (worker,))
    db.conn.execute(
        "UPDATE public.workers SET last_seen_at = now() - interval '10 days' WHERE id <> %s",
        (recent,),
    )
    job = db.new_job(db.new_user(100))
    db.service("SELECT (public.queue_job(%s, 5)).id", (job,))
    db.conn.execute(
        "UPDATE public.jobs SET worker_id = %s, lease_token = 1, "
        "lease_expires_at = now() + interval '1 minute' WHERE id = %s",
        (holding, job),
    )
    assert db.service("SELECT public.prune_workers()") == 1
    left = {r[0] for r in db.conn.execute("SELECT id FROM public.workers").fetchall()}
    assert left == {recent, holding}
    assert db.service("SELECT public.prune_workers(20)") == 0


# -- the SDK: db.logs.prune asks until a batch comes back short -------------------------------


def test_prune_asks_again_until_a_batch_comes_back_short() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/prune_job_logs").mock(
            side_effect=[httpx.Response(200, json=n) for n in (100, 100, 37)]
        )
        with sync_client("service") as db:
            assert db.logs.prune(batch_size=100) == 237
    assert [json.loads(c.request.content)["p_max_rows"] for c in route.calls] == [100] * 3


async def test_prune_stops_at_its_limit() -> None:
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/prune_job_logs").mock(
            side_effect=[httpx.Response(200, json=n) for n in (100, 100, 50)]
        )
        async with async_client("service") as db:
            assert await db.logs.prune(batch_size=100, limit=250) == 250
    assert [json.loads(c.request.content)["p_max_rows"] for c in route.calls] == [100, 100, 50]


# -- the CLI ---------------------------------------------------------------------------------


def test_the_cli_prunes_until_nothing_is_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPABASE_URL", URL)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", service_key())
    monkeypatch.setenv("VIDGEN_DB_MAX_RETRIES", "0")
    with respx.mock() as mock:
        logs = mock.post(f"{REST}/rpc/prune_job_logs").mock(
            side_effect=[httpx.Response(200, json=n) for n in (500, 500, 12)]
        )
        workers = mock.post(f"{REST}/rpc/prune_workers").mock(
            return_value=httpx.Response(200, json=2)
        )
        assert main(["jobs", "prune-logs", "--older-than", "14", "--batch-size", "500"]) == 0
        out = capsys.readouterr().out
        assert main(["jobs", "prune-workers"]) == 0
    assert out == "deleted 1,012 log lines of jobs finished more than 14 days ago\n"
    assert capsys.readouterr().out == "deleted 2 workers not seen lately (holding no job)\n"
    assert [json.loads(c.request.content) for c in logs.calls] == [
        {"p_older_than_days": 14, "p_max_rows": 500}
    ] * 3
    assert json.loads(workers.calls.last.request.content) == {}
