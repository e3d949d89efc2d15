"""``vidgen-db export supabase DIR``: a Supabase CLI project whose migration history agrees
with ``vidgen-db migrate`` both ways, a config.toml that parses and says what the product
needs, no bootstrap, and a refusal to write into a non-empty folder without --force."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import psycopg
import pytest

from conftest import MakeDatabase
from vidgen_db import MigrationError
from vidgen_db.cli import main
from vidgen_db.migrate import (
    MigrationState,
    Migrator,
    bootstrap_dir,
    export_supabase_project,
    load_migrations,
    migrations_dir,
    seed_file,
    split_statements,
)

#: How the Supabase CLI reads a migration's file name (pkg/migration/file.go).
CLI_FILE_NAME = re.compile(r"^([0-9]+)_(.*)\.sql$")


def _export(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    export_supabase_project(target)
    return target / "supabase"


def test_migrations_are_exported_byte_for_byte(tmp_path: Path) -> None:
    supabase = _export(tmp_path)
    packaged = sorted(p.name for p in migrations_dir().glob("*.sql"))
    exported = sorted(p.name for p in (supabase / "migrations").iterdir())
    assert exported == packaged
    for name in packaged:
        assert (supabase / "migrations" / name).read_bytes() == (
            migrations_dir() / name
        ).read_bytes()
    assert (supabase / "seed.sql").read_bytes() == seed_file().read_bytes()


def test_the_bootstrap_is_never_exported(tmp_path: Path) -> None:
    supabase = _export(tmp_path)
    bootstrap = list(bootstrap_dir().glob("*.sql"))
    assert bootstrap
    everything = [p for p in supabase.rglob("*") if p.is_file()]
    assert {p.name for p in everything}.isdisjoint({p.name for p in bootstrap})
    for path in everything:
        text = path.read_text(encoding="utf-8")
        assert "vidgen-db supabase compatibility bootstrap" not in text
        assert not re.search(r"CREATE\s+(SCHEMA|TABLE)\s+(IF NOT EXISTS\s+)?auth\b", text)
        assert not re.search(r"CREATE\s+ROLE\s+(anon|authenticated|service_role)\b", text)


def test_config_toml_parses_and_has_the_products_settings(tmp_path: Path) -> None:
    supabase = _export(tmp_path)
    config = tomllib.loads((supabase / "config.toml").read_text(encoding="utf-8"))
    assert config["project_id"] == "vidgen"
    assert "public" in config["api"]["schemas"]
    assert "vidgen_private" not in config["api"]["schemas"]
    assert config["db"]["major_version"] >= 15
    assert config["db"]["migrations"]["enabled"] is True
    assert config["db"]["seed"]["enabled"] is True
    for seed in config["db"]["seed"]["sql_paths"]:
        assert (supabase / seed).resolve() == (supabase / "seed.sql").resolve()
    assert config["realtime"]["enabled"] is True
    auth = config["auth"]
    assert auth["enabled"] is True and auth["enable_signup"] is True
    assert auth["email"].get("enabled", True) is True  # email sign-ups: the default
    # The sign-up trigger grants welcome credits to every new auth.users row.
    assert auth["enable_anonymous_sign_ins"] is False
    assert auth["site_url"].startswith("http")


def _apply_as_the_supabase_cli(url: str, folder: Path) -> None:
    """What ``supabase migration up`` does with each file of ``folder`` on a database that
    already has Supabase's roles and auth schema: run its statements and record
    (version, name, statements) in the same transaction."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in (
            "CREATE SCHEMA IF NOT EXISTS supabase_migrations",
            "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations "
            "(version text NOT NULL PRIMARY KEY)",
            "ALTER TABLE supabase_migrations.schema_migrations "
            "ADD COLUMN IF NOT EXISTS statements text[]",
            "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text",
        ):
            conn.execute(statement)
        for path in sorted(folder.glob("*.sql")):
            match = CLI_FILE_NAME.match(path.name)
            assert match is not None
            # The CLI keeps each statement as written, trimmed of whitespace and its ';'
            # (a trailing comment after the last ';' is kept as a statement of its own).
            statements = [*split_statements(path.read_text(encoding="utf-8")), "-- end"]
            with conn.transaction():
                for statement in statements:
                    conn.execute(statement.encode("utf-8"))
                conn.execute(
                    "INSERT INTO supabase_migrations.schema_migrations(version, name, statements) "
                    "VALUES (%s, %s, %s)",
                    (match[1], match[2], statements),
                )


def _history(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT version, name FROM supabase_migrations.schema_migrations ORDER BY version"
        ).fetchall()
    return [(str(v), str(n)) for v, n in rows]


