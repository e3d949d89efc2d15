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
from pgrest import PRELUDE, Actor, anon, outcome, request, service, user

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
        # A repeat (a retry after a lost response) returns what this user claimed.
        cur.execute("SELECT public.claim_draft_prompt(%s, %s)", (VISITOR_TOKEN, OTHER))
        assert cur.fetchone() == (VISITOR_DRAFT,)
        cur.execute("SELECT user_id FROM public.draft_prompts WHERE id = %s", (VISITOR_DRAFT,))
        assert cur.fetchone() == (OTHER,)
        # Nobody else gets it, nor learns of it (the owner's request, same transaction).
        cur.execute(PRELUDE, ACTORS["owner"].prelude())
        cur.execute("SELECT public.claim_draft_prompt(%s, %s)", (VISITOR_TOKEN, OWNER))
        assert cur.fetchone() == (None,)


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
        "append_job_logs",
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

    per_row = re.compile(r"(?<!SELECT )(auth\.(uid|jwt|role|email)\(\)|current_setting\()")
    bare = [(t, p) for t, p, text in rows if per_row.search(text)]
    assert bare == []


def test_every_foreign_key_is_indexed(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname
          FROM pg_constraint c
          JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE c.contype = 'f' AND n.nspname IN ('public', 'vidgen_private')
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


# -- Supabase's database linter (splinter), rule by rule ------------------------------------------
#
# Each rule is one of splinter's lints (https://github.com/supabase/splinter, lints/*.sql),
# written anew as a catalog query that lists what breaks it, so CI catches a regression
# without running the linter; each is also shown to catch what it is meant to (a probe
# breaks the rule in a rolled-back transaction). The lints that need a Supabase project
# (auth settings, storage buckets, extension versions, table statistics) are left to it.

#: The schemas the data API serves (PostgREST's db-schemas on Supabase) and those vidgen's
#: migrations own.
EXPOSED = "ARRAY['public', 'graphql_public']"
OWNED = "ARRAY['public', 'vidgen_private']"

LINTER_RULES: dict[str, str] = {
    # 0028/0029: privileged work sits in vidgen_private behind SECURITY INVOKER entry points.
    "security_definer_function_executable": f"""
        SELECT p.oid::regprocedure::text, r.rolname FROM pg_proc p
         CROSS JOIN (VALUES ('anon'), ('authenticated')) AS r(rolname)
         WHERE p.pronamespace::regnamespace::text = ANY ({EXPOSED}) AND p.prosecdef
           AND has_function_privilege(r.rolname, p.oid, 'EXECUTE')""",
    # 0013, and vidgen_private too: a grant made there by mistake still shows no row.
    "rls_disabled": f"""
        SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind IN ('r', 'p')
           AND c.relnamespace::regnamespace::text = ANY ({OWNED}) AND NOT c.relrowsecurity""",
    # 0007
    "policy_exists_rls_disabled": """
        SELECT DISTINCT c.oid::regclass::text FROM pg_policy p
          JOIN pg_class c ON c.oid = p.polrelid WHERE NOT c.relrowsecurity""",
    # 0006: two permissive policies for one role and command are both evaluated per row.
    "multiple_permissive_policies": f"""
        SELECT p.tablename, r.role, c.command FROM pg_policies p
         CROSS JOIN LATERAL unnest(p.roles) AS r(role)
         CROSS JOIN LATERAL unnest(CASE p.cmd WHEN 'ALL'
                THEN ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] ELSE ARRAY[p.cmd] END)
                AS c(command)
         WHERE p.schemaname = ANY ({OWNED}) AND p.permissive = 'PERMISSIVE'
         GROUP BY 1, 2, 3 HAVING count(*) > 1""",
    # 0024: no USING (true) on writes, no WITH CHECK (true), no INSERT policy without a check.
    "rls_policy_always_true": f"""
        SELECT tablename, policyname FROM pg_policies
         WHERE schemaname = ANY ({OWNED}) AND permissive = 'PERMISSIVE'
           AND ((cmd IN ('UPDATE', 'DELETE', 'ALL')
                 AND (qual IS NULL OR replace(lower(qual), ' ', '') IN ('true', '(true)', '1=1')))
             OR replace(lower(coalesce(with_check, '')), ' ', '') IN ('true', '(true)', '1=1')
             OR (cmd = 'INSERT' AND with_check IS NULL))""",
    # 0015: users can edit their own metadata.
    "rls_references_user_metadata": f"""
        SELECT tablename, policyname FROM pg_policies WHERE schemaname = ANY ({OWNED})
           AND (coalesce(qual, '') || coalesce(with_check, '')) ILIKE '%user_metadata%'""",
    # 0003: auth.<function>() and current_setting() evaluated once per statement.
    "auth_rls_initplan": f"""
        SELECT tablename, policyname FROM pg_policies WHERE schemaname = ANY ({OWNED})
           AND (coalesce(qual, '') || ' ' || coalesce(with_check, ''))
               ~ '(auth\\.(uid|jwt|role|email)\\(\\)|current_setting\\()'
           AND (coalesce(qual, '') || ' ' || coalesce(with_check, ''))
               !~* 'select (auth\\.(uid|jwt|role|email)\\(\\)|current_setting\\()'""",
    # 0011
    "function_search_path_mutable": f"""
        SELECT p.oid::regprocedure::text FROM pg_proc p
         WHERE p.pronamespace::regnamespace::text = ANY ({OWNED})
           AND NOT coalesce(p.proconfig::text ILIKE '%search_path=%', false)""",
    # 0001
    "unindexed_foreign_keys": f"""
        SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c
         WHERE c.contype = 'f' AND c.connamespace::regnamespace::text = ANY ({OWNED})
           AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                 AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] @> c.conkey
                 AND (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] <@ c.conkey)""",
    # 0004
    "no_primary_key": f"""
        SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind IN ('r', 'p')
           AND c.relnamespace::regnamespace::text = ANY ({OWNED}) AND NOT EXISTS
               (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)""",
    # 0009: the same columns, classes, expressions and predicate twice.
    "duplicate_index": f"""
        SELECT i.indrelid::regclass::text, array_agg(i.indexrelid::regclass::text)
          FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
         WHERE c.relnamespace::regnamespace::text = ANY ({OWNED})
         GROUP BY i.indrelid, i.indkey::text, i.indclass::text, i.indcollation::text,
                  coalesce(pg_get_expr(i.indexprs, i.indrelid), ''),
                  coalesce(pg_get_expr(i.indpred, i.indrelid), '')
        HAVING count(*) > 1""",
    # 0010: a view the API serves applies the caller's RLS.
    "security_definer_view": f"""
        SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'v'
           AND c.relnamespace::regnamespace::text = ANY ({EXPOSED})
           AND NOT coalesce(c.reloptions::text[] && ARRAY['security_invoker=true',
               'security_invoker=on', 'security_invoker=1'], false)""",
    # 0016/0017
    "materialized_view_or_foreign_table_in_api": f"""
        SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind IN ('m', 'f')
           AND c.relnamespace::regnamespace::text = ANY ({EXPOSED})""",
    # 0002
    "auth_users_exposed": f"""
        SELECT DISTINCT v.oid::regclass::text FROM pg_depend d
          JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
         WHERE d.refobjid = 'auth.users'::regclass AND v.oid <> d.refobjid
           AND v.relnamespace::regnamespace::text = ANY ({EXPOSED})""",
    # 0014
    "extension_in_public": """
        SELECT extname FROM pg_extension WHERE extnamespace = 'public'::regnamespace""",
    # 0018
    "unsupported_reg_types": f"""
        SELECT a.attrelid::regclass::text, a.attname FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid WHERE a.attnum > 0 AND NOT a.attisdropped
           AND c.relnamespace::regnamespace::text = ANY ({OWNED})
           AND a.atttypid IN ('regcollation'::regtype, 'regconfig'::regtype,
               'regdictionary'::regtype, 'regnamespace'::regtype, 'regoper'::regtype,
               'regoperator'::regtype, 'regproc'::regtype, 'regprocedure'::regtype)""",
    # 0021: auth's other unique constraints may change under us.
    "fkey_to_auth_unique": """
        SELECT k.conrelid::regclass::text, k.conname FROM pg_constraint k
          JOIN pg_class r ON r.oid = k.confrelid JOIN pg_index i ON i.indexrelid = k.conindid
         WHERE k.contype = 'f' AND r.relnamespace = 'auth'::regnamespace
           AND NOT i.indisprimary""",
}

#: For each rule, DDL that breaks it (run in a transaction that is rolled back).
LINTER_PROBES: dict[str, str] = {
    "security_definer_function_executable": """
        CREATE FUNCTION public.probe() RETURNS int LANGUAGE sql SECURITY DEFINER
        SET search_path = '' AS 'SELECT 1';
        GRANT EXECUTE ON FUNCTION public.probe() TO authenticated""",
    "rls_disabled": "CREATE TABLE vidgen_private.probe (id int PRIMARY KEY)",
    "policy_exists_rls_disabled": """
        ALTER TABLE public.workers DISABLE ROW LEVEL SECURITY;
        CREATE POLICY probe ON public.workers FOR SELECT TO authenticated USING (false)""",
    "multiple_permissive_policies": """
        CREATE POLICY probe ON public.projects FOR SELECT TO authenticated
        USING ((SELECT auth.uid()) = user_id)""",
    "rls_policy_always_true": """
        CREATE POLICY probe ON public.workers FOR UPDATE TO authenticated USING (true)""",
    "rls_references_user_metadata": """
        CREATE POLICY probe ON public.workers FOR SELECT TO authenticated
        USING ((SELECT auth.jwt()) -> 'user_metadata' ->> 'admin' = 'yes')""",
    "auth_rls_initplan": """
        CREATE POLICY probe ON public.workers FOR SELECT TO authenticated
        USING (id = auth.uid())""",
    "function_search_path_mutable": """
        CREATE FUNCTION vidgen_private.probe() RETURNS int LANGUAGE sql AS 'SELECT 1'""",
    "unindexed_foreign_keys": """
        ALTER TABLE public.workers ADD COLUMN probe uuid REFERENCES auth.users (id)""",
    "no_primary_key": """
        CREATE TABLE vidgen_private.probe (id int);
        ALTER TABLE vidgen_private.probe ENABLE ROW LEVEL SECURITY""",
    "duplicate_index": "CREATE INDEX probe ON public.jobs (status, created_at DESC, id DESC)",
    "security_definer_view": "CREATE VIEW public.probe AS SELECT 1 AS one",
    "materialized_view_or_foreign_table_in_api": (
        "CREATE MATERIALIZED VIEW public.probe AS SELECT 1 AS one"
    ),
    "auth_users_exposed": """
        CREATE VIEW public.probe WITH (security_invoker = true) AS SELECT id FROM auth.users""",
    "extension_in_public": "CREATE EXTENSION {extension} SCHEMA public",
    "unsupported_reg_types": "ALTER TABLE public.workers ADD COLUMN probe regproc",
    "fkey_to_auth_unique": """
        CREATE UNIQUE INDEX probe_email ON auth.users (email);
        ALTER TABLE public.workers ADD COLUMN probe text;
        CREATE INDEX probe_idx ON public.workers (probe);
        ALTER TABLE public.workers ADD FOREIGN KEY (probe) REFERENCES auth.users (email)""",
}


@pytest.mark.parametrize("rule", sorted(LINTER_RULES))
def test_the_schema_keeps_the_linters_rule(conn: psycopg.Connection[Any], rule: str) -> None:
    assert conn.execute(LINTER_RULES[rule].encode()).fetchall() == []


#: Small extensions a server may offer, for the extension_in_public probe.
PROBE_EXTENSIONS = ["citext", "hstore", "pg_trgm", "vector", "cube", "ltree"]


@pytest.mark.parametrize("rule", sorted(LINTER_PROBES))
def test_each_rule_catches_what_it_is_for(conn: psycopg.Connection[Any], rule: str) -> None:
    probe = LINTER_PROBES[rule]
    if "{extension}" in probe:
        row = conn.execute(
            "SELECT name FROM pg_available_extensions WHERE installed_version IS NULL "
            "AND name = ANY (%s) ORDER BY name LIMIT 1",
            (PROBE_EXTENSIONS,),
        ).fetchone()
        if row is None:
            pytest.skip("no extension this server offers to install in public")
        probe = probe.format(extension=row[0])
    with conn.transaction(force_rollback=True):
        for statement in probe.split(";"):
            conn.execute(statement.encode())
        assert conn.execute(LINTER_RULES[rule].encode()).fetchall() != []


def test_every_rule_has_a_probe() -> None:
    assert set(LINTER_PROBES) == set(LINTER_RULES)


def test_the_entry_points_of_privileged_work(conn: psycopg.Connection[Any]) -> None:
    """The data API's functions that signed-in users call and that need more than their
    privileges: SECURITY INVOKER in public, the work SECURITY DEFINER in vidgen_private."""
    rows = conn.execute(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace "
        "AND NOT p.prosecdef AND has_function_privilege('authenticated', p.oid, 'EXECUTE') "
        "AND EXISTS (SELECT 1 FROM pg_proc q WHERE q.pronamespace = "
        "'vidgen_private'::regnamespace AND q.proname = p.proname AND q.prosecdef "
        "AND has_function_privilege('authenticated', q.oid, 'EXECUTE')) ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == ["cancel_job", "claim_draft_prompt"]


def test_what_each_api_role_can_see_of_the_schema(conn: psycopg.Connection[Any]) -> None:
    """0026/0027 (pg_graphql_anon/authenticated_table_exposed): what anon and authenticated
    may select is what GraphQL introspection would show them (when pg_graphql is on).
    Visitors see nothing; signed-in users the product's own tables, each behind RLS. A new
    table users can read changes this list on purpose."""
    visible = {
        role: [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT c.relname FROM pg_class c JOIN pg_attribute a "
                "ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                "WHERE c.relkind IN ('r', 'v', 'm', 'f') "
                f"AND c.relnamespace::regnamespace::text = ANY ({EXPOSED}) "
                "AND has_column_privilege(%s, c.oid, a.attnum, 'SELECT') ORDER BY 1",
                (role,),
            ).fetchall()
        ]
        for role in ("anon", "authenticated")
    }
    assert visible == {
        "anon": [],
        "authenticated": [
            "assets",
            "credit_balances",
            "credit_ledger",
            "draft_prompts",
            "job_logs",
            "job_steps",
            "jobs",
            "profiles",
            "projects",
        ],
    }
