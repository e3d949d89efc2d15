"""Growth benchmark: lists at depth, hot queries on big tables, retention under load, and the
update patterns behind the autovacuum settings. Ratios measured side by side in one run.

    python benchmarks/bench_growth.py [--database-url URL] [--rows 2000000] [--depth 300000]
                                      [--rounds 3] [--only lists,hot,sizes,retention,vacuum]

Prints:
  1. every list method's page at depth --depth over its first page (target <= 1.5), each
     the SQL of the very request the SDK sends (captured, run as PostgREST runs it: one
     transaction, role and claims, prepared after five runs as PostgREST prepares), with the
     scan its plan makes at depth;
  2. balance, dashboard, credit history, job with steps and the job claim for a typical
     user with --rows rows in each table over the same with 10,000 (target <= 1.5);
  3. bytes per row and per index of each table (from --rows rows), for docs/scaling.md;
  4. retention deleting 1,000,000 log lines (prune_job_logs, 10,000 a call) while 4 workers
     append lines: their latencies before and during it, lock waits (target: none over
     100 ms); and, for the partitioning decision, a day of lines removed by DELETE or by
     dropping a partition, and a job's log read from one table or from 30 partitions;
  5. HOT updates and time of the credit and job update patterns, fillfactor 100 against
     the migration's (70 for credit_balances, 80 for job_steps).
The data is generated in SQL in bulk (triggers off, indexes built after the load, as a
restore does). Without --database-url (or DATABASE_URL, a superuser URL) it uses an
embedded PostgreSQL; throwaway databases are created and dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from benchlib import bench_database, paired_medians
from growth_data import (
    STAGES,
    World,
    as_role,
    load,
    plan_line,
    read_sql,
    say,
    sdk_request,
    service_db,
    user_db,
)

from vidgen_db import Cursor
from vidgen_db.local._postgrest import PRELUDE, prelude_params

SERVICE = prelude_params("service_role", {"role": "service_role"})

# -- 1. lists at depth ---------------------------------------------------------------------------

#: (name, who, the call, the table, the rows it lists in newest-first order as SQL)
Call = Callable[[Any, Cursor | None], object]
LISTS: list[tuple[str, str, Call, str, str]] = [
    ("credits.history", "user", lambda db, c: db.credits.history(limit=20, before=c),
     "credit_ledger", "user_id = %(deep)s"),
    ("credits.history(user_id)", "service",
     lambda db, c: db.credits.history(DEEP[0], limit=20, before=c),
     "credit_ledger", "user_id = %(deep)s"),
    ("projects.list", "user", lambda db, c: db.projects.list(limit=20, before=c),
     "projects", "user_id = %(deep)s"),
    ("projects.list", "service", lambda db, c: db.projects.list(limit=20, before=c),
     "projects", "true"),
    ("jobs.list", "user", lambda db, c: db.jobs.list(limit=20, before=c), "jobs",
     "user_id = %(deep)s"),
    ("jobs.list(status=READY)", "user",
     lambda db, c: db.jobs.list(status="READY", limit=20, before=c), "jobs",
     "user_id = %(deep)s AND status = 'READY'"),
    ("jobs.list", "service", lambda db, c: db.jobs.list(limit=20, before=c), "jobs", "true"),
    ("jobs.list(status=READY)", "service",
     lambda db, c: db.jobs.list(status="READY", limit=20, before=c), "jobs", "status = 'READY'"),
    ("drafts.list", "user", lambda db, c: db.drafts.list(limit=20, before=c), "draft_prompts",
     "user_id = %(deep)s"),
    ("drafts.list", "service", lambda db, c: db.drafts.list(limit=20, before=c),
     "draft_prompts", "true"),
]  # fmt: skip
DEEP: list[uuid.UUID] = []  # the deep user, once loaded (the calls above read it)
DASHBOARD = "SELECT count(*)::bigint, coalesce(json_agg(t), '[]')::text FROM public.get_dashboard(%s, %s, %s) AS t"


def bench_lists(world: World, depth: int, rounds: int) -> list[tuple[str, float, float, str]]:
    DEEP[:] = [world.deep]
    user, service = user_db(world.deep), service_db()
    cases: dict[str, tuple[Callable[[], object], Callable[[], object], str]] = {}
    with psycopg.connect(world.url, autocommit=True) as setup:
        conns = [psycopg.connect(world.url, autocommit=True) for _ in range(2)]
        for name, who, call, table, rows in LISTS:
            at, row_id = setup.execute(
                f"SELECT created_at, id FROM public.{table} WHERE {rows} "
                "ORDER BY created_at DESC, id DESC OFFSET %(n)s LIMIT 1",
                {"deep": world.deep, "n": depth - 1},
            ).fetchone()  # type: ignore[misc]
            db = user if who == "user" else service
            role_user = world.deep if who == "user" else None
            cursor = Cursor(at, row_id)
            first = read_sql(sdk_request(lambda db=db, call=call: call(db, None)))
            deep = read_sql(sdk_request(lambda db=db, call=call, c=cursor: call(db, c)))
            cases[f"{name} ({who})"] = (
                lambda q=first, u=role_user: as_role(conns[0], u, *q),
                lambda q=deep, u=role_user: as_role(conns[1], u, *q),
                "first: "
                + plan_line(setup, role_user, *first)
                + "\n      deep:  "
                + plan_line(setup, role_user, *deep),
            )
        # The dashboard (an RPC), and a job's log followed with after_line.
        at, row_id = setup.execute(
            "SELECT created_at, id FROM public.projects WHERE user_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            (world.deep, depth - 1),
        ).fetchone()  # type: ignore[misc]
        cases["dashboard.page (user)"] = (
            lambda: as_role(conns[0], world.deep, DASHBOARD, (21, None, None)),
            lambda: as_role(conns[1], world.deep, DASHBOARD, (21, at, row_id)),
            "get_dashboard: a row comparison on idx_projects_user_created (tests/test_pagination_sql.py)",
        )
        after = setup.execute(
            "SELECT line_no FROM public.job_logs WHERE job_id = %s ORDER BY line_no "
            "OFFSET %s LIMIT 1",
            (world.deep_job, depth - 1),
        ).fetchone()
        if after:
            logs = [
                read_sql(sdk_request(lambda a=a: user.logs.list(world.deep_job, after_line=a)))
                for a in (None, after[0])
            ]
            cases["logs.list(after_line) (user)"] = (
                lambda: as_role(conns[0], world.deep, *logs[0]),
                lambda: as_role(conns[1], world.deep, *logs[1]),
                plan_line(setup, world.deep, *logs[1]),
            )
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
    for _ in range(rounds):
        for key, (first_fn, deep_fn, _) in cases.items():
            m = paired_medians({"first": first_fn, "deep": deep_fn}, 60)
            samples[key].append((m["first"], m["deep"]))
    for conn in conns:
        conn.close()
    return [
        (
            key,
            statistics.median(s[0] for s in samples[key]),
            statistics.median(s[1] for s in samples[key]),
            cases[key][2],
        )
        for key in cases
    ]


# -- 2. hot queries, big table against small ---------------------------------------------------

CLAIM = "SELECT id FROM public.claim_jobs(%s, 1, 120, NULL, 1000)"
BALANCE = "SELECT public.get_credit_balance(%s)"


def hot_calls(world: World, conn: psycopg.Connection[Any]) -> dict[str, Callable[[], object]]:
    user = user_db(world.probe)
    history = read_sql(sdk_request(lambda: user.credits.history(limit=20)))
    job = read_sql(sdk_request(lambda: user.jobs.get(world.probe_job)))
    steps = read_sql(sdk_request(lambda: user.job_steps.list(world.probe_job)))
    probe = world.probe

    def job_with_steps() -> None:
        as_role(conn, probe, *job)
        as_role(conn, probe, *steps)

    return {
        "balance": lambda: as_role(conn, probe, BALANCE, (probe,)),
        "dashboard": lambda: as_role(conn, probe, DASHBOARD, (21, None, None)),
        "credit history": lambda: as_role(conn, probe, *history),
        "job with steps": job_with_steps,
        "claim": lambda: as_role(conn, None, CLAIM, (world.worker,)),
    }


def bench_hot(big: World, small: World, rounds: int) -> dict[str, tuple[float, float]]:
    with (
        psycopg.connect(big.url, autocommit=True) as big_conn,
        psycopg.connect(small.url, autocommit=True) as small_conn,
    ):
        big_calls, small_calls = hot_calls(big, big_conn), hot_calls(small, small_conn)
        samples: dict[str, list[tuple[float, float]]] = {k: [] for k in big_calls}
        for _ in range(rounds):
            for key in big_calls:
                n = 150 if key == "claim" else 300  # claims use up the queue (2,000 jobs)
                m = paired_medians({"big": big_calls[key], "small": small_calls[key]}, n)
                samples[key].append((m["big"], m["small"]))
    return {
        k: (statistics.median(s[0] for s in v), statistics.median(s[1] for s in v))
        for k, v in samples.items()
    }


# -- 3. sizes ------------------------------------------------------------------------------------

TABLES = ["credit_balances", "credit_ledger", "projects", "jobs", "job_steps", "draft_prompts",
          "job_logs"]  # fmt: skip


def sizes(url: str, tables: list[str]) -> list[tuple[str, int, int, list[tuple[str, int]]]]:
    """(table, rows, heap bytes, [(index, bytes)]) for each table."""
    out = []
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            rows = conn.execute(f"SELECT count(*) FROM public.{table}").fetchone()[0]  # type: ignore[index]
            heap = conn.execute("SELECT pg_table_size(%s)", (f"public.{table}",)).fetchone()[0]  # type: ignore[index]
            indexes = conn.execute(
                "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                "WHERE indrelid = %s::regclass ORDER BY 2 DESC",
                (f"public.{table}",),
            ).fetchall()
            out.append((table, rows, heap, [(n.removeprefix("public."), b) for n, b in indexes]))
    return out


# -- 4. retention under load ---------------------------------------------------------------------


@contextmanager
def writers(url: str, jobs: list[uuid.UUID]) -> Iterator[list[tuple[float, float]]]:
    """Workers appending log lines to ``jobs`` (one each, back to back) while the block
    runs; yields the (start time, latency) of every append. lock_timeout 100 ms: an append
    that waits on a lock longer fails, and the benchmark says so."""
    samples: list[tuple[float, float]] = []
    stop, errors = threading.Event(), []

    def write(job: uuid.UUID) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '100ms'")
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    with conn.transaction():
                        conn.execute(PRELUDE, SERVICE)
                        conn.execute(
                            "SELECT public.append_job_log(%s, 'frame rendered', 'info', "
                            "'RENDERING', '{\"frame\": 1}')",
                            (job,),
                        )
                except psycopg.errors.LockNotAvailable as exc:
                    errors.append(exc)
                samples.append((start, time.perf_counter() - start))

    threads = [threading.Thread(target=write, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    try:
        yield samples
    finally:
        stop.set()
        for t in threads:
            t.join()
        if errors:
            print(f"   !! {len(errors)} appends waited on a lock for over 100 ms")


def load_logs(url: str, lines: int, per_job: int, days_ago: int) -> list[uuid.UUID]:
    """``lines`` log lines of jobs that finished ``days_ago`` days ago (``per_job`` each),
    and 4 running jobs for the workers; returns the running jobs."""
    with psycopg.connect(url, autocommit=True) as conn:
        user = uuid.uuid4()
        conn.execute("INSERT INTO auth.users (id) VALUES (%s)", (user,))
        project = conn.execute(
            "INSERT INTO public.projects (user_id, title, prompt_text, niche_preset) "
            "VALUES (%s, 't', 'p', 'facts') RETURNING id",
            (user,),
        ).fetchone()[0]  # type: ignore[index]
        running = [
            conn.execute(
                "INSERT INTO public.jobs (project_id, user_id) VALUES (%s, %s) RETURNING id",
                (project, user),
            ).fetchone()[0]  # type: ignore[index]
            for _ in range(4)
        ]
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "CREATE TEMP TABLE old AS SELECT g AS n, gen_random_uuid() AS id "
            "FROM generate_series(0, %s - 1) AS g",
            (lines // per_job,),
        )
        conn.execute("CREATE INDEX ON old (n)")
        conn.execute(
            "INSERT INTO public.jobs (id, project_id, user_id, status, credit_state, finished_at) "
            "SELECT id, %s, %s, 'READY', 'settled', now() - make_interval(days => %s) FROM old",
            (project, user, days_ago),
        )
        start = time.perf_counter()
        conn.execute(
            "INSERT INTO public.job_logs (job_id, line_no, step_name, level, message, data, "
            "created_at) SELECT o.id, 1 + g %% %s, 'RENDERING', 'info', "
            "'frame ' || g || ' rendered in 41 ms', "
            "jsonb_build_object('frame', g), now() - make_interval(days => %s + 1) "
            "FROM generate_series(0, %s - 1) AS g JOIN old AS o ON o.n = g / %s",
            (per_job, days_ago, lines, per_job),
        )
        conn.execute("RESET session_replication_role")
        conn.execute("VACUUM ANALYZE public.job_logs")
        conn.execute("VACUUM ANALYZE public.jobs")
        say(f"job_logs: {lines:,} lines in {time.perf_counter() - start:.0f} s")
    return running


def wal(conn: psycopg.Connection[Any]) -> str:
    return str(conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0])  # type: ignore[index]


def wal_since(conn: psycopg.Connection[Any], lsn: str) -> int:
    return int(
        conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn,)).fetchone()[0]  # type: ignore[index]
    )


def bench_retention(url: str, lines: int) -> dict[str, Any]:
    jobs = load_logs(url, lines, 1000, 40)
    result: dict[str, Any] = {"lines": lines, "sizes": sizes(url, ["job_logs"])}
    with psycopg.connect(url, autocommit=True) as conn, writers(url, jobs) as samples:
        time.sleep(3)
        start, lsn, deleted, calls = time.perf_counter(), wal(conn), 0, 0
        while True:
            with conn.transaction():
                conn.execute(PRELUDE, SERVICE)
                n = conn.execute("SELECT public.prune_job_logs(NULL, 10000)").fetchone()[0]  # type: ignore[index]
            deleted, calls = deleted + n, calls + 1
            if n < 10000:
                break
        end = time.perf_counter()
        result |= {"deleted": deleted, "seconds": end - start, "calls": calls,
                   "wal": wal_since(conn, lsn)}  # fmt: skip
        time.sleep(1)
    before = [lat for t, lat in samples if t < start]
    during = [lat for t, lat in samples if start <= t < end]
    result["before"], result["during"] = before, during
    return result


def bench_partitions(url: str, days: int, per_day: int, rounds: int) -> dict[str, float]:
    """The same lines (``days`` days of ``per_day``) in one table and in daily partitions:
    a job's first 100 lines read from each; a day removed by DELETE and by DROP."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "job_id uuid NOT NULL, level text NOT NULL, message text NOT NULL, data jsonb, "
            "created_at timestamptz NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE bench_part (id bigint GENERATED ALWAYS AS IDENTITY, job_id uuid NOT NULL, "
            "level text NOT NULL, message text NOT NULL, data jsonb, created_at timestamptz NOT "
            "NULL, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at)"
        )
        for d in range(days):
            conn.execute(
                f"CREATE TABLE bench_part_{d} PARTITION OF bench_part FOR VALUES FROM "
                f"(timestamptz '2026-01-01' + interval '{d} days') TO "
                f"(timestamptz '2026-01-01' + interval '{d + 1} days')"
            )
        for table in ("bench_plain", "bench_part"):
            conn.execute(f"CREATE INDEX ON {table} (job_id, id)")
            conn.execute(
                f"INSERT INTO {table} (job_id, level, message, data, created_at) "
                "SELECT j.id, 'info', 'frame ' || g || ' rendered in 41 ms', "
                "jsonb_build_object('frame', g), timestamptz '2026-01-01' + "
                "make_interval(secs => d * 86400 + g) FROM generate_series(0, %s - 1) AS d, "
                "LATERAL (SELECT md5(d || '/' || k)::uuid AS id FROM generate_series(1, %s / 100) AS k) AS j, "
                "generate_series(1, 100) AS g",
                (days, per_day),
            )
            conn.execute(f"VACUUM ANALYZE {table}")
        job = conn.execute("SELECT job_id FROM bench_plain ORDER BY id DESC LIMIT 1").fetchone()[0]  # type: ignore[index]
        read = "SELECT * FROM {} WHERE job_id = %s ORDER BY id LIMIT 100"
        reads: dict[str, list[float]] = {"plain": [], "part": []}
        for _ in range(rounds):
            m = paired_medians(
                {
                    "plain": lambda: conn.execute(read.format("bench_plain"), (job,)).fetchall(),
                    "part": lambda: conn.execute(read.format("bench_part"), (job,)).fetchall(),
                },
                300,
            )
            for k, v in m.items():
                reads[k].append(v)
        lsn, start = wal(conn), time.perf_counter()
        conn.execute(
            "DELETE FROM bench_plain WHERE created_at < timestamptz '2026-01-01' + interval '1 day'"
        )
        delete_s, delete_wal = time.perf_counter() - start, wal_since(conn, lsn)
        lsn, start = wal(conn), time.perf_counter()
        conn.execute("DROP TABLE bench_part_0")
        drop_s, drop_wal = time.perf_counter() - start, wal_since(conn, lsn)
        conn.execute("DROP TABLE bench_plain, bench_part")
    return {
        "read_plain": statistics.median(reads["plain"]),
        "read_part": statistics.median(reads["part"]),
        "delete_s": delete_s, "delete_wal": delete_wal, "drop_s": drop_s, "drop_wal": drop_wal,
    }  # fmt: skip


