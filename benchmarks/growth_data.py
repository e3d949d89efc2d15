"""Bulk data for bench_growth.py: tables of millions of rows generated in SQL, and the
requests the SDK's list methods send, run as PostgREST runs them."""

from __future__ import annotations

import contextlib
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import respx

from vidgen_db import VidgenDB
from vidgen_db.local import make_access_token, make_api_key
from vidgen_db.local._postgrest import PRELUDE, prelude_params

STAGES = ["SCRIPTING", "VOICE_GEN", "ALIGNMENT", "VISUAL_PLAN", "IMAGE_GEN", "TIMELINE",
          "RENDERING", "PACKAGING"]  # fmt: skip
#: The typical user whose requests are timed on both databases.
PROBE_ROWS = 50
QUEUED = 2_000


def say(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


@dataclass
class World:
    """What a loaded database holds: its URL, its users and the rows the timings need."""

    url: str
    rows: int
    deep: uuid.UUID  # a user with `depth` rows in every list (None-like when depth is 0)
    probe: uuid.UUID  # a typical user: PROBE_ROWS rows in every list
    probe_job: uuid.UUID  # one of the probe's jobs, with its 8 steps
    deep_job: uuid.UUID  # a job with `depth` log lines (None-like when depth is 0)
    worker: uuid.UUID


def _indexes(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str]]:
    """The table's indexes that no constraint owns (they are dropped and rebuilt around a
    bulk load: building an index once is far faster than growing it row by row)."""
    return conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename = %s AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        (table,),
    ).fetchall()


def bulk(conn: psycopg.Connection[Any], table: str, *statements: tuple[str, Any]) -> None:
    """Run the INSERTs into ``table`` with its secondary indexes dropped, then rebuild them."""
    indexes = _indexes(conn, table)
    for name, _ in indexes:
        conn.execute(f"DROP INDEX public.{name}")
    start = time.perf_counter()
    for sql, params in statements:
        conn.execute(sql, params)
    for _, definition in indexes:
        conn.execute(definition)
    say(f"{table}: {time.perf_counter() - start:.0f} s")


