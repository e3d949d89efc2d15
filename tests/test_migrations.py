"""The migration runner on a real PostgreSQL: from empty, re-run, status, edited files,
concurrent runners, failure rollback, the bootstrap, and the CLI."""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from conftest import MakeDatabase
from vidgen_db import MigrationEditedError, MigrationFailedError
from vidgen_db.cli import main as cli
from vidgen_db.migrate import MigrationState, Migrator, load_migrations, migrations_dir
from vidgen_db.migrate._runner import is_bootstrapped

EXPECTED_TABLES = {
    "profiles",
    "draft_prompts",
    "projects",
    "jobs",
    "job_steps",
    "credit_ledger",
    "assets",
    "job_logs",
}


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def _history(url: str) -> list[tuple[str, str, list[str]]]:
    with psycopg.connect(url) as conn:
        return conn.execute(  # type: ignore[return-value]
            "SELECT version, name, statements FROM supabase_migrations.schema_migrations "
            "ORDER BY version"
        ).fetchall()


def test_migrate_from_empty_then_rerun_is_a_no_op(make_database: MakeDatabase) -> None:
    url = make_database()
    files = load_migrations()
    applied = Migrator(url).migrate()
    assert [m.filename for m in applied] == [m.filename for m in files]
    assert _tables(url) >= EXPECTED_TABLES
    history = _history(url)
    assert [(v, n) for v, n, _ in history] == [(m.version, m.name) for m in files]
    assert all(statements for _, _, statements in history)

    assert Migrator(url).migrate() == []
    assert _history(url) == history
    assert {s.state for s in Migrator(url).status()} == {MigrationState.APPLIED}


def test_history_table_has_the_supabase_cli_shape(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        cols = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'supabase_migrations' AND table_name = 'schema_migrations' "
            "ORDER BY ordinal_position"
        ).fetchall()
    assert cols == [("version", "text"), ("statements", "ARRAY"), ("name", "text")]


def _copy_migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    return folder


def test_status_shows_pending_then_applied(make_database: MakeDatabase, tmp_path: Path) -> None:
    url = make_database()
    folder = _copy_migrations(tmp_path)
    last = sorted(folder.iterdir())[-1]
    held_back = last.read_text()
    last.unlink()
    Migrator(url, migrations=load_migrations(folder)).migrate()
    last.write_text(held_back)
    status = Migrator(url, migrations=load_migrations(folder)).status()
    assert [s.state for s in status][-1] is MigrationState.PENDING
    assert {s.state for s in status[:-1]} == {MigrationState.APPLIED}
    applied = Migrator(url, migrations=load_migrations(folder)).migrate()
    assert [m.filename for m in applied] == [last.name]