# -- 5. update patterns: HOT, fillfactor ---------------------------------------------------------


def flushed_stats(conn: psycopg.Connection[Any], table: str) -> tuple[int, int]:
    conn.execute("SELECT pg_stat_force_next_flush()")
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s", (table,)
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def service_sql(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> Any:
    with conn.transaction():
        conn.execute(PRELUDE, SERVICE)
        return conn.execute(sql, params).fetchall()


def bench_credit_updates(url: str, fillfactor: int, users: int) -> dict[str, Any]:
    """Credit moves on freshly packed pages (VACUUM FULL), each grant its own transaction:
    one grant to each of ``users`` users, with nothing else running, then again while a
    long transaction holds a snapshot (a report, a backup, a replica's feedback: no dead
    row version can be pruned meanwhile); then 3 x 2,000 grants to one user."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE public.credit_balances SET (fillfactor = {fillfactor})")
        ids = [r[0] for r in conn.execute("SELECT id FROM auth.users LIMIT %s", (users,))]
        result: dict[str, Any] = {}
        for label in ("spread", "snapshot"):
            conn.execute("VACUUM FULL public.credit_balances")
            conn.execute("VACUUM ANALYZE public.credit_balances")
            snapshot = psycopg.connect(url, autocommit=True)
            if label == "snapshot":
                snapshot.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                snapshot.execute("SELECT count(*) FROM public.credit_balances")
            upd0, hot0 = flushed_stats(conn, "credit_balances")
            start = time.perf_counter()
            for user in ids:
                service_sql(conn, "SELECT public.grant_credits(%s, 1)", (user,))
            result[f"{label}_s"] = time.perf_counter() - start
            upd1, hot1 = flushed_stats(conn, "credit_balances")
            result[f"{label}_hot"] = (hot1 - hot0) / max(upd1 - upd0, 1)
            snapshot.close()
        batches = []
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(2000):
                service_sql(conn, "SELECT public.grant_credits(%s, 1)", (ids[0],))
            batches.append(time.perf_counter() - start)
        upd2, hot2 = flushed_stats(conn, "credit_balances")
    return result | {"batches": batches, "one_hot": (hot2 - hot1) / max(upd2 - upd1, 1)}


def bench_job_updates(url: str, fillfactor: int, jobs: int) -> dict[str, Any]:
    """``jobs`` jobs claimed and run through the 8 stages by one worker, interleaved (each
    stage: start, 5 progress updates, complete; every call under the lease), then finished."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE public.job_steps SET (fillfactor = {fillfactor})")
        users = [uuid.uuid4() for _ in range(jobs)]
        conn.execute("INSERT INTO auth.users (id) SELECT unnest(%s::uuid[])", (users,))
        conn.execute(
            "INSERT INTO public.projects (user_id, title, prompt_text, niche_preset) "
            "SELECT unnest(%s::uuid[]), 't', 'p', 'facts'",
            (users,),
        )
        worker = uuid.uuid4()
        service_sql(conn, "SELECT public.register_worker(%s, 'bench')", (worker,))
        service_sql(
            conn,
            "WITH j AS (INSERT INTO public.jobs (project_id, user_id) SELECT id, user_id "
            "FROM public.projects WHERE user_id = ANY(%s) RETURNING id) "
            "SELECT count(public.queue_job(j.id, 5)) FROM j",
            (users,),
        )
        claimed = 0
        while claimed < jobs:
            claimed += len(
                service_sql(
                    conn, "SELECT id FROM public.claim_jobs(%s, 100, 600, NULL, 100)", (worker,)
                )
            )
        held = "FROM public.jobs AS j WHERE j.worker_id = %s"
        j0, s0 = flushed_stats(conn, "jobs"), flushed_stats(conn, "job_steps")
        start = time.perf_counter()
        for stage in STAGES:
            service_sql(
                conn,
                f"SELECT count(public.start_job_step(j.id, %s, NULL, j.lease_token)) {held}",
                (stage, worker),
            )
            for pct in (20, 40, 60, 80, 90):
                service_sql(
                    conn,
                    f"SELECT count(public.update_job_step(j.id, %s, %s, 'working', j.lease_token)) {held}",
                    (stage, pct, worker),
                )
            service_sql(
                conn,
                f"SELECT count(public.complete_job_step(j.id, %s, NULL, NULL, j.lease_token)) {held}",
                (stage, worker),
            )
        service_sql(
            conn,
            f"SELECT count(public.finish_job(j.id, 'https://cdn/x.mp4', NULL, NULL, j.lease_token)) {held}",
            (worker,),
        )
        seconds = time.perf_counter() - start
        j1, s1 = flushed_stats(conn, "jobs"), flushed_stats(conn, "job_steps")
        conn.execute("DELETE FROM public.jobs WHERE status = 'READY'")
    return {
        "jobs_hot": (j1[1] - j0[1]) / max(j1[0] - j0[0], 1), "jobs_upd": j1[0] - j0[0],
        "steps_hot": (s1[1] - s0[1]) / max(s1[0] - s0[0], 1), "steps_upd": s1[0] - s0[0],
        "seconds": seconds,
    }  # fmt: skip


