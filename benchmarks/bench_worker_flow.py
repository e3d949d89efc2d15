"""Worker flow benchmark: one job from creation to READY, the way the SDK does it now
against the way it did before fewer round trips, and against the same SQL over psycopg.

    python benchmarks/bench_worker_flow.py [--database-url URL] [--jobs 40] [--rounds 3]
                                           [--seconds 5] [--gateway-workers 2]

A job's flow: create and queue it (reserving credits), eight stages each started, given
progress once and completed, then finished (settling the credits).

* before: ``jobs.create`` + ``jobs.queue``, and per stage ``job_steps.start``,
  ``job_steps.update`` and ``job_steps.complete`` (what ``db.jobs.step`` sent), then
  ``jobs.finish``: 27 requests;
* now: ``jobs.create_and_queue``, ``db.jobs.step`` per stage (its progress coalesced into
  the completion, each completion sent with the next start), ``jobs.finish`` (with the last
  completion): 10 requests;
* psycopg: the same SQL functions as ``now``, each call its own PostgREST-style
  transaction (prelude as the service role) on one connection: the floor, with no HTTP.

Prints requests per job (counted at the transport), the median wall time of a job for
each (one worker, ``--jobs`` jobs per round, rounds interleaved), and jobs per second with
1, 4 and 16 worker threads running ``now`` at once. The gateway runs in its own processes
(``--gateway-workers``), the clients in this one. Without --database-url (or DATABASE_URL,
a superuser URL) it uses an embedded PostgreSQL; throwaway databases are created and
dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
from benchlib import bench_database

from vidgen_db import ServiceDB, VidgenDB
from vidgen_db.local._postgrest import PRELUDE, prelude_params
from vidgen_db.models import JobInsert
from vidgen_db.testing import LocalStack

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
OUTPUT = "https://cdn.example.com/out.mp4"
USERS = 64


class Counting(httpx.BaseTransport):
    """The real transport, counting what is sent."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.sent += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def load(url: str) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """USERS users with plenty of credits and a project each: (user, project) pairs."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO auth.users (id) SELECT gen_random_uuid() FROM generate_series(1, %s)",
            (USERS,),
        )
        conn.execute("SELECT public.grant_credits(id, 1000000, 'bench') FROM auth.users")
        conn.execute(
            "INSERT INTO public.projects (user_id, title, prompt_text, niche_preset) "
            "SELECT id, 'b', 'b', 'facts' FROM auth.users"
        )
        rows = conn.execute("SELECT user_id, id FROM public.projects").fetchall()
    return [(r[0], r[1]) for r in rows]


def flow_before(db: ServiceDB, user: uuid.UUID, project: uuid.UUID) -> None:
    job = db.jobs.create(JobInsert(project_id=project, user_id=user))
    db.jobs.queue(job.id, 5)
    for stage in STAGES:
        db.job_steps.start(job.id, stage)
        db.job_steps.update(job.id, stage, 50, message=f"{stage.lower()} half done")
        db.job_steps.complete(job.id, stage)
    db.jobs.finish(job.id, OUTPUT)


def flow_now(db: ServiceDB, user: uuid.UUID, project: uuid.UUID) -> None:
    job = db.jobs.create_and_queue(JobInsert(project_id=project, user_id=user), credits=5)
    for stage in STAGES:
        with db.jobs.step(job.id, stage) as step:
            step.progress(50, f"{stage.lower()} half done")
    db.jobs.finish(job.id, OUTPUT)


def flow_sql(conn: psycopg.Connection[Any], user: uuid.UUID, project: uuid.UUID) -> None:
    params = prelude_params("service_role", {"role": "service_role"})

    def call(sql: str, args: tuple[Any, ...]) -> None:
        with conn.transaction():
            conn.execute(PRELUDE, params)
            conn.execute(sql, args).fetchall()

    job = uuid.uuid4()
    call("SELECT * FROM public.create_and_queue_job(%s, %s, %s, 5)", (job, project, user))
    previous = None
    for stage in STAGES:
        call(
            "SELECT * FROM public.next_job_step(%s, %s, %s, NULL, %s)",
            (job, stage, previous, f"{previous.lower()} half done" if previous else None),
        )
        previous = stage
    call("SELECT * FROM public.finish_job(%s, %s, p_step_name => %s)", (job, OUTPUT, previous))


def requests_per_job(stack: LocalStack, pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> None:
    for name, flow in (("before", flow_before), ("now", flow_now)):
        counting = Counting()
        with VidgenDB.service(stack.url, stack.service_key, transport=counting) as db:
            flow(db, *pairs[0])
        print(f"  requests per job, {name}: {counting.sent}")


def wall_times(
    stack: LocalStack, url: str, pairs: list[tuple[uuid.UUID, uuid.UUID]], jobs: int, rounds: int
) -> dict[str, float]:
    samples: dict[str, list[float]] = {"before": [], "now": [], "psycopg": []}
    with (
        VidgenDB.service(stack.url, stack.service_key) as db,
        psycopg.connect(url, autocommit=True) as conn,
    ):
        runs: dict[str, Callable[[uuid.UUID, uuid.UUID], None]] = {
            "before": lambda u, p: flow_before(db, u, p),
            "now": lambda u, p: flow_now(db, u, p),
            "psycopg": lambda u, p: flow_sql(conn, u, p),
        }
        for run in runs.values():  # warm up: connections, prepared statements
            run(*pairs[0])
        for _ in range(rounds):
            for i in range(jobs):
                for name, run in runs.items():
                    start = time.perf_counter()
                    run(*pairs[i % len(pairs)])
                    samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def throughput(
    stack: LocalStack, pairs: list[tuple[uuid.UUID, uuid.UUID]], workers: int, seconds: float
) -> float:
    done = [0] * workers
    stop = threading.Event()
    barrier = threading.Barrier(workers + 1)

    def worker(index: int) -> None:
        with VidgenDB.service(stack.url, stack.service_key) as db:
            barrier.wait()
            i = index
            while not stop.is_set():
                flow_now(db, *pairs[i % len(pairs)])
                done[index] += 1
                i += workers

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--gateway-workers", type=int, default=2)
    args = parser.parse_args()
    with bench_database(args.database_url) as url:
        pairs = load(url)
        with LocalStack(database_url=url, migrate=False, workers=args.gateway_workers) as stack:
            print("worker flow (one job: create and queue, 8 stages, finish)")
            requests_per_job(stack, pairs)
            times = wall_times(stack, url, pairs, args.jobs, args.rounds)
            print(
                f"  wall time per job: before {times['before'] * 1000:.1f} ms, "
                f"now {times['now'] * 1000:.1f} ms, psycopg {times['psycopg'] * 1000:.1f} ms"
            )
            print(f"  now / before: {times['now'] / times['before']:.2f}")
            print(f"  now / psycopg: {times['now'] / times['psycopg']:.2f}")
            for workers in (1, 4, 16):
                rate = throughput(stack, pairs, workers, args.seconds)
                print(f"  jobs per second, {workers:>2} workers: {rate:.1f}", flush=True)
    print("done", file=sys.stderr)


if __name__ == "__main__":
    main()