def test_an_applied_migration_edited_afterwards_is_refused(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    url = make_database()
    folder = _copy_migrations(tmp_path)
    Migrator(url, migrations=load_migrations(folder)).migrate()
    target = folder / "20260106000000_add_assets.sql"
    target.write_text(target.read_text().replace("size_bytes bigint", "size_bytes integer"))
    with pytest.raises(MigrationEditedError) as info:
        Migrator(url, migrations=load_migrations(folder)).migrate()
    assert "20260106000000_add_assets.sql" in str(info.value)
    status = {
        s.version: s.state for s in Migrator(url, migrations=load_migrations(folder)).status()
    }
    assert status["20260106000000"] is MigrationState.EDITED


def test_comment_and_whitespace_changes_are_not_edits(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    url = make_database()
    folder = _copy_migrations(tmp_path)
    Migrator(url, migrations=load_migrations(folder)).migrate()
    target = folder / "20260106000000_add_assets.sql"
    target.write_text("-- reworded header\n\n" + target.read_text().replace("  ", "    "))
    assert Migrator(url, migrations=load_migrations(folder)).migrate() == []


def test_a_failing_migration_leaves_the_database_as_it_was(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    url = make_database()
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20300101000000_first.sql").write_text("create table public.first_t (a int);\n")
    (folder / "20300102000000_broken.sql").write_text(
        "create table public.second_t (a int);\n"
        "insert into public.second_t values (1);\n"
        "insert into public.no_such_table values (1);\n"
    )
    with pytest.raises(MigrationFailedError) as info:
        Migrator(url, migrations=load_migrations(folder), bootstrap=False).migrate()
    message = str(info.value)
    assert "20300102000000_broken.sql" in message
    assert "statement 3" in message and "no_such_table" in message
    assert info.value.sqlstate == "42P01"
    tables = _tables(url)
    assert "first_t" in tables and "second_t" not in tables
    assert [v for v, _, _ in _history(url)] == ["20300101000000"]


def test_concurrent_runners_apply_each_migration_once(make_database: MakeDatabase) -> None:
    url = make_database()
    results: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            barrier.wait()
            results.append([m.version for m in Migrator(url).migrate()])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    every = [v for applied in results for v in applied]
    assert sorted(every) == [m.version for m in load_migrations()]  # each exactly once
    assert len(_history(url)) == len(load_migrations())


def test_bad_file_names_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "001_init.sql").write_text("select 1;")
    with pytest.raises(Exception, match=r"bad migration file name '001_init\.sql'"):
        load_migrations(tmp_path)


def test_bootstrap_runs_on_plain_postgres(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        assert is_bootstrapped(conn)
        roles = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT rolname, rolbypassrls FROM pg_roles "
                "WHERE rolname IN ('anon','authenticated','service_role','authenticator')"
            ).fetchall()
        }
    assert roles == {
        "anon": False,
        "authenticated": False,
        "service_role": True,
        "authenticator": False,
    }


def test_bootstrap_is_skipped_when_auth_users_exists(make_database: MakeDatabase) -> None:
    url = make_database()
    with psycopg.connect(url, autocommit=True) as conn:
        # A database that already is Supabase: its own auth schema, which must stay as is.
        Migrator(url, migrations=[]).migrate()  # roles only come from a bootstrap elsewhere
        conn.execute("DROP SCHEMA auth CASCADE")
        conn.execute("CREATE SCHEMA auth")
        conn.execute(
            "CREATE TABLE auth.users (id uuid PRIMARY KEY, email text, "
            "raw_user_meta_data jsonb, marker text DEFAULT 'supabase')"
        )
        conn.execute(
            "CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS "
            "$$ SELECT (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> "
            "'sub')::uuid $$"
        )
    Migrator(url).migrate()
    with psycopg.connect(url) as conn:
        assert not is_bootstrapped(conn)
        cols = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'auth' AND table_name = 'users'"
            ).fetchall()
        }
        assert "marker" in cols and "is_anonymous" not in cols
        conn.execute("INSERT INTO auth.users (id, email) VALUES (gen_random_uuid(), 'x@y')")
        assert conn.execute("SELECT count(*) FROM public.profiles").fetchone() == (1,)


