"""Keyset pagination on a real database, through the local gateway (PostgREST's SQL): every
list method walks every row exactly once, ties of created_at included, and a deep page is
an index range starting at the cursor, checked on the plan of the very request the SDK
sent (``Accept: application/vnd.pgrst.plan+json``, EXPLAIN ANALYZE by the real planner).
The dashboard's SQL function is checked on its generic plan (what PL/pgSQL may switch to
after five calls). The timings at depth 300,000 are in benchmarks/bench_growth.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
import respx

from conftest import MakeDatabase
from vidgen_db import Cursor, ServiceDB, UserDB
from vidgen_db.local import LocalStack

#: Rows of each list for the user under test; other users' rows around them.
MINE = 1200
OTHERS, EACH = 150, 40
#: Rows share a created_at three at a time: the tie-break on id must hold.
TIE = 3
PLAN = "application/vnd.pgrst.plan+json; options=analyze"


def load(conn: psycopg.Connection[Any], me: uuid.UUID, others: list[uuid.UUID]) -> None:
    """MINE rows of each list for ``me`` and EACH for every other user, interleaved in time
    (bulk, triggers off as for a restore)."""
    conn.execute("SET session_replication_role = replica")
    owners = "SELECT %s::uuid AS u, g FROM generate_series(1, %s) AS g"
    rows = f"({owners} UNION ALL SELECT o.u, g FROM unnest(%s::uuid[]) AS o(u), generate_series(1, %s) AS g)"
    args = (me, MINE, others, EACH)
    at = f"timestamptz '2026-01-01' + make_interval(secs => (g / {TIE}) * {TIE})"
    conn.execute(
        f"INSERT INTO public.projects (user_id, title, prompt_text, niche_preset, created_at) "
        f"SELECT r.u, 'p' || g, 'prompt', 'facts', {at} FROM {rows} AS r",
        args,
    )
    # Mine: READY but for a few FAILED (1%); the others' in every status, as in production
    # (the planner's estimates of a status filter depend on how many statuses there are).
    conn.execute(
        "INSERT INTO public.jobs (project_id, user_id, status, created_at, credit_state) "
        "SELECT p.id, p.user_id, CASE WHEN p.user_id <> %s "
        "THEN (enum_range(NULL::public.job_status))[1 + abs(hashtext(p.id::text)) %% 12] "
        "WHEN p.title LIKE '%%77' THEN 'FAILED' ELSE 'READY' END, "
        "p.created_at, 'settled' FROM public.projects AS p",
        (me,),
    )
    conn.execute(
        f"INSERT INTO public.credit_ledger (user_id, type, amount, balance_after, created_at) "
        f"SELECT r.u, 'grant', 1, 1, {at} FROM {rows} AS r",
        args,
    )
    conn.execute(
        f"INSERT INTO public.draft_prompts (session_token, user_id, prompt_text, created_at) "
        f"SELECT 'session-token-' || r.u || g, r.u, 'draft', {at} FROM {rows} AS r",
        args,
    )
    conn.execute("RESET session_replication_role")
    conn.execute("ANALYZE")


class World:
    """The stack, the user under test (``me``), a client of each kind, and a project of
    ``me`` with many jobs."""

    def __init__(self, stack: LocalStack, me: uuid.UUID, token: str, project: uuid.UUID) -> None:
        self.stack, self.me, self.project = stack, me, project
        self.user: UserDB = stack.user_client(token)
        self.service: ServiceDB = stack.service_client()


@pytest.fixture(scope="module")
def world(make_database: MakeDatabase, migrated_template: str) -> Iterator[World]:
    url = make_database(template=migrated_template)
    with LocalStack(
        database_url=url, migrate=False, gateway_options={"plan_enabled": True}
    ) as stack:
        me, token = stack.create_user("pager@example.com")
        others = [stack.create_user(f"other{i}@example.com")[0] for i in range(OTHERS)]
        with psycopg.connect(url, autocommit=True) as conn:
            load(conn, me, others)
            # One of my projects gets every job of mine (a project's list at depth).
            project = conn.execute(
                "SELECT id FROM public.projects WHERE user_id = %s LIMIT 1", (me,)
            ).fetchone()[0]  # type: ignore[index]
            conn.execute("SET session_replication_role = replica")
            conn.execute("UPDATE public.jobs SET project_id = %s WHERE user_id = %s", (project, me))
            conn.execute("RESET session_replication_role")
            conn.execute("ANALYZE public.jobs")
        world = World(stack, me, token, project)
        try:
            yield world
        finally:
            world.user.close()
            world.service.close()


#: Each list: (name, the call with a limit and a cursor, the table, a SQL filter of the
#: rows it lists, the index a deep page must be a range of).
Lister = Callable[[World, int, Cursor | str | None], Any]
LISTS: list[tuple[str, Lister, str, str, str]] = [
    ("credits.history user", lambda w, n, c: w.user.credits.history(limit=n, before=c),
     "credit_ledger", "user_id = %(me)s", "idx_credit_user_created"),
    ("credits.history service", lambda w, n, c: w.service.credits.history(w.me, limit=n, before=c),
     "credit_ledger", "user_id = %(me)s", "idx_credit_user_created"),
    ("projects.list user", lambda w, n, c: w.user.projects.list(limit=n, before=c),
     "projects", "user_id = %(me)s", "idx_projects_user_created"),
    ("projects.list service", lambda w, n, c: w.service.projects.list(limit=n, before=c),
     "projects", "true", "idx_projects_created_id"),
    ("projects.list service user",
     lambda w, n, c: w.service.projects.list(user_id=w.me, limit=n, before=c),
     "projects", "user_id = %(me)s", "idx_projects_user_created"),
    ("jobs.list user", lambda w, n, c: w.user.jobs.list(limit=n, before=c),
     "jobs", "user_id = %(me)s", "idx_jobs_user_created"),
    ("jobs.list user status", lambda w, n, c: w.user.jobs.list(status="READY", limit=n, before=c),
     "jobs", "user_id = %(me)s AND status = 'READY'", "idx_jobs_user_created"),
    ("jobs.list user project",
     lambda w, n, c: w.user.jobs.list(project_id=w.project, limit=n, before=c),
     "jobs", "project_id = %(project)s", "idx_jobs_project_created"),
    ("jobs.list service", lambda w, n, c: w.service.jobs.list(limit=n, before=c),
     "jobs", "true", "idx_jobs_created_id"),
    ("jobs.list service status",
     lambda w, n, c: w.service.jobs.list(status="READY", limit=n, before=c),
     "jobs", "status = 'READY'", "idx_jobs_status_created"),
    ("drafts.list user", lambda w, n, c: w.user.drafts.list(limit=n, before=c),
     "draft_prompts", "user_id = %(me)s", "idx_draft_user_created"),
    ("drafts.list service", lambda w, n, c: w.service.drafts.list(limit=n, before=c),
     "draft_prompts", "true", "idx_draft_created"),
    ("drafts.list service user",
     lambda w, n, c: w.service.drafts.list(user_id=w.me, limit=n, before=c),
     "draft_prompts", "user_id = %(me)s", "idx_draft_user_created"),
]  # fmt: skip
IDS = [name for name, *_ in LISTS]
#: A user's jobs in one status are the user's jobs with the others filtered out (no
#: (user_id, status) index: the migration says why): the page may skip my FAILED jobs.
SKIPPED = {"jobs.list user status": MINE // 100}


def expected(world: World, table: str, where: str) -> list[tuple[Any, uuid.UUID]]:
    with psycopg.connect(world.stack.database_url) as conn:
        rows = conn.execute(
            f"SELECT created_at, id FROM public.{table} WHERE {where} "
            "ORDER BY created_at DESC, id DESC",
            {"me": world.me, "project": world.project},
        ).fetchall()
    return [(at, row_id) for at, row_id in rows]


@pytest.mark.parametrize(("name", "call", "table", "where", "index"), LISTS, ids=IDS)
def test_every_list_walks_every_row_once_through_ties(
    world: World, name: str, call: Lister, table: str, where: str, index: str
) -> None:
    want = [row_id for _, row_id in expected(world, table, where)][:MINE]
    seen: list[uuid.UUID] = []
    cursor: str | None = None
    while len(seen) < len(want):
        page = call(world, 100, cursor)
        seen += [row.id for row in page]
        assert page.next_cursor is not None or len(seen) >= len(want)
        # What an API hands its client, and gets back: the cursor's string.
        cursor = None if page.next_cursor is None else str(page.next_cursor)
    assert seen[: len(want)] == want


def plan_of(request: httpx.Request) -> dict[str, Any]:
    """The EXPLAIN ANALYZE of a request, as the gateway runs it."""
    headers = {k: v for k, v in request.headers.items() if k.lower() != "accept"}
    response = httpx.get(str(request.url), headers={**headers, "accept": PLAN}, timeout=30)
    response.raise_for_status()
    plan: dict[str, Any] = response.json()[0]["Plan"]
    return plan


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


@pytest.mark.parametrize(("name", "call", "table", "where", "index"), LISTS, ids=IDS)
def test_a_deep_page_is_an_index_range_from_the_cursor(
    world: World, name: str, call: Lister, table: str, where: str, index: str
) -> None:
    rows = expected(world, table, where)
    # Deep, with a third of the list still to come (at its very end, the planner may rather
    # gather the few rows left and sort them: as cheap, and not what is checked here).
    depth = len(rows) * 2 // 3
    at, row_id = rows[depth]
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().pass_through()
        page = call(world, 20, Cursor(at, row_id))
        request = route.calls.last.request
    assert [r.id for r in page] == [i for _, i in rows[depth + 1 : depth + 21]]
    plan = plan_of(request)
    kinds = [n["Node Type"] for n in nodes(plan)]
    scans = [n for n in nodes(plan) if n.get("Relation Name") == table]
    assert len(scans) == 1, kinds
    scan = scans[0]
    assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), kinds
    assert scan["Index Name"] == index
    # The cursor bounds the index range: the scan starts there, not at the newest row.
    assert "created_at <=" in scan["Index Cond"], scan["Index Cond"]
    assert "Sort" not in kinds and "Incremental Sort" not in kinds, kinds
    # What it reads: the page, the row telling there is more, and the rows sharing the
    # cursor's created_at (the tie-break filters those out), whatever the depth.
    ties = sum(1 for other, _ in rows if other == at)
    assert scan["Actual Rows"] <= 21
    assert scan.get("Rows Removed by Filter", 0) <= ties + SKIPPED.get(name, 0)


@pytest.mark.parametrize("first_page", [True, False])
def test_the_dashboard_is_an_index_range_even_on_a_generic_plan(
    world: World, first_page: bool
) -> None:
    """get_dashboard's query, taken from the function itself, prepared with its variables as
    parameters and planned generically: the cursor is still an index condition."""
    with psycopg.connect(world.stack.database_url, autocommit=True) as conn:
        source = conn.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'get_dashboard'"
        ).fetchone()[0]  # type: ignore[index]
        query = source[source.index("RETURN QUERY") + len("RETURN QUERY") :]
        query = query[: query.index(";")]
        for variable, param in (
            ("v_before_created_at", "$2"), ("v_before_id", "$3"), ("p_limit", "$1")
        ):  # fmt: skip
            query = query.replace(variable, param)
        rows = expected(world, "projects", "user_id = %(me)s")
        at, row_id = rows[MINE - 30]
        claims = f'{{"role": "authenticated", "sub": "{world.me}"}}'
        with conn.transaction(force_rollback=True):
            conn.execute(
                "SELECT set_config('role', 'authenticated', true), "
                "set_config('request.jwt.claims', %s, true)",
                (claims,),
            )
            conn.execute("SET LOCAL search_path = ''")
            conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            conn.execute(f"PREPARE dash(integer, timestamptz, uuid) AS {query}")
            args = (
                "21, 'infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff'"
                if first_page
                else f"21, '{at.isoformat()}', '{row_id}'"
            )
            plan = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE dash({args})").fetchone()
            conn.execute("DEALLOCATE dash")
    assert plan is not None
    scans = [n for n in nodes(plan[0][0]["Plan"]) if n.get("Relation Name") == "projects"]
    assert [s["Index Name"] for s in scans] == ["idx_projects_user_created"]
    assert "ROW(created_at, id) < ROW($2, $3)" in scans[0]["Index Cond"]
    assert scans[0]["Actual Rows"] <= 21


def test_a_jobs_steps_and_log_cost_the_same_whatever_the_users_history(world: World) -> None:
    """Reading one job's steps or log lines checks ownership with one primary-key probe per
    row (vidgen_private.owns_job), never by gathering every job of the user (this user has
    MINE of them): no part of the plan reads the jobs table."""
    job = world.user.jobs.list(limit=1).items[0].id
    with psycopg.connect(world.stack.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.job_steps (job_id, step_name, step_order) "
            "SELECT %s, s, 1 FROM unnest(ARRAY['SCRIPTING', 'VOICE_GEN']) AS s",
            (job,),
        )
        conn.execute(
            "INSERT INTO public.job_logs (job_id, message) "
            "SELECT %s, 'line ' || g FROM generate_series(1, 30) AS g",
            (job,),
        )
    calls = [
        lambda: world.user.job_steps.list(job),
        lambda: world.user.logs.list(job, limit=20),
        lambda: world.user.assets.list(job),
    ]
    for call in calls:
        with respx.mock(assert_all_called=False) as mock:
            route = mock.route().pass_through()
            call()
            request = route.calls.last.request
        plan = plan_of(request)
        assert not [n for n in nodes(plan) if n.get("Relation Name") == "jobs"], request.url
        assert any("owns_job" in n.get("Filter", "") for n in nodes(plan)), request.url
    assert len(world.user.job_steps.list(job)) == 2
    assert len(world.user.logs.list(job, limit=100)) == 30
