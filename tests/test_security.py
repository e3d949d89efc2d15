"""Row level security and privileges, from the attacker's side.

Every table x select/insert/update/delete x anonymous / another user / owner / service
role, every SQL function x role, and catalog checks in the spirit of Supabase's database
linter. Requests run as PostgREST runs them (see pgrest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from conftest import MakeDatabase
from pgrest import Actor, anon, outcome, request, service, user

OWNER = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
OTHER = uuid.UUID("00000000-0000-4000-8000-0000000000b2")
PROJECT = uuid.UUID("00000000-0000-4000-8000-0000000000c3")
JOB = uuid.UUID("00000000-0000-4000-8000-0000000000d4")
STEP = uuid.UUID("00000000-0000-4000-8000-0000000000e5")
ASSET = uuid.UUID("00000000-0000-4000-8000-0000000000f6")
DRAFT = uuid.UUID("00000000-0000-4000-8000-0000000000a7")
VISITOR_DRAFT = uuid.UUID("00000000-0000-4000-8000-0000000000b8")
VISITOR_TOKEN = "visitor-session-token-0123456789"
WORKER = uuid.UUID("00000000-0000-4000-8000-0000000000c9")


@pytest.fixture(scope="module")
def conn(make_database: MakeDatabase, migrated_template: str) -> Iterator[psycopg.Connection[Any]]:
    url = make_database(template=migrated_template)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "INSERT INTO auth.users (id, email) VALUES (%s, 'owner@example.com'), "
            "(%s, 'other@example.com')",
            (OWNER, OTHER),
        )
        c.execute(
            "INSERT INTO public.projects (id, user_id, title, prompt_text, niche_preset) "
            "VALUES (%s, %s, 'Owner project', 'prompt', 'facts')",
            (PROJECT, OWNER),
        )
        c.execute(
            "INSERT INTO public.jobs (id, project_id, user_id) VALUES (%s, %s, %s)",
            (JOB, PROJECT, OWNER),
        )
        c.execute(
            "INSERT INTO public.job_steps (id, job_id, step_name, step_order) "
            "VALUES (%s, %s, 'SCRIPTING', 1)",
            (STEP, JOB),
        )
        c.execute("INSERT INTO public.job_logs (job_id, message) VALUES (%s, 'started')", (JOB,))
        c.execute(
            "INSERT INTO public.assets (id, job_id, type, url, storage_path) "
            "VALUES (%s, %s, 'video', 'https://cdn.example.com/v.mp4', 'v.mp4')",
            (ASSET, JOB),
        )
        c.execute(
            "INSERT INTO public.draft_prompts (id, session_token, user_id, prompt_text) "
            "VALUES (%s, 'owner-session-token-0123456789', %s, 'owned draft'), "
            "(%s, %s, NULL, 'visitor draft')",
            (DRAFT, OWNER, VISITOR_DRAFT, VISITOR_TOKEN),
        )
        c.execute("INSERT INTO public.workers (id, name) VALUES (%s, 'worker-1')", (WORKER,))
        yield c


def _ledger_id(conn: psycopg.Connection[Any]) -> uuid.UUID:
    row = conn.execute(
        "SELECT id FROM public.credit_ledger WHERE user_id = %s LIMIT 1", (OWNER,)
    ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def _log_id(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT id FROM public.job_logs WHERE job_id = %s", (JOB,)).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


ACTORS = {
    "anon": anon(),
    "other": user(OTHER, "other"),
    "owner": user(OWNER, "owner"),
    "service": service(),
}

# table -> op -> (sql, prepare-as-superuser or None)
OPS: dict[str, dict[str, tuple[str, str | None]]] = {
    "profiles": {
        "select": ("SELECT id FROM public.profiles WHERE id = %(owner)s", None),
        "insert": (
            "INSERT INTO public.profiles (id, display_name) VALUES (%(owner)s, 'x')",
            f"DELETE FROM public.profiles WHERE id = '{OWNER}'",
        ),
        "update": ("UPDATE public.profiles SET display_name = 'pwned' WHERE id = %(owner)s", None),
        "delete": ("DELETE FROM public.profiles WHERE id = %(owner)s", None),
    },
    "projects": {
        "select": ("SELECT id FROM public.projects WHERE id = %(project)s", None),
        "insert": (
            "INSERT INTO public.projects (user_id, title, prompt_text, niche_preset) "
            "VALUES (%(owner)s, 't', 'p', 'facts')",
            None,
        ),
        "update": ("UPDATE public.projects SET title = 'pwned' WHERE id = %(project)s", None),
        "delete": ("DELETE FROM public.projects WHERE id = %(project)s", None),
    },
    "jobs": {
        "select": ("SELECT id FROM public.jobs WHERE id = %(job)s", None),
        "insert": (
            "INSERT INTO public.jobs (project_id, user_id) VALUES (%(project)s, %(owner)s)",
            None,
        ),
        "update": ("UPDATE public.jobs SET status_message = 'pwned' WHERE id = %(job)s", None),
        "delete": ("DELETE FROM public.jobs WHERE id = %(job)s", None),
    },
    "job_steps": {
        "select": ("SELECT id FROM public.job_steps WHERE id = %(step)s", None),
        "insert": (
            "INSERT INTO public.job_steps (job_id, step_name, step_order) "
            "VALUES (%(job)s, 'RENDERING', 7)",
            None,
        ),
        "update": (
            "UPDATE public.job_steps SET status_message = 'pwned' WHERE id = %(step)s",
            None,
        ),
        "delete": ("DELETE FROM public.job_steps WHERE id = %(step)s", None),
    },
    "job_logs": {
        # (Users read a line by its number: its global id is the service role's alone.)
        "select": ("SELECT line_no FROM public.job_logs WHERE job_id = %(job)s", None),
        "insert": ("INSERT INTO public.job_logs (job_id, message) VALUES (%(job)s, 'x')", None),
        "update": ("UPDATE public.job_logs SET message = 'pwned' WHERE id = %(log)s", None),
        "delete": ("DELETE FROM public.job_logs WHERE id = %(log)s", None),
    },
    "assets": {
        "select": ("SELECT id FROM public.assets WHERE id = %(asset)s", None),
        "insert": (
            "INSERT INTO public.assets (job_id, type, url, storage_path) "
            "VALUES (%(job)s, 'image', 'https://x', 'x.png')",
            None,
        ),
        "update": ("UPDATE public.assets SET url = 'https://evil' WHERE id = %(asset)s", None),
        "delete": ("DELETE FROM public.assets WHERE id = %(asset)s", None),
    },
    "credit_ledger": {
        "select": ("SELECT id FROM public.credit_ledger WHERE id = %(ledger)s", None),
        "insert": (
            "INSERT INTO public.credit_ledger (user_id, type, amount) "
            "VALUES (%(owner)s, 'grant', 1000)",
            None,
        ),
        "update": ("UPDATE public.credit_ledger SET amount = 1000 WHERE id = %(ledger)s", None),
        "delete": ("DELETE FROM public.credit_ledger WHERE id = %(ledger)s", None),
    },
    "credit_balances": {
        "select": ("SELECT user_id FROM public.credit_balances WHERE user_id = %(owner)s", None),
        "insert": (
            "INSERT INTO public.credit_balances (user_id, balance) VALUES (%(owner)s, 1000)",
            f"DELETE FROM public.credit_balances WHERE user_id = '{OWNER}'",
        ),
        "update": (
            "UPDATE public.credit_balances SET balance = 1000 WHERE user_id = %(owner)s",
            None,
        ),
        "delete": ("DELETE FROM public.credit_balances WHERE user_id = %(owner)s", None),
    },
    "draft_prompts": {
        "select": ("SELECT id FROM public.draft_prompts WHERE id = %(draft)s", None),
        "insert": (
            "INSERT INTO public.draft_prompts (session_token, user_id, prompt_text) "
            "VALUES ('another-session-token-000000', %(owner)s, 'x')",
            None,
        ),
        "update": (
            "UPDATE public.draft_prompts SET prompt_text = 'pwned' WHERE id = %(draft)s",
            None,
        ),
        "delete": ("DELETE FROM public.draft_prompts WHERE id = %(draft)s", None),
    },
    "workers": {
        "select": ("SELECT id FROM public.workers WHERE id = %(worker)s", None),
        "insert": ("INSERT INTO public.workers (id, name) VALUES (gen_random_uuid(), 'x')", None),
        "update": ("UPDATE public.workers SET name = 'pwned' WHERE id = %(worker)s", None),
        "delete": ("DELETE FROM public.workers WHERE id = %(worker)s", None),
    },
}

OK, B = "ok", "blocked"
OWNER_READS_SERVICE_WRITES = {
    "select": {"anon": B, "other": B, "owner": OK, "service": OK},
    "insert": {"anon": B, "other": B, "owner": B, "service": OK},
    "update": {"anon": B, "other": B, "owner": B, "service": OK},
    "delete": {"anon": B, "other": B, "owner": B, "service": OK},
}
OWNER_WRITES = {
    op: {"anon": B, "other": B, "owner": OK, "service": OK}
    for op in ("select", "insert", "update", "delete")
}
EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    "profiles": {
        "select": {"anon": B, "other": B, "owner": OK, "service": OK},
        "insert": {"anon": B, "other": B, "owner": B, "service": OK},
        "update": {"anon": B, "other": B, "owner": OK, "service": OK},
        "delete": {"anon": B, "other": B, "owner": B, "service": OK},
    },
    "projects": OWNER_WRITES,
    "jobs": OWNER_READS_SERVICE_WRITES,
    "job_steps": OWNER_READS_SERVICE_WRITES,
    "job_logs": OWNER_READS_SERVICE_WRITES,
    "assets": OWNER_READS_SERVICE_WRITES,
    "credit_ledger": {
        "select": {"anon": B, "other": B, "owner": OK, "service": OK},
        "insert": {"anon": B, "other": B, "owner": B, "service": OK},
        # Append-only, even for the service role.
        "update": {"anon": B, "other": B, "owner": B, "service": B},
        "delete": {"anon": B, "other": B, "owner": B, "service": B},
    },
    "credit_balances": {
        "select": {"anon": B, "other": B, "owner": OK, "service": OK},
        # Only the ledger trigger writes balances.
        "insert": {"anon": B, "other": B, "owner": B, "service": B},
        "update": {"anon": B, "other": B, "owner": B, "service": B},
        "delete": {"anon": B, "other": B, "owner": B, "service": B},
    },
    "draft_prompts": OWNER_WRITES,
    "workers": {
        "select": {"anon": B, "other": B, "owner": B, "service": OK},
        # Only register_worker and claim_jobs write workers.
        "insert": {"anon": B, "other": B, "owner": B, "service": B},
        "update": {"anon": B, "other": B, "owner": B, "service": B},
        "delete": {"anon": B, "other": B, "owner": B, "service": B},
    },
}

MATRIX = [(table, op, actor) for table, ops in EXPECTED.items() for op in ops for actor in ACTORS]


@pytest.mark.parametrize(("table", "op", "actor"), MATRIX, ids=["-".join(c) for c in MATRIX])
def test_table_access_matrix(
    conn: psycopg.Connection[Any], table: str, op: str, actor: str
) -> None:
    sql, prepare = OPS[table][op]
    params = {
        "owner": OWNER,
        "project": PROJECT,
        "job": JOB,
        "step": STEP,
        "asset": ASSET,
        "draft": DRAFT,
        "worker": WORKER,
        "ledger": _ledger_id(conn),
        "log": _log_id(conn),
    }
    got = outcome(conn, ACTORS[actor], sql, params, prepare=prepare)
    assert got == EXPECTED[table][op][actor], f"{actor} {op} on {table}: {got}"


def test_every_public_table_is_in_the_matrix(conn: psycopg.Connection[Any]) -> None:
    tables = {
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    }
    assert tables == set(EXPECTED)


# -- targeted attacks on the columns owners may not touch -----------------------------------


def test_owner_cannot_hand_a_project_to_another_user(conn: psycopg.Connection[Any]) -> None:
    sql = "UPDATE public.projects SET user_id = %s WHERE id = %s"
    assert outcome(conn, ACTORS["owner"], sql, (OTHER, PROJECT)) == B


def test_owner_cannot_create_a_project_for_another_user(conn: psycopg.Connection[Any]) -> None:
    sql = (
        "INSERT INTO public.projects (user_id, title, prompt_text, niche_preset) "
        "VALUES (%s, 't', 'p', 'facts')"
    )
    assert outcome(conn, ACTORS["owner"], sql, (OTHER,)) == B


@pytest.mark.parametrize("column", ["stripe_customer_id", "id", "created_at"])
def test_owner_cannot_change_protected_profile_columns(
    conn: psycopg.Connection[Any], column: str
) -> None:
    value = {"stripe_customer_id": "'cus_evil'", "id": f"'{OTHER}'", "created_at": "now()"}[column]
    sql = f"UPDATE public.profiles SET {column} = {value} WHERE id = %s"
    assert outcome(conn, ACTORS["owner"], sql, (OWNER,)) == B


def test_owner_may_update_notification_prefs(conn: psycopg.Connection[Any]) -> None:
    sql = (
        "UPDATE public.profiles SET notification_prefs = '{\"job_complete\": false}' WHERE id = %s"
    )
    assert outcome(conn, ACTORS["owner"], sql, (OWNER,)) == OK


def test_visitor_can_store_a_draft_but_never_read_drafts(conn: psycopg.Connection[Any]) -> None:
    visitor = ACTORS["anon"]
    insert = (
        "INSERT INTO public.draft_prompts (session_token, prompt_text) "
        "VALUES ('fresh-visitor-token-000000001', 'my idea')"
    )
    assert outcome(conn, visitor, insert) == OK
    assert outcome(conn, visitor, "SELECT count(*) FROM public.draft_prompts") == B
    # Not even with RETURNING (what PostgREST's return=representation would do).
    assert outcome(conn, visitor, insert + " RETURNING id") == B


def test_visitor_cannot_choose_expiry_or_owner(conn: psycopg.Connection[Any]) -> None:
    visitor = ACTORS["anon"]
    assert (
        outcome(
            conn,
            visitor,
            "INSERT INTO public.draft_prompts (session_token, prompt_text, expires_at) "
            "VALUES ('fresh-visitor-token-000000002', 'x', 'infinity')",
        )
        == B
    )


def test_users_cannot_see_unclaimed_visitor_drafts(conn: psycopg.Connection[Any]) -> None:
    sql = "SELECT count(*) FROM public.draft_prompts WHERE user_id IS NULL"
    for name in ("other", "owner"):
        assert outcome(conn, ACTORS[name], sql) == B


def test_guessable_session_tokens_are_rejected(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.CheckViolation), request(conn, ACTORS["anon"]) as cur:
        cur.execute(
            "INSERT INTO public.draft_prompts (session_token, prompt_text) VALUES ('abc', 'x')"
        )


# -- functions x roles -------------------------------------------------------------------------


def _call(conn: psycopg.Connection[Any], actor: Actor, sql: str, params: Any) -> Any:
    """The function's result, or the string 'blocked' when refused with 42501."""
    try:
        with request(conn, actor) as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
            return row[0] if row else None
    except psycopg.errors.InsufficientPrivilege:
        return B


