"""Each defect the foundation issue found in the PRD's SQL, shown to be real on the PRD's
literal schema (tests/fixtures/prd_literal.sql, under Supabase's default grants) and
absent from vidgen_db's migrations. Every probe returns True when the defect is present,
so each assertion here would fail if the migrations reintroduced it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import MakeDatabase
from pgrest import anon, outcome, service, user
from vidgen_db.migrate import Migrator, split_statements

OWNER = uuid.UUID("00000000-0000-4000-8000-00000000000a")
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000000b")
PROJECT = uuid.UUID("00000000-0000-4000-8000-00000000000c")
JOB = uuid.UUID("00000000-0000-4000-8000-00000000000d")
ASSET = uuid.UUID("00000000-0000-4000-8000-00000000000e")
TOKEN = "visitor-session-token-abcdefgh"
PRD_SQL = Path(__file__).parent / "fixtures" / "prd_literal.sql"


def _populate(conn: psycopg.Connection[Any]) -> None:
    conn.execute("INSERT INTO auth.users (id) VALUES (%s), (%s)", (OWNER, OTHER))
    conn.execute(
        "INSERT INTO public.projects (id, user_id, title, prompt_text, niche_preset) "
        "VALUES (%s, %s, 't', 'p', 'facts')",
        (PROJECT, OWNER),
    )
    conn.execute(
        "INSERT INTO public.jobs (id, project_id, user_id) VALUES (%s, %s, %s)",
        (JOB, PROJECT, OWNER),
    )
    conn.execute(
        "INSERT INTO public.assets (id, job_id, type, url, storage_path) "
        "VALUES (%s, %s, 'video', 'https://cdn/v.mp4', 'v.mp4')",
        (ASSET, JOB),
    )
    conn.execute(
        "INSERT INTO public.draft_prompts (session_token, prompt_text, updated_at) "
        "VALUES (%s, 'visitor idea', '2000-01-01')",
        (TOKEN,),
    )


@pytest.fixture(scope="module")
def prd(make_database: MakeDatabase) -> Iterator[psycopg.Connection[Any]]:
    url = make_database()
    Migrator(url, migrations=[]).migrate()  # the Supabase stand-in, with its default grants
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.transaction():
            for statement in split_statements(PRD_SQL.read_text()):
                conn.execute(statement.encode())
        _populate(conn)
        yield conn


@pytest.fixture(scope="module")
def ours(make_database: MakeDatabase, migrated_template: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(make_database(template=migrated_template), autocommit=True) as conn:
        _populate(conn)
        yield conn


def anon_reads_visitor_drafts(conn: psycopg.Connection[Any]) -> bool:
    return outcome(conn, anon(), "SELECT session_token FROM public.draft_prompts") == "ok"


def anon_reads_asset_urls(conn: psycopg.Connection[Any]) -> bool:
    return outcome(conn, anon(), "SELECT url FROM public.assets") == "ok"


def user_deletes_another_users_assets(conn: psycopg.Connection[Any]) -> bool:
    return outcome(conn, user(OTHER), "DELETE FROM public.assets") == "ok"


CLAIM = "SELECT 1 FROM (SELECT public.claim_draft_prompt(%s, %s) AS id) AS s WHERE id IS NOT NULL"


def anon_claims_a_draft_for_any_user(conn: psycopg.Connection[Any]) -> bool:
    return outcome(conn, anon(), CLAIM, (TOKEN, OTHER)) == "ok"


def user_claims_a_draft_for_another_user(conn: psycopg.Connection[Any]) -> bool:
    return outcome(conn, user(OTHER), CLAIM, (TOKEN, OWNER)) == "ok"


def anon_calls_credit_functions(conn: psycopg.Connection[Any]) -> bool:
    return outcome(conn, anon(), "SELECT public.get_credit_balance(%s)", (OWNER,)) == "ok"


def definer_function_without_search_path(conn: psycopg.Connection[Any]) -> bool:
    rows = conn.execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND p.prosecdef AND NOT coalesce("
        "'search_path=\"\"' = ANY(p.proconfig), false)"
    ).fetchall()
    return bool(rows)


def policies_call_auth_uid_per_row(conn: psycopg.Connection[Any]) -> bool:
    rows = conn.execute(
        "SELECT coalesce(qual, '') || ' ' || coalesce(with_check, '') FROM pg_policies "
        "WHERE schemaname = 'public'"
    ).fetchall()
    return any(re.search(r"(?<!SELECT )auth\.uid\(\)", r[0]) for r in rows)


def tables_without_rls(conn: psycopg.Connection[Any]) -> bool:
    rows = conn.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relrowsecurity"
    ).fetchall()
    return bool(rows)


def draft_updated_at_not_maintained(conn: psycopg.Connection[Any]) -> bool:
    with conn.transaction(force_rollback=True):
        conn.execute("UPDATE public.draft_prompts SET prompt_text = 'edited'")
        row = conn.execute("SELECT min(updated_at) FROM public.draft_prompts").fetchone()
    return row is not None and row[0].year == 2000


def no_job_logs_table(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT to_regclass('public.logs') IS NULL AND to_regclass('public.job_logs') IS NULL"
    ).fetchone()
    return bool(row and row[0])


def functions_executable_by_public(conn: psycopg.Connection[Any]) -> bool:
    rows = conn.execute(
        "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND (p.proacl IS NULL OR EXISTS ("
        "SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))"
    ).fetchall()
    return bool(rows)


def service_role_can_rewrite_the_ledger(conn: psycopg.Connection[Any]) -> bool:
    return outcome(conn, service(), "UPDATE public.credit_ledger SET amount = 1000") == "ok"


PROBES: list[Callable[[psycopg.Connection[Any]], bool]] = [
    anon_reads_visitor_drafts,
    anon_reads_asset_urls,
    user_deletes_another_users_assets,
    anon_claims_a_draft_for_any_user,
    user_claims_a_draft_for_another_user,
    anon_calls_credit_functions,
    definer_function_without_search_path,
    policies_call_auth_uid_per_row,
    tables_without_rls,
    draft_updated_at_not_maintained,
    no_job_logs_table,
    functions_executable_by_public,
    service_role_can_rewrite_the_ledger,
]


@pytest.mark.parametrize("probe", PROBES, ids=[p.__name__ for p in PROBES])
def test_defect_is_present_in_the_prd_and_fixed_in_vidgen_db(
    probe: Callable[[psycopg.Connection[Any]], bool],
    prd: psycopg.Connection[Any],
    ours: psycopg.Connection[Any],
) -> None:
    assert probe(prd) is True, f"{probe.__name__}: expected the PRD's SQL to have this defect"
    assert probe(ours) is False, f"{probe.__name__}: vidgen_db's migrations have this defect"
