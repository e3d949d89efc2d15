"""Client CPU benchmark: the SDK against raw postgrest-py, side by side, no network.

    python benchmarks/bench_client.py [--rounds 5]

Prints, each as a ratio over the raw equivalent measured in the same run:
  1. get (1 row) and list (1, 100, 1,000 rows) through the SDK, with full validation into
     the models, over raw postgrest-py (select + execute, the JSON parsed) on the same
     in-memory transport (target for 1,000 rows: at most 1.5);
  2. as_user (a user client per request, sharing the pool) over a bare postgrest client on
     a shared pool, with one token reused (a user's requests) and with a new token each
     time (target at most 3);
  3. for_user (a client with a pool of its own) for an http and an https URL, over a bare
     httpx client.
Times are the best of interleaved rounds (CPU time of a single thread, no I/O).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from postgrest import SyncPostgrestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from jwts import anon_key, service_key, user_token
from test_repos_clients import job_row
from vidgen_db import VidgenDB

URL = "http://127.0.0.1:9"


def best(fn: Callable[[], object], number: int, rounds: int) -> float:
    """Seconds per call: the best of ``rounds`` runs of ``number`` calls."""
    times = []
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(number):
            fn()
        times.append((time.thread_time() - start) / number)
    return min(times)


def pairs(calls: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Each call's best time, measured in turn round after round (drift hits all alike)."""
    results: dict[str, list[float]] = {k: [] for k in calls}
    for _ in range(rounds):
        for key, (fn, number) in calls.items():
            results[key].append(best(fn, number, 1))
    return {k: min(v) for k, v in results.items()}


def transport_of(body: bytes) -> httpx.MockTransport:
    headers = {"content-type": "application/json; charset=utf-8"}
    return httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))


def list_raw(raw: SyncPostgrestClient) -> object:
    return raw.table("jobs").select("*").order("created_at", desc=True).execute()


def bench_reads(rounds: int) -> dict[str, float]:
    key = service_key()
    results: dict[str, float] = {}
    for n in (1, 100, 1000):
        body = json.dumps([job_row(id=str(uuid.uuid4())) for _ in range(n + 1)]).encode()
        raw = SyncPostgrestClient(
            f"{URL}/rest/v1",
            headers={"apikey": key, "Authorization": f"Bearer {key}"},
            http_client=httpx.Client(transport=transport_of(body)),
        )
        db = VidgenDB.service(URL, key, transport=transport_of(body))
        number = {1: 2000, 100: 200, 1000: 30}[n]
        measured = pairs(
            {
                "raw": (
                    functools.partial(list_raw, raw),
                    number,
                ),
                "ours": (functools.partial(db.jobs.list, limit=n), number),
            },
            rounds,
        )
        results[f"list{n}"], results[f"list{n}_raw"] = measured["ours"], measured["raw"]
    one = json.dumps(job_row()).encode()
    raw = SyncPostgrestClient(
        f"{URL}/rest/v1",
        headers={"apikey": key, "Authorization": f"Bearer {key}"},
        http_client=httpx.Client(transport=transport_of(one)),
    )
    db = VidgenDB.service(URL, key, transport=transport_of(one))
    job = uuid.UUID(job_row()["id"])
    measured = pairs(
        {
            "raw": (
                lambda: raw.table("jobs").select("*").eq("id", str(job)).single().execute(),
                2000,
            ),
            "ours": (lambda: db.jobs.get(job), 2000),
        },
        rounds,
    )
    results["get"], results["get_raw"] = measured["ours"], measured["raw"]
    return results


def bench_construction(rounds: int) -> dict[str, float]:
    anon = anon_key()
    app = VidgenDB.anonymous(URL, anon)
    shared = httpx.Client()
    token = user_token(uuid.uuid4())
    fresh = [user_token(uuid.uuid4()) for _ in range(3000 * rounds)]
    tokens = iter(fresh)
    headers = {"apikey": anon, "Authorization": f"Bearer {token}"}
    measured = pairs(
        {
            "bare": (
                lambda: SyncPostgrestClient(f"{URL}/rest/v1", headers=headers, http_client=shared),
                2000,
            ),
            "as_user": (lambda: app.as_user(token), 2000),
            "as_user_fresh": (lambda: app.as_user(next(tokens)), 2000),
            "httpx": (lambda: httpx.Client().close(), 50),
            "for_user_http": (lambda: VidgenDB.for_user(URL, anon, token).close(), 50),
            "for_user_https": (
                lambda: VidgenDB.for_user("https://ref.supabase.co", anon, token).close(),
                50,
            ),
        },
        rounds,
    )
    return measured


def report(reads: dict[str, float], made: dict[str, float]) -> None:
    print("1. Client CPU per call, SDK (validated models) over raw postgrest-py")
    print(f"   {'call':<12} {'SDK':>10} {'raw':>10} {'ratio':>6}")
    for key, label in (("get", "get"), ("list1", "list 1"), ("list100", "list 100"),
                       ("list1000", "list 1,000")):  # fmt: skip
        ours, raw = reads[key], reads[f"{key}_raw"]
        print(f"   {label:<12} {ours * 1e6:>8.0f}us {raw * 1e6:>8.0f}us {ours / raw:>6.2f}")
    print("   (target for list 1,000: <= 1.5)")
    bare = made["bare"]
    print("\n2. A user client per request (as_user) over a bare postgrest client, shared pool")
    print(f"   bare {bare * 1e6:.1f} us")
    for key, label in (("as_user", "same token"), ("as_user_fresh", "new token each time")):
        print(f"   as_user, {label:<20} {made[key] * 1e6:6.1f} us  ratio {made[key] / bare:.2f}")
    print("   (target <= 3)")
    print("\n3. A client with its own pool (for_user) over a bare httpx.Client")
    print(f"   httpx.Client {made['httpx'] * 1e6:.0f} us")
    for key in ("for_user_http", "for_user_https"):
        print(f"   {key:<16} {made[key] * 1e6:6.0f} us  ratio {made[key] / made['httpx']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report(bench_reads(args.rounds), bench_construction(args.rounds))


if __name__ == "__main__":
    main()