def test_get_credit_balance_by_role(conn: psycopg.Connection[Any]) -> None:
    sql = "SELECT public.get_credit_balance(%s)"
    results = {name: _call(conn, actor, sql, (OWNER,)) for name, actor in ACTORS.items()}
    assert results == {"anon": B, "other": B, "owner": 10, "service": 10}


def test_reserve_credits_is_service_only(conn: psycopg.Connection[Any]) -> None:
    sql = "SELECT public.reserve_credits(%s, %s, 1)"
    results = {name: _call(conn, actor, sql, (OWNER, JOB)) for name, actor in ACTORS.items()}
    assert results == {"anon": B, "other": B, "owner": B, "service": True}


def test_claim_draft_prompt_by_role(conn: psycopg.Connection[Any]) -> None:
    sql = "SELECT public.claim_draft_prompt(%s, %s)"
    results = {
        name: _call(conn, actor, sql, (VISITOR_TOKEN, OWNER)) for name, actor in ACTORS.items()
    }
    # anon cannot call it; another user cannot claim on the owner's behalf.
    assert results == {"anon": B, "other": B, "owner": VISITOR_DRAFT, "service": VISITOR_DRAFT}


def test_claimed_draft_becomes_the_users_and_cannot_be_claimed_again(
    conn: psycopg.Connection[Any],
) -> None:
    with request(conn, ACTORS["other"]) as cur:
        cur.execute("SELECT public.claim_draft_prompt(%s, %s)", (VISITOR_TOKEN, OTHER))
        assert cur.fetchone() == (VISITOR_DRAFT,)
        cur.execute("SELECT public.claim_draft_prompt(%s, %s)", (VISITOR_TOKEN, OTHER))
        assert cur.fetchone() == (None,)
        cur.execute("SELECT user_id FROM public.draft_prompts WHERE id = %s", (VISITOR_DRAFT,))
        assert cur.fetchone() == (OTHER,)


