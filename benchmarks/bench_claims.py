"""Claim benchmark: the worker fleet's claim_jobs against the bare claim, side by side.

    python benchmarks/bench_claims.py [--database-url URL] [--rounds 3]

Prints:
  1. claims per second with 1, 4 and 16 concurrent claimers on 10,000 queued jobs (of
     1,000 users), in chunks of 1,000 claims, bare and claim_jobs alternating, the queue
     refilled after each pair (it never runs dry, so no claim comes back empty): public.claim_jobs (as the service role: worker check, retry probe,
     expired-lease probe, per-user cap, lease and fencing token) over the bare claim on
     the same table, one statement run as the table owner:
        UPDATE jobs SET worker_id, lease_token, lease_expires_at
         WHERE id = (SELECT id ... FOR UPDATE SKIP LOCKED LIMIT 1)
     (target >= 70%);
  2. the time of one claim with 1,000,000 finished jobs in the table over 1,000 (two
     databases, measured in turn; target <= 1.5).
Each claim is its own transaction (autocommit), committed as a worker's would be. Without
--database-url (or DATABASE_URL, a superuser URL) it uses an embedded PostgreSQL; throwaway
databases are created and dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid

import psycopg
from benchlib import bench_database, paired_medians

QUEUED = 10_000
USERS = 1_000
CLAIMERS = (1, 4, 16)

CLAIM = "SELECT id FROM public.claim_jobs(%s, 1, 120, NULL, 1000)"
BARE = (
    "UPDATE public.jobs SET worker_id = %s, lease_token = 1, "
    "lease_expires_at = now() + interval '2 minutes' "
    "WHERE id = (SELECT id FROM public.jobs WHERE status = 'QUEUED' AND worker_id IS NULL "
    "ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
)


def load(url: str, queued: int, finished: int) -> list[uuid.UUID]:
    """``queued`` queued jobs of USERS users (and ``finished`` READY jobs), bulk-loaded as
    the superuser; returns the ids of 16 registered workers."""
    with psycopg.connect(url, autocommit=True) as conn:
        print(f"  loading {queued:,} queued and {finished:,} finished jobs ...", file=sys.stderr)
        conn.execute(
            "INSERT INTO auth.users (id) SELECT gen_random_uuid() FROM generate_series(1, %s)",
            (USERS,),
        )
        conn.execute(
            "INSERT INTO public.projects (user_id, title, prompt_text, niche_preset) "
            "SELECT id, 'b', 'b', 'facts' FROM auth.users"
        )
        conn.execute(
            "CREATE TEMP TABLE p AS SELECT row_number() OVER () AS n, id, user_id "
            "FROM public.projects"
        )
        conn.execute(
            "INSERT INTO public.jobs (project_id, user_id, status, credit_state, "
            "cost_credits_reserved, queued_at) "
            "SELECT p.id, p.user_id, 'QUEUED', 'reserved', 1, now() + i * interval '1 ms' "
            "FROM generate_series(1, %s) AS i JOIN p ON p.n = 1 + i %% %s",
            (queued, USERS),
        )
        conn.execute(
            "INSERT INTO public.jobs (project_id, user_id, status, credit_state, "
            "cost_credits_reserved, cost_credits_final, queued_at, started_at, finished_at) "
            "SELECT p.id, p.user_id, 'READY', 'settled', 1, 1, now(), now(), now() "
            "FROM generate_series(1, %s) AS i JOIN p ON p.n = 1 + i %% %s",
            (finished, USERS),
        )
        workers = [uuid.uuid4() for _ in range(16)]
        for w in workers:
            conn.execute("INSERT INTO public.workers (id, name) VALUES (%s, 'bench')", (w,))
        conn.execute("VACUUM ANALYZE public.jobs")
    return workers


def unclaim(url: str) -> None:
    """Put every claimed job back in the queue (between runs)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE public.jobs SET worker_id = NULL, lease_token = NULL, lease_expires_at = NULL, "
            "claim_id = NULL, attempt = 0 WHERE worker_id IS NOT NULL"
        )
        conn.execute("VACUUM ANALYZE public.jobs")


CLAIMS_PER_RUN = 1_000  # per chunk; bare and ours alternate, chunk by chunk
CHUNKS = 5  # pairs of chunks per round