def test_reset_drops_data_and_reapplies(migrated_url: str) -> None:
    with psycopg.connect(migrated_url) as conn:
        conn.execute("INSERT INTO auth.users (id) VALUES (gen_random_uuid())")
    applied = Migrator(migrated_url).reset()
    assert len(applied) == len(load_migrations())
    with psycopg.connect(migrated_url) as conn:
        assert conn.execute("SELECT count(*) FROM public.profiles").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM auth.users").fetchone() == (0,)


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_migrate_and_status(
    make_database: MakeDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_database()
    assert cli(["migrate", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert out.count("applied ") == len(load_migrations())
    assert cli(["migrate", "--database-url", url]) == 0
    assert "up to date" in capsys.readouterr().out
    assert cli(["status", "--database-url", url]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    assert len(lines) == len(load_migrations())
    assert all(line.endswith("applied") for line in lines)


def test_cli_reports_an_edited_migration(
    make_database: MakeDatabase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_database()
    folder = _copy_migrations(tmp_path)
    assert cli(["migrate", "--database-url", url, "--migrations-dir", str(folder)]) == 0
    target = folder / "20260102000000_add_profiles.sql"
    target.write_text(target.read_text() + "\nCREATE TABLE public.sneaky (a int);\n")
    assert cli(["migrate", "--database-url", url, "--migrations-dir", str(folder)]) == 1
    assert "20260102000000_add_profiles.sql was edited" in capsys.readouterr().err


def test_cli_reset_refuses_a_remote_host_and_needs_confirmation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    remote = "postgresql://postgres@db.example.com:5432/postgres"
    assert cli(["reset", "--yes", "--database-url", remote]) == 2
    assert "not local" in capsys.readouterr().err


def test_cli_reset_without_yes_and_without_a_terminal_refuses(
    migrated_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert cli(["reset", "--database-url", migrated_url]) == 2
    assert "--yes" in capsys.readouterr().err
    assert cli(["reset", "--yes", "--database-url", migrated_url]) == 0


def test_cli_new_creates_a_timestamped_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["new", "Add Invoices", "--migrations-dir", str(tmp_path)]) == 0
    created = Path(capsys.readouterr().out.strip())
    assert created.parent == tmp_path
    assert created.name.endswith("_add_invoices.sql")
    load_migrations(tmp_path)  # the name it chose is one the loader accepts
    assert cli(["new", "bad/name!", "--migrations-dir", str(tmp_path)]) == 2


def test_cli_seed_loads_development_data(
    migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["seed", "--database-url", migrated_url]) == 0
    assert cli(["seed", "--database-url", migrated_url]) == 0  # idempotent
    with psycopg.connect(migrated_url) as conn:
        assert conn.execute("SELECT count(*) FROM public.profiles").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM public.draft_prompts").fetchone() == (1,)


def test_cli_unreachable_database_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["status", "--database-url", "postgresql://nobody@127.0.0.1:1/none"]) == 1
    assert "cannot reach the database" in capsys.readouterr().err


def test_migrations_touch_the_auth_schema_only_with_the_new_user_trigger() -> None:
    import re

    ddl = re.compile(
        r"^\s*(CREATE|ALTER|DROP|GRANT|REVOKE|COMMENT|TRUNCATE|INSERT|UPDATE|DELETE)\b", re.I
    )
    touches_auth = re.compile(r"\bauth\.(?!uid\(\)|role\(\)|jwt\(\)|email\(\))", re.I)
    offending = []
    for migration in load_migrations():
        for statement in migration.statements:
            code = "\n".join(
                line for line in statement.splitlines() if not line.strip().startswith("--")
            )
            # Foreign keys to auth.users are how Supabase apps reference users: allowed.
            outside_bodies = re.sub(r"REFERENCES auth\.users", "", code.split("$$")[0], flags=re.I)
            if ddl.match(code) and touches_auth.search(outside_bodies):
                head = " ".join(code.split())[:80]
                if not re.match(
                    r"(CREATE TRIGGER|DROP TRIGGER IF EXISTS) on_auth_user_created", head
                ):
                    offending.append(f"{migration.filename}: {head}")
    assert offending == []


def test_jobs_join_supabase_realtime_when_its_publication_exists(
    make_database: MakeDatabase,
) -> None:
    url = make_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE PUBLICATION supabase_realtime")
    Migrator(url).migrate()
    with psycopg.connect(url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_publication_tables WHERE pubname = 'supabase_realtime'"
            ).fetchall()
        }
    assert tables == {"jobs", "job_steps"}


# -- vidgen-db verify ------------------------------------------------------------------------


def test_verify_passes_on_a_freshly_migrated_database(
    migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["verify", "--database-url", migrated_url]) == 0
    out = capsys.readouterr().out
    assert out == f"ok: the database matches its {len(load_migrations())} applied migrations\n"


def _first_policy(url: str, table: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT polname FROM pg_policy WHERE polrelid = %s::regclass ORDER BY 1", (table,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_verify_names_each_difference_and_exits_1(
    migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = _first_policy(migrated_url, "public.projects")
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        for statement in (
            "GRANT UPDATE ON public.credit_balances TO service_role",
            f"DROP POLICY {policy} ON public.projects",
            "ALTER TABLE public.jobs DISABLE ROW LEVEL SECURITY",
            "ALTER TABLE public.workers FORCE ROW LEVEL SECURITY",
            "DROP TRIGGER on_auth_user_created ON auth.users",
            "ALTER FUNCTION public.get_credit_balance(uuid) SET search_path = public",
            "ALTER FUNCTION public.reserve_credits(uuid, uuid, integer) SECURITY INVOKER",
            "ALTER TABLE public.credit_ledger DISABLE TRIGGER tr_credit_ledger_apply",
            "GRANT UPDATE (created_at) ON public.projects TO authenticated",
            "REVOKE USAGE ON SCHEMA vidgen_private FROM anon",
            "CREATE TABLE public.scratch (a int)",
            "CREATE FUNCTION public.helper() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        ):
            conn.execute(statement.encode())
    assert cli(["verify", "--database-url", migrated_url]) == 1
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines()]
    expected = [
        "table public.credit_balances: service_role has UPDATE, the migrations grant only SELECT",
        f"policy {policy} on public.projects: is missing (FOR ",
        "table public.jobs: row level security is disabled, the migrations enable it",
        "table public.workers: row level security is forced, the migrations do not force it",
        "trigger on_auth_user_created on auth.users: is missing (CREATE TRIGGER "
        "on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION "
        "public.handle_new_user())",
        "function public.get_credit_balance(uuid): sets search_path to public, "
        "the migrations set it to ''",
        "function public.reserve_credits(uuid,uuid,integer): is SECURITY INVOKER, "
        "the migrations make it SECURITY DEFINER",
        "trigger tr_credit_ledger_apply on public.credit_ledger: is disabled, "
        "the migrations leave it enabled",
        "column public.projects.created_at: authenticated has UPDATE, "
        "the migrations grant authenticated nothing on this column",
        "schema vidgen_private: anon lacks USAGE, which the migrations grant",
        "table public.scratch: is not defined by the migrations",
        "function public.helper(): is not defined by the migrations",
    ]
    for wanted in expected:
        assert any(line.startswith(wanted) for line in lines), f"{wanted!r} not in:\n{out}"
    # Grouped under section headers, then a one-line summary.
    for header in (
        "schemas:",
        "tables:",
        "row level security:",
        "policies:",
        "grants:",
        "triggers:",
        "functions:",
    ):
        assert header in lines
    assert lines[-1] == (
        f"{len(expected)} differences from the {len(load_migrations())} applied migrations"
    )


def test_verify_reports_the_history(
    make_database: MakeDatabase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = make_database()
    folder = _copy_migrations(tmp_path)
    Migrator(url, migrations=load_migrations(folder)).migrate()
    files = sorted(folder.iterdir())
    # A file gone, another edited, a new one not applied yet.
    files[-1].unlink()
    files[0].write_text(files[0].read_text() + "\nCREATE TABLE public.sneaky (a int);\n")
    (folder / "29990101000000_later.sql").write_text("CREATE TABLE public.later (a int);\n")
    assert cli(["verify", "--database-url", url, "--migrations-dir", str(folder)]) == 1
    out = capsys.readouterr().out
    assert f"migration {files[-1].stem}: is recorded as applied but has no file here" in out
    assert f"migration {files[0].stem}: was edited after it was applied" in out
    # The edited file is what the database is compared with: its new table is missing.
    assert "table public.sneaky: is missing" in out
    assert out.rstrip().endswith("; 1 pending (vidgen-db migrate applies them)")

    empty = make_database()
    assert cli(["verify", "--database-url", empty]) == 1
    assert "supabase_migrations.schema_migrations: is missing" in capsys.readouterr().out


def test_verify_builds_its_reference_elsewhere_when_the_server_refuses(
    admin_url: str, migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from psycopg.conninfo import make_conninfo

    role = f"vidgen_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB")
    try:
        with psycopg.connect(migrated_url, autocommit=True) as conn:
            conn.execute(f"GRANT USAGE ON SCHEMA supabase_migrations TO {role}")
            conn.execute(f"GRANT SELECT ON supabase_migrations.schema_migrations TO {role}")
        reader = make_conninfo(migrated_url, user=role)
        assert cli(["verify", "--database-url", reader]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: cannot create the reference database on this server")
        assert "--reference-url" in err and len(err.strip().splitlines()) == 1
        assert cli(["verify", "--database-url", reader, "--reference-url", admin_url]) == 0
        assert capsys.readouterr().out.startswith("ok: ")
    finally:
        with psycopg.connect(migrated_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP ROLE {role}")


def test_verify_can_build_its_reference_in_the_embedded_postgres(
    migrated_url: str,
    server_version: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("pgserver")
    folder = Path(tempfile.mkdtemp(prefix="vidgen-ref-"))  # short: the socket lives there
    monkeypatch.setenv("VIDGEN_DB_DATA_DIR", str(folder))
    try:
        code = cli(["verify", "--database-url", migrated_url, "--reference-embedded"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert out.startswith("ok: the database matches its")
    if server_version // 10000 != 16:  # the embedded server is PostgreSQL 16
        assert "note: the reference server runs PostgreSQL 16" in err