# -- the run -------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--rows", type=int, default=3_000_000, help="rows per big table")
    parser.add_argument("--depth", type=int, default=300_000)
    parser.add_argument("--log-lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians")
    parser.add_argument("--only", default="lists,hot,sizes,retention,vacuum")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    started = time.perf_counter()
    print(
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {args.rounds} interleaved "
        f"rounds, medians; {args.rows:,} rows per big table"
    )
    with ExitStack() as stack:
        if parts & {"lists", "hot", "sizes"}:
            big = load(
                stack.enter_context(bench_database(args.database_url)), args.rows, args.depth
            )
            with psycopg.connect(big.url) as conn:
                print(f"PostgreSQL {conn.execute('SHOW server_version').fetchone()[0]}")  # type: ignore[index]
        if "lists" in parts:
            report_lists(bench_lists(big, args.depth, args.rounds), args.depth)
        if "hot" in parts:
            small = load(stack.enter_context(bench_database(args.database_url)), 10_000, 0)
            report_hot(bench_hot(big, small, args.rounds), args.rows)
        if "sizes" in parts:
            report_sizes(sizes(big.url, TABLES[:-1]))
        stack.close()
        if "retention" in parts:
            with bench_database(args.database_url) as url:
                r = bench_retention(url, args.log_lines)
                p = bench_partitions(url, 30, 50_000, args.rounds)
            report_sizes(r["sizes"])
            report_retention(r, p)
        if "vacuum" in parts:
            with bench_database(args.database_url) as url:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(
                        "INSERT INTO auth.users (id) SELECT gen_random_uuid() FROM generate_series(1, 20000)"
                    )
                credits = {ff: bench_credit_updates(url, ff, 5_000) for ff in (100, 70)}
                jobs = {ff: bench_job_updates(url, ff, 300) for ff in (100, 80)}
            report_vacuum(credits, jobs)
    print(
        f"\n(run: {time.perf_counter() - started:.0f} s, load average now {os.getloadavg()[0]:.2f})"
    )