def claims_time(
    url: str, clients: int, sql: str, workers: list[uuid.UUID], role: str | None
) -> float:
    """``clients`` threads claim one job at a time until CLAIMS_PER_RUN jobs are taken
    between them; the seconds that took."""
    conns = [psycopg.connect(url, autocommit=True) for _ in range(clients)]
    if role:
        for c in conns:
            c.execute(f"SET ROLE {role}")
    taken = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(k: int) -> None:
        barrier.wait()
        while True:
            with lock:
                if taken[0] >= CLAIMS_PER_RUN:
                    return
                taken[0] += 1
            if not conns[k].execute(sql, (workers[k],)).fetchall():
                raise RuntimeError("the queue ran dry: the run would measure empty claims")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for c in conns:
        c.close()
    return elapsed


def bench_throughput(url: str, rounds: int) -> dict[str, float]:
    """Claims per second of each kind: per round and number of claimers, CHUNKS pairs of
    a bare chunk and a claim_jobs chunk, one after the other (so that the machine's speed
    changes alike for both), the queue refilled after each pair."""
    workers = load(url, QUEUED, 0)
    results: dict[str, list[float]] = {}
    for _ in range(rounds):
        for n in CLAIMERS:
            spent = {"bare": 0.0, "ours": 0.0}
            for _ in range(CHUNKS):
                spent["bare"] += claims_time(url, n, BARE, workers, None)
                spent["ours"] += claims_time(url, n, CLAIM, workers, "service_role")
                unclaim(url)
            for kind, seconds in spent.items():
                results.setdefault(f"{kind}{n}", []).append(CHUNKS * CLAIMS_PER_RUN / seconds)
    return {k: statistics.median(v) for k, v in results.items()}


def bench_table_size(server: str | None, rounds: int) -> dict[str, float]:
    """One claim's time with 1,000,000 finished jobs in the table, over 1,000."""
    with bench_database(server) as small_url, bench_database(server) as big_url:
        small_workers = load(small_url, 2_000, 1_000)
        big_workers = load(big_url, 2_000, 1_000_000)
        with (
            psycopg.connect(small_url, autocommit=True) as small,
            psycopg.connect(big_url, autocommit=True) as big,
        ):
            for conn in (small, big):
                conn.execute("SET ROLE service_role")
            medians: dict[str, list[float]] = {"small": [], "big": []}
            for _ in range(rounds):
                result = paired_medians(
                    {
                        "small": lambda: small.execute(CLAIM, (small_workers[0],)).fetchall(),
                        "big": lambda: big.execute(CLAIM, (big_workers[0],)).fetchall(),
                    },
                    500,
                )
                for key, value in result.items():
                    medians[key].append(value)
    return {k: statistics.median(v) for k, v in medians.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians")
    parser.add_argument("--only", choices=["throughput", "size"], help="run one part only")
    args = parser.parse_args()

    with bench_database(args.database_url) as url:
        with psycopg.connect(url) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        print(
            f"PostgreSQL {version[0] if version else '?'}, {os.cpu_count()} cores; "
            f"{args.rounds} interleaved rounds, medians"
        )
        if args.only in (None, "throughput"):
            report_throughput(bench_throughput(url, args.rounds))
    if args.only in (None, "size"):
        report_size(bench_table_size(args.database_url, args.rounds))


def report_throughput(r: dict[str, float]) -> None:
    print(f"\n1. Claims per second on {QUEUED:,} queued jobs of {USERS:,} users")
    print(
        f"   {'claimers':>8}  {'claim_jobs':>11}  {'bare claim':>11}  {'ratio':>6}  (target >= 0.70)"
    )
    for n in CLAIMERS:
        ours, bare = r[f"ours{n}"], r[f"bare{n}"]
        print(f"   {n:>8}  {ours:>11,.0f}  {bare:>11,.0f}  {ours / bare:>6.2f}")


def report_size(r: dict[str, float]) -> None:
    print("\n2. One claim, 1,000,000 finished jobs in the table over 1,000")
    print(
        f"   1,000,000: {r['big'] * 1e3:.3f} ms   1,000: {r['small'] * 1e3:.3f} ms   "
        f"ratio {r['big'] / r['small']:.2f}  (target <= 1.5)"
    )


if __name__ == "__main__":
    main()