def test_no_function_is_executable_by_public_or_anon(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        """
        SELECT p.oid::regprocedure::text,
               has_function_privilege('anon', p.oid, 'EXECUTE'),
               coalesce(bool_or(a.grantee = 0), false)
          FROM pg_proc AS p
          JOIN pg_namespace AS n ON n.oid = p.pronamespace
          LEFT JOIN LATERAL aclexplode(p.proacl) AS a ON true
         WHERE n.nspname IN ('public', 'vidgen_private')
         GROUP BY 1, 2
        """
    ).fetchall()
    assert rows, "no functions found"
    assert [r[0] for r in rows if r[1] or r[2]] == []


def test_functions_callable_by_users_are_exactly_these(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND has_function_privilege('authenticated', p.oid, 'EXECUTE') "
        "ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == [
        "cancel_job",
        "claim_draft_prompt",
        "get_credit_balance",
        "get_dashboard",
    ]


def _service_only_functions(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.oid::regprocedure::text "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND has_function_privilege('service_role', p.oid, 'EXECUTE') "
        "AND NOT has_function_privilege('authenticated', p.oid, 'EXECUTE') ORDER BY 1"
    ).fetchall()
    calls = []
    for name, _, signature in rows:
        types = signature[signature.index("(") + 1 : -1]
        args = ", ".join(f"NULL::{t.strip()}" for t in types.split(",")) if types else ""
        calls.append((name, f"SELECT public.{name}({args})"))
    return calls