def report_lists(rows: list[tuple[str, float, float, str]], depth: int) -> None:
    print(f"\n1. Lists: the page at depth {depth:,} over the first page (target <= 1.5)")
    for key, first, deep, plan in rows:
        print(
            f"   {key:<34} first {ms(first):>10}   deep {ms(deep):>10}   ratio {deep / first:5.2f}"
        )
        print(f"      {plan}")


def report_hot(r: dict[str, tuple[float, float]], rows: int) -> None:
    print(
        f"\n2. Hot queries of a typical user, {rows:,} rows per table over 10,000 (target <= 1.5)"
    )
    for key, (big, small) in r.items():
        print(f"   {key:<16} {ms(big):>10}   {ms(small):>10}   ratio {big / small:5.2f}")


def report_sizes(rows: list[tuple[str, int, int, list[tuple[str, int]]]]) -> None:
    print("\n3. Bytes per row (heap incl. TOAST; each index)")
    for table, n, heap, indexes in rows:
        total = sum(b for _, b in indexes)
        print(
            f"   {table:<16} {n:>11,} rows  heap {heap / n:7.1f} B/row  indexes {total / n:7.1f} B/row"
        )
        for name, b in indexes:
            print(f"      {name:<36} {b / n:7.1f} B/row")


def report_retention(r: dict[str, Any], p: dict[str, float]) -> None:
    print(f"\n4. Retention: prune_job_logs deleting {r['lines']:,} lines, 4 workers appending")
    print(
        f"   deleted {r['deleted']:,} in {r['seconds']:.1f} s ({r['deleted'] / r['seconds']:,.0f} lines/s, "
        f"{r['calls']} calls of 10,000), WAL {r['wal'] / 2**20:.0f} MB"
    )
    for label, lat in (("before", r["before"]), ("during", r["during"])):
        print(
            f"   appends {label:<6}: {len(lat):>6} calls  median {ms(statistics.median(lat))}  "
            f"p99 {ms(pct(lat, 0.99))}  max {ms(max(lat))}  (target: max < 100 ms)"
        )
    print("   partitioning (30 days of 50,000 lines: plain table vs daily partitions):")
    print(
        f"   a job's first 100 lines: plain {ms(p['read_plain'])}  partitioned {ms(p['read_part'])}"
        f"  ratio {p['read_part'] / p['read_plain']:.2f}"
    )
    print(
        f"   removing a day (50,000 lines): DELETE {p['delete_s'] * 1e3:.0f} ms, WAL "
        f"{p['delete_wal'] / 2**20:.1f} MB;  DROP partition {p['drop_s'] * 1e3:.0f} ms, WAL "
        f"{p['drop_wal'] / 2**10:.0f} kB"
    )


def report_vacuum(credits: dict[int, dict[str, Any]], jobs: dict[int, dict[str, Any]]) -> None:
    print("\n5. Update patterns: HOT updates by fillfactor")
    for ff, c in credits.items():
        batches = ", ".join(f"{b:.2f}" for b in c["batches"])
        print(
            f"   credit_balances fillfactor {ff:>3}: a grant to each of 5,000 users: "
            f"{c['spread_hot']:4.0%} HOT ({c['spread_s']:.2f} s); the same under a held snapshot: "
            f"{c['snapshot_hot']:4.0%} HOT ({c['snapshot_s']:.2f} s); 3 x 2,000 grants to one "
            f"user: {batches} s ({c['one_hot']:.0%} HOT)"
        )
    for ff, j in jobs.items():
        print(
            f"   job_steps fillfactor {ff:>3}: 300 jobs x 8 stages: job_steps {j['steps_hot']:4.0%} HOT "
            f"of {j['steps_upd']:,} updates; jobs {j['jobs_hot']:4.0%} HOT of {j['jobs_upd']:,}; "
            f"{j['seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