def _bootstrap(url: str) -> None:
    """Supabase's roles and auth schema on plain PostgreSQL (a Supabase project has them)."""
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        for path in sorted(bootstrap_dir().glob("*.sql")):
            for statement in split_statements(path.read_text(encoding="utf-8")):
                conn.execute(statement.encode("utf-8"))


def test_a_history_written_by_the_cli_is_vidgens(
    make_database: MakeDatabase, tmp_path: Path
) -> None:
    supabase = _export(tmp_path)
    url = make_database()
    _bootstrap(url)
    _apply_as_the_supabase_cli(url, supabase / "migrations")
    migrator = Migrator(url)
    assert {s.state for s in migrator.status()} == {MigrationState.APPLIED}
    assert migrator.migrate() == []
    exported = Migrator(url, migrations=load_migrations(supabase / "migrations"))
    assert {s.state for s in exported.status()} == {MigrationState.APPLIED}


def test_vidgens_history_is_the_clis(migrated_url: str, tmp_path: Path) -> None:
    supabase = _export(tmp_path)
    local = []
    for path in sorted((supabase / "migrations").glob("*.sql")):
        match = CLI_FILE_NAME.match(path.name)
        assert match is not None
        local.append((match[1], match[2]))
    # `supabase migration list` and `db push` match local files to the history by version;
    # the names agree too.
    assert _history(migrated_url) == local
    with psycopg.connect(migrated_url) as conn:
        recorded = dict(
            conn.execute(
                "SELECT version, statements FROM supabase_migrations.schema_migrations"
            ).fetchall()
        )
    for path in sorted((supabase / "migrations").glob("*.sql")):
        statements = split_statements(path.read_text(encoding="utf-8"))
        assert recorded[path.name[:14]] == statements


def test_a_non_empty_folder_is_refused_without_force(tmp_path: Path) -> None:
    target = tmp_path / "app"
    target.mkdir()
    (target / "package.json").write_text("{}\n")
    with pytest.raises(MigrationError) as info:
        export_supabase_project(target)
    assert "is not empty: pass --force" in str(info.value)
    assert "\n" not in str(info.value)
    assert not (target / "supabase").exists()
    stray = target / "supabase" / "migrations" / "20250101000000_hand_made.sql"
    stray.parent.mkdir(parents=True)
    stray.write_text("SELECT 1;\n")
    result = export_supabase_project(target, force=True)
    assert result.foreign == [stray]
    assert stray.exists()
    assert (target / "package.json").read_text() == "{}\n"


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "repo"
    assert main(["export", "supabase", str(target), "--project-id", "vidgen-dev"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {target / 'supabase' / 'config.toml'}" in out
    config = tomllib.loads((target / "supabase" / "config.toml").read_text(encoding="utf-8"))
    assert config["project_id"] == "vidgen-dev"
    assert main(["export", "supabase", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: ") and "pass --force" in err
    assert main(["export", "supabase", str(target), "--force"]) == 0


def test_cli_exports_another_migrations_folder(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20990101000000_only_one.sql").write_text("SELECT 1;\n")
    target = tmp_path / "out"
    assert main(["export", "supabase", str(target), "--migrations-dir", str(folder)]) == 0
    assert [p.name for p in (target / "supabase" / "migrations").iterdir()] == [
        "20990101000000_only_one.sql"
    ]


def _supabase_cli() -> str:
    cli = os.environ.get("VIDGEN_SUPABASE_CLI") or shutil.which("supabase")
    if not cli:
        pytest.skip("the Supabase CLI is not installed (or set VIDGEN_SUPABASE_CLI)")
    return cli


def test_the_supabase_cli_itself_agrees(make_database: MakeDatabase, tmp_path: Path) -> None:
    """With the real CLI: it pushes the exported project (its config.toml loads), vidgen sees
    every migration applied; vidgen migrates, the CLI has nothing to push."""
    cli = _supabase_cli()
    target = tmp_path / "project"
    export_supabase_project(target)

    def supabase(*args: str) -> str:
        result = subprocess.run(
            [cli, *args], cwd=target, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    pushed = make_database()
    _bootstrap(pushed)
    output = supabase("db", "push", "--db-url", pushed, "--yes")
    assert "is deprecated" not in output.replace("--db-url is deprecated", "")
    assert {s.state for s in Migrator(pushed).status()} == {MigrationState.APPLIED}
    migrated = make_database()
    Migrator(migrated).migrate()
    assert "Remote database is up to date" in supabase(
        "db", "push", "--db-url", migrated, "--dry-run"
    )
    query = "SELECT version, name, statements FROM supabase_migrations.schema_migrations"
    with psycopg.connect(pushed) as a, psycopg.connect(migrated) as b:
        assert sorted(a.execute(query).fetchall()) == sorted(b.execute(query).fetchall())