def test_service_only_functions_exist(conn: psycopg.Connection[Any]) -> None:
    names = {name for name, _ in _service_only_functions(conn)}
    assert {
        "reserve_credits",
        "settle_job_credits",
        "refund_job_credits",
        "grant_credits",
        "record_purchase",
        "expire_credits",
        "queue_job",
        "advance_job",
        "start_job_step",
        "update_job_step",
        "complete_job_step",
        "finish_job",
        "fail_job",
        "append_job_log",
        "register_worker",
        "claim_jobs",
        "heartbeat_job",
        "release_job",
        "recover_jobs",
        "job_queue_stats",
        "add_job_asset",
    } <= names


@pytest.mark.parametrize("actor", ["anon", "other", "owner"])
def test_service_only_functions_refuse_everyone_else(
    conn: psycopg.Connection[Any], actor: str
) -> None:
    allowed = []
    for name, sql in _service_only_functions(conn):
        try:
            with request(conn, ACTORS[actor]) as cur:
                cur.execute(sql.encode())
            allowed.append(name)
        except psycopg.errors.InsufficientPrivilege:
            pass
    assert allowed == []


# -- catalog checks (what Supabase's database linter looks for) -------------------------------


def test_rls_is_enabled_on_every_public_table(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity"
    ).fetchall()
    assert rows == []


