"""What the benchmarks share: a throwaway migrated database, paired timing, PostgREST-style
requests over psycopg."""

from __future__ import annotations

import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from vidgen_db.local import temporary_embedded
from vidgen_db.local._postgrest import PRELUDE, prelude_params
from vidgen_db.migrate import Migrator, throwaway_database


@contextmanager
def bench_database(server_url: str | None) -> Iterator[str]:
    """A migrated throwaway database on ``server_url`` (a superuser URL), else on an
    embedded PostgreSQL started for the run."""
    with _server(server_url) as server, throwaway_database(server, prefix="vidgen_bench") as url:
        Migrator(url).migrate()
        yield url


@contextmanager
def _server(server_url: str | None) -> Iterator[str]:
    if server_url:
        yield server_url
        return
    print("  starting an embedded PostgreSQL ...", file=sys.stderr, flush=True)
    with temporary_embedded() as server:
        yield server.url


def paired_medians(calls: dict[str, Callable[[], None]], n: int) -> dict[str, float]:
    """Median seconds per call of each callable, calling them in turn n times (A B A B ...),
    so that drift in the machine's speed affects all of them alike."""
    samples: dict[str, list[float]] = {key: [] for key in calls}
    for _ in range(n):
        for key, fn in calls.items():
            start = time.perf_counter()
            fn()
            samples[key].append(time.perf_counter() - start)
    return {key: statistics.median(values) for key, values in samples.items()}


def as_user(
    conn: psycopg.Connection[Any], role: str, sub: uuid.UUID | None, sql: str, params: Any
) -> None:
    """One request the way PostgREST makes it: a transaction, its prelude, the query."""
    claims = {"role": role} | ({"sub": str(sub)} if sub else {})
    with conn.transaction():
        conn.execute(PRELUDE, prelude_params(role, claims))
        conn.execute(sql, params).fetchall()


def run_clients(
    url: str,
    clients: int,
    seconds: float,
    work: Callable[[int, psycopg.Connection[Any], int], None],
    role: str | None = "service_role",
) -> float:
    """Throughput (calls per second) of ``clients`` threads, each on its own autocommit
    connection (``SET ROLE role``), calling ``work(client, conn, i)`` for ``seconds``."""
    conns = [psycopg.connect(url, autocommit=True) for _ in range(clients)]
    if role:
        for c in conns:
            c.execute(f"SET ROLE {role}")
    counts = [0] * clients
    barrier = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client(index: int) -> None:
        barrier.wait()
        i = 0
        while not stop.is_set():
            work(index, conns[index], i)
            i += 1
        counts[index] = i

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for c in conns:
        c.close()
    return sum(counts) / elapsed
