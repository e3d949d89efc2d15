"""Credits and dashboard benchmark: ratios measured side by side in one run, one database.

    python benchmarks/bench_credits.py [--database-url URL] [--seconds 4] [--rounds 3]

Prints:
  1. balance read time for a user with 1,000,000 ledger rows over a user with 1 row
     (target <= 1.5), and the PRD's SUM(amount) read for contrast;
  2. reservations per second for 16 concurrent clients, on many users and on one user,
     over the same clients running a bare minimal transaction (one conditional UPDATE plus
     one INSERT) as the ceiling (target >= 70% on many users);
  3. the dashboard's first page for a user with 10,000 projects over a user with 5
     (target <= 1.2).
Without --database-url (or DATABASE_URL, a superuser URL) it uses an embedded PostgreSQL.
A throwaway database is created and dropped.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from benchlib import as_user, bench_database, paired_medians, run_clients

CLIENTS = 16


# -- 1. balance --------------------------------------------------------------------------------


def bench_balance(url: str, rounds: int) -> dict[str, float]:
    big, small = uuid.uuid4(), uuid.uuid4()
    # prepare_threshold=None: custom plans each time, so the PRD's SUM is not judged by a
    # generic plan chosen for the other user.
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("INSERT INTO auth.users (id) VALUES (%s), (%s)", (big, small))
        print("  loading 1,000,000 ledger rows ...", file=sys.stderr, flush=True)
        with conn.transaction():
            # Bulk load with triggers off, then set the balance row to match the ledger.
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(
                "INSERT INTO public.credit_ledger (user_id, type, amount, note) "
                "SELECT %s, 'grant', 1, NULL FROM generate_series(1, 999999)",
                (big,),
            )
            conn.execute(
                "UPDATE public.credit_balances SET balance = "
                "(SELECT sum(amount) FROM public.credit_ledger WHERE user_id = %s) "
                "WHERE user_id = %s",
                (big, big),
            )
        conn.execute("ANALYZE public.credit_ledger")
        conn.execute("ANALYZE public.credit_balances")
        count = conn.execute(
            "SELECT count(*) FROM public.credit_ledger WHERE user_id = %s", (big,)
        ).fetchone()
        assert count == (1_000_000,), count

        fn_sql = "SELECT public.get_credit_balance(%s)"
        prd_sql = (
            "SELECT coalesce(sum(amount), 0)::integer FROM public.credit_ledger WHERE user_id = %s"
        )

        def call(sql: str, user: uuid.UUID) -> Callable[[], None]:
            return lambda: as_user(conn, "service_role", None, sql, (user,))

        medians: dict[str, list[float]] = {"big": [], "small": [], "prd_big": [], "prd_small": []}
        for _ in range(rounds):
            ours = paired_medians({"big": call(fn_sql, big), "small": call(fn_sql, small)}, 500)
            prd = paired_medians(
                {"prd_big": call(prd_sql, big), "prd_small": call(prd_sql, small)}, 10
            )
            for key, value in (ours | prd).items():
                medians[key].append(value)
    result = {k: statistics.median(v) for k, v in medians.items()}
    return result


# -- 2. reservations ---------------------------------------------------------------------------


def _prepare_reservations(
    url: str, users: int, jobs_per_user: int
) -> list[list[tuple[uuid.UUID, uuid.UUID]]]:
    """``users`` users with ample credits, each with ``jobs_per_user`` pending jobs."""
    plan: list[list[tuple[uuid.UUID, uuid.UUID]]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(users):
            user = uuid.uuid4()
            conn.execute("INSERT INTO auth.users (id) VALUES (%s)", (user,))
            with conn.transaction():
                conn.execute("SET LOCAL role service_role")
                conn.execute("SELECT public.grant_credits(%s, 100000000)", (user,))
            project = uuid.uuid4()
            conn.execute(
                "INSERT INTO public.projects (id, user_id, title, prompt_text, niche_preset) "
                "VALUES (%s, %s, 'b', 'b', 'facts')",
                (project, user),
            )
            rows = conn.execute(
                "INSERT INTO public.jobs (project_id, user_id) "
                "SELECT %s, %s FROM generate_series(1, %s) RETURNING id",
                (project, user, jobs_per_user),
            ).fetchall()
            plan.append([(user, r[0]) for r in rows])
        conn.execute("ANALYZE")
    return plan


def bench_reservations(url: str, seconds: float, rounds: int) -> dict[str, float]:
    per_round = int(seconds * 2500)  # more jobs than a client can reserve in a round
    many = _prepare_reservations(url, CLIENTS, per_round * rounds)
    one = _prepare_reservations(url, 1, CLIENTS * per_round * rounds)[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_balance (user_id uuid PRIMARY KEY, balance integer NOT NULL)"
        )
        conn.execute(
            "CREATE TABLE bench_ledger (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
            "user_id uuid NOT NULL, amount integer NOT NULL, created_at timestamptz DEFAULT now())"
        )
        conn.execute(
            "INSERT INTO bench_balance SELECT gen_random_uuid(), 100000000 FROM generate_series(1, %s)",
            (CLIENTS,),
        )
        bare_users = [r[0] for r in conn.execute("SELECT user_id FROM bench_balance").fetchall()]
        conn.execute("GRANT ALL ON bench_balance, bench_ledger TO service_role")

    offsets = {"many": 0, "one": 0}
    reserve = "SELECT public.reserve_credits(%s, %s, 1)"
    # The ceiling: the minimal reservation on the same tables, as one statement: a
    # conditional UPDATE of the balance row plus one INSERT of the ledger row (run as the
    # table owner, since nobody else may write balances). No job check, no idempotency.
    bare = (
        "WITH u AS (UPDATE public.credit_balances SET balance = balance - 1 "
        "WHERE user_id = %s AND balance >= 1 RETURNING user_id, balance) "
        "INSERT INTO public.credit_ledger (user_id, type, amount, note, balance_after) "
        "SELECT user_id, 'reserve', -1, 'bench', balance FROM u"
    )
    # For reference: the same two statements on two bare tables (a primary key each, no
    # foreign keys, no other indexes).
    synthetic = (
        "WITH u AS (UPDATE bench_balance SET balance = balance - 1 "
        "WHERE user_id = %s AND balance >= 1 RETURNING user_id) "
        "INSERT INTO bench_ledger (user_id, amount) SELECT user_id, -1 FROM u"
    )

    def many_work(k: int, conn: psycopg.Connection[Any], i: int) -> None:
        user, job = many[k][offsets["many"] + i]
        conn.execute(reserve, (user, job))

    def one_work(k: int, conn: psycopg.Connection[Any], i: int) -> None:
        user, job = one[offsets["one"] + i * CLIENTS + k]
        conn.execute(reserve, (user, job))

    def bare_work(k: int, conn: psycopg.Connection[Any], i: int) -> None:
        conn.execute(bare, (many[k][0][0],))

    def synthetic_work(k: int, conn: psycopg.Connection[Any], i: int) -> None:
        conn.execute(synthetic, (bare_users[k],))

    results: dict[str, list[float]] = {"bare": [], "synthetic": [], "many": [], "one": []}
    for _ in range(rounds):
        results["bare"].append(run_clients(url, CLIENTS, seconds, bare_work, role=None))
        results["synthetic"].append(run_clients(url, CLIENTS, seconds, synthetic_work))
        results["many"].append(run_clients(url, CLIENTS, seconds, many_work))
        offsets["many"] += per_round
        results["one"].append(run_clients(url, CLIENTS, seconds, one_work))
        offsets["one"] += per_round * CLIENTS
    return {k: statistics.median(v) for k, v in results.items()}


# -- 3. dashboard ------------------------------------------------------------------------------


def bench_dashboard(url: str, rounds: int) -> dict[str, float]:
    big, small = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO auth.users (id) VALUES (%s), (%s)", (big, small))
        for user, n in ((big, 10_000), (small, 5)):
            conn.execute(
                "INSERT INTO public.projects (user_id, title, prompt_text, niche_preset, created_at) "
                "SELECT %s, 'p' || g, 'prompt', 'facts', now() - g * interval '1 minute' "
                "FROM generate_series(1, %s) AS g",
                (user, n),
            )
            conn.execute(
                "INSERT INTO public.jobs (project_id, user_id, created_at) "
                "SELECT p.id, p.user_id, p.created_at + k * interval '1 second' "
                "FROM public.projects p, generate_series(1, 2) AS k WHERE p.user_id = %s",
                (user,),
            )
        conn.execute("ANALYZE")
        # As PostgREST runs it: the rows aggregated to one JSON body in the database.
        page = "SELECT coalesce(json_agg(t), '[]')::text FROM public.get_dashboard({}) AS t"
        medians: dict[str, list[float]] = {"big": [], "small": [], "big5": [], "small5": []}
        for _ in range(rounds):
            requests = {
                key: functools.partial(as_user, conn, "authenticated", user, page.format(size), ())
                for key, user, size in (
                    ("big", big, 20),
                    ("small", small, 20),
                    ("big5", big, 5),
                    ("small5", small, 5),
                )
            }
            result = paired_medians(
                requests,
                1000,
            )
            for key, value in result.items():
                medians[key].append(value)
    return {k: statistics.median(v) for k, v in medians.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--seconds", type=float, default=4.0, help="per throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians")
    parser.add_argument(
        "--only", choices=["balance", "reservations", "dashboard"], help="run one part only"
    )
    args = parser.parse_args()

    with bench_database(args.database_url) as url:
        with psycopg.connect(url) as conn:
            version = conn.execute("SHOW server_version").fetchone()
        print(
            f"PostgreSQL {version[0] if version else '?'}, {os.cpu_count()} cores; "
            f"{args.rounds} interleaved rounds, medians"
        )

        if args.only in (None, "balance"):
            report_balance(bench_balance(url, args.rounds))
        if args.only in (None, "reservations"):
            report_reservations(bench_reservations(url, args.seconds, args.rounds))
        if args.only in (None, "dashboard"):
            report_dashboard(bench_dashboard(url, args.rounds))


def report_balance(b: dict[str, float]) -> None:
    print("\n1. Balance read (get_credit_balance, one PostgREST-style request each)")
    print(
        f"   1,000,000 ledger rows: {b['big'] * 1e3:8.3f} ms   1 row: {b['small'] * 1e3:8.3f} ms"
        f"   ratio {b['big'] / b['small']:.2f}  (target <= 1.5)"
    )
    print(
        f"   the PRD's SUM(amount):  {b['prd_big'] * 1e3:8.3f} ms          {b['prd_small'] * 1e3:8.3f} ms"
        f"   ratio {b['prd_big'] / b['prd_small']:.1f}"
    )


def report_reservations(r: dict[str, float]) -> None:
    print(f"\n2. Reservations per second, {CLIENTS} concurrent clients")
    print(f"   bare transaction (ceiling), many users: {r['bare']:9.0f}/s")
    print(
        f"   (the same on two bare tables:           {r['synthetic']:9.0f}/s; "
        f"reserve_credits is {r['many'] / r['synthetic']:.0%} of it)"
    )
    print(
        f"   reserve_credits, many users:            {r['many']:9.0f}/s   "
        f"{r['many'] / r['bare']:.0%} of the ceiling  (target >= 70%)"
    )
    print(
        f"   reserve_credits, one user:              {r['one']:9.0f}/s   "
        f"{r['one'] / r['bare']:.0%} of the ceiling (serialized on the user's balance)"
    )


def report_dashboard(d: dict[str, float]) -> None:
    print("\n3. Dashboard (get_dashboard as the signed-in user, rows as one JSON body)")
    print(
        f"   first page of 20:  10,000 projects: {d['big'] * 1e3:6.3f} ms (20 rows)   "
        f"5 projects: {d['small'] * 1e3:6.3f} ms (5 rows)   ratio {d['big'] / d['small']:.2f}"
        "  (target <= 1.2)"
    )
    print(
        f"   pages of 5 rows:   10,000 projects: {d['big5'] * 1e3:6.3f} ms            "
        f"5 projects: {d['small5'] * 1e3:6.3f} ms            ratio {d['big5'] / d['small5']:.2f}"
    )


if __name__ == "__main__":
    main()