def test_every_function_pins_its_search_path(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "SELECT p.oid::regprocedure::text, p.prosecdef, p.proconfig FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname IN ('public', 'vidgen_private')"
    ).fetchall()
    unpinned = [
        name
        for name, _, config in rows
        if not any(c.startswith("search_path=") for c in (config or []))
    ]
    assert unpinned == []
    definers = [(name, config) for name, definer, config in rows if definer]
    assert definers, "expected SECURITY DEFINER functions"
    assert all('search_path=""' in config for _, config in definers), definers


def test_policies_evaluate_auth_functions_once_per_statement(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "SELECT tablename, policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') "
        "FROM pg_policies WHERE schemaname = 'public'"
    ).fetchall()
    assert rows
    import re

    bare = [
        (t, p) for t, p, text in rows if re.search(r"(?<!SELECT )auth\.(uid|jwt|role)\(\)", text)
    ]
    assert bare == []


def test_every_foreign_key_is_indexed(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname
          FROM pg_constraint c
          JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE c.contype = 'f' AND n.nspname = 'public'
           AND NOT EXISTS (
             SELECT 1 FROM pg_index i
              WHERE i.indrelid = c.conrelid
                AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] @> c.conkey
                AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] <@ c.conkey)
        """
    ).fetchall()
    assert rows == []


def test_anon_holds_no_table_privilege_but_draft_insert(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        """
        SELECT table_name, privilege_type FROM information_schema.role_table_grants
         WHERE grantee = 'anon' AND table_schema = 'public'
        UNION
        SELECT table_name, privilege_type FROM information_schema.column_privileges
         WHERE grantee = 'anon' AND table_schema = 'public'
        """
    ).fetchall()
    assert set(rows) == {("draft_prompts", "INSERT")}