def load(url: str, rows: int, depth: int) -> World:
    """``rows`` rows in each of credit_balances, credit_ledger, projects, jobs and job_steps
    (drafts: depth + rows / 10), spread over rows / 100 users; a deep user with ``depth``
    rows in every list (and a job with ``depth`` log lines); a probe user with PROBE_ROWS;
    QUEUED queued jobs. Loaded as a restore would be: triggers off, indexes built after."""
    deep, probe, worker = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    users = max(1_000, rows // 100)
    span = 2 * 365 * 86400  # two years of history, every list interleaved in time
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '512MB'")
        say(f"loading {rows:,} rows per table, a user {depth:,} deep ...")
        conn.execute(
            "CREATE UNLOGGED TABLE bench_users AS SELECT g - 1 AS n, gen_random_uuid() AS id "
            "FROM generate_series(1, %s) AS g",
            (users,),
        )
        conn.execute("CREATE UNIQUE INDEX ON bench_users (n)")
        conn.execute(
            "INSERT INTO auth.users (id) SELECT id FROM bench_users UNION ALL "
            "SELECT unnest(%s::uuid[])",
            ([deep, probe],),
        )
        # Owners: the deep user's rows every (rows / depth)-th, the probe's 50 at the start.
        # Owners: the probe owns the first 50 rows; the deep user depth + 200 rows (a page
        # at `depth` has rows after it) spread evenly over the whole history, up to now; the
        # others the rest in turn.
        deep_rows = depth + 200 if depth else 0
        owner = (
            f"CASE WHEN g <= {PROBE_ROWS} THEN %(probe)s::uuid "
            f"WHEN (g::bigint * {deep_rows}) / %(rows)s > ((g - 1)::bigint * {deep_rows}) / %(rows)s "
            f"THEN %(deep)s::uuid ELSE u.id END"
        )
        at = f"timestamptz '2024-01-01' + make_interval(secs => g::double precision * {span} / %(rows)s)"
        series = "generate_series(1, %(rows)s) AS g JOIN bench_users AS u ON u.n = g %% %(users)s"
        p = {"probe": probe, "deep": deep, "depth": depth, "rows": rows, "users": users}
        bulk(
            conn,
            "credit_balances",
            (
                "INSERT INTO public.credit_balances (user_id, balance) "
                "SELECT CASE WHEN g = 1 THEN %(probe)s::uuid WHEN g = 2 THEN %(deep)s::uuid "
                "ELSE gen_random_uuid() END, 40 FROM generate_series(1, %(rows)s) AS g",
                p,
            ),
        )
        bulk(
            conn,
            "credit_ledger",
            (
                f"INSERT INTO public.credit_ledger (user_id, type, amount, balance_after, note, "
                f"created_at) SELECT {owner}, 'grant', 5, 5, 'Credit grant', {at} FROM {series}",
                p,
            ),
        )
        bulk(
            conn,
            "projects",
            (
                f"INSERT INTO public.projects (user_id, title, prompt_text, niche_preset, "
                f"created_at) SELECT {owner}, 'Project ' || g, "
                f"'A short video about the history of the things in number ' || g, 'history', "
                f"{at} FROM {series}",
                p,
            ),
        )
        bulk(
            conn,
            "jobs",
            (
                "INSERT INTO public.jobs (project_id, user_id, status, progress, status_message, "
                "cost_credits_reserved, cost_credits_final, credit_state, output_url, created_at, "
                "queued_at, started_at, finished_at, attempt) "
                "SELECT p.id, p.user_id, 'READY', 100, 'Ready', 30, 28, 'settled', "
                "'https://cdn.example.com/videos/' || p.id || '.mp4', p.created_at, p.created_at, "
                "p.created_at, p.created_at + interval '9 minutes', 1 FROM public.projects AS p",
                None,
            ),
            (
                # The queue: QUEUED jobs of 1,000 users, oldest first.
                "INSERT INTO public.jobs (project_id, user_id, status, credit_state, "
                "cost_credits_reserved, queued_at) SELECT p.id, p.user_id, 'QUEUED', 'reserved', 1, "
                "now() + g * interval '1 ms' FROM generate_series(1, %s) AS g "
                "JOIN (SELECT id, user_id, row_number() OVER () AS n FROM public.projects "
                "WHERE user_id <> ALL(%s) LIMIT 1000) AS p ON p.n = 1 + g %% 1000",
                (QUEUED, [deep, probe]),
            ),
        )
        steps = max(1, rows // len(STAGES))
        bulk(
            conn,
            "job_steps",
            (
                "INSERT INTO public.job_steps (job_id, step_name, step_order, state, progress_pct, "
                "status_message, started_at, finished_at) "
                "SELECT j.id, s.name, s.n, 'succeeded', 100, 'Done', j.started_at, j.finished_at "
                "FROM (SELECT id, started_at, finished_at FROM public.jobs "
                "WHERE status = 'READY' ORDER BY user_id = %s DESC LIMIT %s) AS j, "
                "unnest(%s::text[]) WITH ORDINALITY AS s(name, n)",
                (probe, steps, STAGES),
            ),
        )
        bulk(
            conn,
            "draft_prompts",
            (
                f"INSERT INTO public.draft_prompts (session_token, user_id, prompt_text, created_at) "
                f"SELECT 'bench-session-token-' || g, {owner}, 'A draft prompt about things ' || g, {at} "
                f"FROM generate_series(1, %(rows)s) AS g JOIN bench_users AS u "
                f"ON u.n = g %% %(users)s WHERE g <= %(drafts)s OR {owner} = %(deep)s::uuid",
                p | {"drafts": rows // 10},
            ),
        )
        probe_job = conn.execute(
            "SELECT j.id FROM public.jobs AS j JOIN public.job_steps AS s ON s.job_id = j.id "
            "WHERE j.user_id = %s LIMIT 1",
            (probe,),
        ).fetchone()[0]  # type: ignore[index]
        deep_job = conn.execute(
            "SELECT id FROM public.jobs WHERE user_id = %s AND status = 'READY' LIMIT 1", (deep,)
        ).fetchone()
        if depth and deep_job:
            bulk(
                conn,
                "job_logs",
                (
                    "INSERT INTO public.job_logs (job_id, line_no, step_name, level, message, "
                    "created_at) SELECT %s, g, 'RENDERING', 'info', 'frame ' || g || ' rendered', "
                    "now() - interval '1 day' + g * interval '1 ms' FROM generate_series(1, %s) AS g",
                    (deep_job[0], deep_rows),
                ),
            )
        conn.execute("INSERT INTO public.workers (id, name) VALUES (%s, 'bench')", (worker,))
        conn.execute("DROP TABLE bench_users")
        conn.execute("RESET session_replication_role")
        start = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        say(f"VACUUM ANALYZE: {time.perf_counter() - start:.0f} s")
    return World(url, rows, deep, probe, probe_job, deep_job[0] if deep_job else probe_job, worker)


# -- the SDK's requests, as SQL --------------------------------------------------------------

SECRET = "bench-growth-jwt-secret-at-least-32-characters"
_URL = "http://sdk.invalid"
_OPS = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_TIE = re.compile(r'created_at\.lt\."([^"]+)",id\.lt\.([0-9a-f-]{36})')


def user_db(user_id: uuid.UUID) -> VidgenDB:
    token = make_access_token(user_id, SECRET)
    return VidgenDB.for_user(_URL, make_api_key("anon", SECRET), token)  # type: ignore[return-value]


def service_db() -> VidgenDB:
    return VidgenDB.service(_URL, make_api_key("service_role", SECRET))  # type: ignore[return-value]


def sdk_request(call: Callable[[], object]) -> httpx.Request:
    """The one request ``call`` sends (answered with an empty result)."""
    with respx.mock() as mock:
        route = mock.route().mock(return_value=httpx.Response(200, json=[]))
        # (A single-row read of the empty answer raises not found: only the request counts.)
        with contextlib.suppress(Exception):
            call()
    return route.calls.last.request


def read_sql(request: httpx.Request) -> tuple[str, list[Any]]:
    """A GET of a table by the SDK as PostgREST runs it: the rows selected, ordered and
    limited, aggregated to one JSON body; its filter values as parameters. Only the filter
    forms the SDK's lists use are understood (anything else is an error)."""
    table = request.url.path.rsplit("/", 1)[-1]
    where, args, order, limit, columns = [], [], "", "", "x.*"
    for key, value in request.url.params.multi_items():
        if key == "select":
            assert re.fullmatch(r"\*|[a-z_]+(,[a-z_]+)*", value), value
            columns = ", ".join(f"x.{c}" for c in value.split(","))
        elif key == "order":
            terms = [t.split(".") for t in value.split(",")]
            order = ", ".join(f"x.{c} {d.upper()}" for c, d in terms)
        elif key == "limit":
            limit = f"LIMIT {int(value)}"
        elif key == "or":
            match = _TIE.fullmatch(value[1:-1])
            assert match, value
            where.append("(x.created_at < %s OR x.id < %s)")
            args += [match.group(1), match.group(2)]
        else:
            op, _, operand = value.partition(".")
            where.append(f"x.{key} {_OPS[op]} %s")
            args.append(operand)
    sql = (
        "SELECT count(*)::bigint, coalesce(json_agg(t), '[]')::text FROM "
        f"(SELECT {columns} FROM public.{table} AS x WHERE {' AND '.join(where) or 'true'} "
        f"{'ORDER BY ' + order if order else ''} {limit}) AS t"
    )
    return sql, args


def as_role(
    conn: psycopg.Connection[Any], user: uuid.UUID | None, sql: str, args: Any
) -> list[Any]:
    """One request as PostgREST makes it: a transaction, the prelude, the statement."""
    role = "authenticated" if user else "service_role"
    claims = {"role": role} | ({"sub": str(user)} if user else {})
    with conn.transaction():
        conn.execute(PRELUDE, prelude_params(role, claims))
        return conn.execute(sql, args).fetchall()


def plan_line(conn: psycopg.Connection[Any], user: uuid.UUID | None, sql: str, args: Any) -> str:
    """The scan of the statement's plan (EXPLAIN ANALYZE): index, range, rows removed."""
    role = "authenticated" if user else "service_role"
    claims = {"role": role} | ({"sub": str(user)} if user else {})
    with conn.transaction(force_rollback=True):
        conn.execute(PRELUDE, prelude_params(role, claims))
        plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, args).fetchone()[0]  # type: ignore[index]
    stack, found = [plan[0]["Plan"]], []
    while stack:
        node = stack.pop()
        if "Relation Name" in node:
            removed = node.get("Rows Removed by Filter", 0)
            found.append(
                f"{node['Node Type']} {node.get('Index Name', '')}: "
                f"{node.get('Index Cond', '-')}; read {node['Actual Rows']} + {removed} removed"
            )
        stack += node.get("Plans", [])
    return " | ".join(found)
