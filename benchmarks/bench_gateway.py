"""Gateway throughput benchmark: the local gateway against the same transaction over psycopg.

    python benchmarks/bench_gateway.py [--database-url URL] [--seconds 3] [--rounds 3]
                                       [--clients 1,8,32] [--workers 1]

The request: a signed-in user's ``GET /rest/v1/profiles?id=eq.<id>`` (one row; row level
security applies), with an access token and an API key as supabase-py sends them.

The reference: the same transaction from Python over psycopg, as a PostgREST-style request
(``BEGIN READ ONLY``, the prelude that sets role and claims, the SELECT the gateway runs,
``COMMIT``), one connection per client, psycopg's defaults (statements prepared after five
runs).

Each point runs for ``--seconds`` with N concurrent clients (asyncio, keep-alive HTTP/1.1
connections for the gateway), gateway and psycopg in turn, for ``--rounds`` interleaved
rounds; the figures are medians. The gateway runs under uvicorn in its own process
(``--workers`` processes); the load and the psycopg clients run in this one. Without
--database-url (or DATABASE_URL, a superuser URL) it uses an embedded PostgreSQL; a
throwaway database is created and dropped. Target: gateway >= 0.5 of psycopg at 8 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

import psycopg
from benchlib import bench_database

from vidgen_db.local import make_access_token, make_api_key
from vidgen_db.local._postgrest import PRELUDE, prelude_params

_ENV_DB = "VIDGEN_BENCH_GATEWAY_DB"
_ENV_SECRET = "VIDGEN_BENCH_GATEWAY_SECRET"
_SELECT = (
    "SELECT count(*)::bigint, coalesce(json_agg(t), '[]')::text FROM "
    "(SELECT p.* FROM public.profiles AS p WHERE p.id = %s) AS t"
)


# -- the gateway, in a child process ----------------------------------------------------------


def _child(port: int, workers: int) -> None:
    """Serve the gateway until terminated (runs in the child process)."""
    import uvicorn

    from vidgen_db.local.gateway import GatewayConfig, create_app

    config = GatewayConfig.supabase(os.environ[_ENV_DB], os.environ[_ENV_SECRET])
    if workers == 1:
        uvicorn.run(
            create_app(config), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        return
    from vidgen_db.local.gateway import run_server  # (the gateway before workers had none)

    run_server(config, host="127.0.0.1", port=port, workers=workers)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gateway(url: str, secret: str, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = dict(os.environ, **{_ENV_DB: url, _ENV_SECRET: secret})
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", str(port), "--workers", str(workers)], env=env
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the gateway did not start") from None
            time.sleep(0.05)


# -- load -----------------------------------------------------------------------------------


async def _http_client(port: int, request: bytes, stop: float, counts: list[int]) -> None:
    """One keep-alive connection sending the same request back to back until ``stop``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = head[9:12]
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            if status != b"200" or not body.startswith(b'[{"id"'):
                raise RuntimeError(f"unexpected response {status!r}: {body[:200]!r}")
            counts[0] += 1
    finally:
        writer.close()


async def _psycopg_client(
    url: str, user: uuid.UUID, headers: dict[str, str], stop: float, counts: list[int]
) -> None:
    """One connection running the request's transaction back to back until ``stop``."""
    gucs = prelude_params(
        "authenticated",
        {"role": "authenticated", "sub": str(user)},
        search_path='"public", "public", "extensions"',
        method="GET",
        path="/rest/v1/profiles",
        headers=headers,
    )
    async with await psycopg.AsyncConnection.connect(url) as conn:
        while time.perf_counter() < stop:
            await conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED, READ ONLY")
            await conn.execute(PRELUDE, gucs)
            cur = await conn.execute(_SELECT, (user,))
            row = await cur.fetchone()
            await conn.execute("COMMIT")
            if row is None or row[0] != 1:
                raise RuntimeError(f"unexpected row {row!r}")
            counts[0] += 1


async def _rate(
    make: Callable[[float, list[int]], Awaitable[None]], clients: int, seconds: float
) -> float:
    """Requests per second of ``clients`` concurrent loops (a short warm-up excluded)."""
    warm = [0]
    await asyncio.gather(*(make(time.perf_counter() + 0.3, warm) for _ in range(clients)))
    counts = [0]
    start = time.perf_counter()
    await asyncio.gather(*(make(start + seconds, counts) for _ in range(clients)))
    return counts[0] / (time.perf_counter() - start)


# -- main -----------------------------------------------------------------------------------


def _setup(url: str) -> uuid.UUID:
    user = uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, 'bench@example.com')", (user,))
        conn.execute("ANALYZE")
    return user


async def measure(args: argparse.Namespace, url: str) -> None:
    user = _setup(url)
    secret = secrets.token_urlsafe(32)
    token = make_access_token(user, secret)
    apikey = make_api_key("anon", secret)
    headers = {
        "host": "127.0.0.1",
        "apikey": apikey,
        "authorization": f"Bearer {token}",
        "accept": "application/json",
        "accept-profile": "public",
    }
    request = (
        f"GET /rest/v1/profiles?select=*&id=eq.{user} HTTP/1.1\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        + "\r\n"
    ).encode()
    proc, port = start_gateway(url, secret, args.workers)
    try:
        results: dict[tuple[str, int], list[float]] = {}
        for rnd in range(args.rounds):
            for clients in args.clients:
                order = ["gateway", "psycopg"] if rnd % 2 == 0 else ["psycopg", "gateway"]
                for kind in order:
                    if kind == "gateway":

                        def make(stop: float, counts: list[int]) -> Awaitable[None]:
                            return _http_client(port, request, stop, counts)
                    else:

                        def make(stop: float, counts: list[int]) -> Awaitable[None]:
                            return _psycopg_client(url, user, headers, stop, counts)

                    rate = await _rate(make, clients, args.seconds)
                    results.setdefault((kind, clients), []).append(rate)
                    print(
                        f"  round {rnd + 1} {kind:8} {clients:3} clients: {rate:8.0f}/s",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    print(f"\nGateway (uvicorn, {args.workers} worker(s)) vs the same transaction over psycopg,")
    print(
        f"1-row GET as a signed-in user (RLS), medians of {args.rounds} rounds of "
        f"{args.seconds:g} s"
    )
    for clients in args.clients:
        gw = statistics.median(results[("gateway", clients)])
        pg = statistics.median(results[("psycopg", clients)])
        target = "  (target >= 0.50)" if clients == 8 else ""
        print(
            f"  {clients:3} clients:  gateway {gw:7.0f}/s   psycopg {pg:7.0f}/s   "
            f"ratio {gw / pg:.2f}{target}"
        )
    print(json.dumps({f"{k}@{c}": round(statistics.median(v)) for (k, c), v in results.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--seconds", type=float, default=3.0, help="per point")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians")
    parser.add_argument(
        "--clients",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 8, 32],
        help="comma-separated concurrency levels (default: 1,8,32)",
    )
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child, args.workers)
        return
    with bench_database(args.database_url) as url:
        asyncio.run(measure(args, url))


if __name__ == "__main__":
    main()
