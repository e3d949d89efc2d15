"""What the single-file generators (``gen typescript``, ``gen docs``) share: the schema
they read, where their output goes, and writing it or checking it for drift."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import psycopg

from ..migrate import Migrator, load_migrations, throwaway_database
from ..migrate._resources import source_checkout_sql_dir
from ._catalog import Catalog, read_catalog
from ._details import Details, read_details

__all__ = ["default_output", "read_schema_details", "write_or_check"]

#: Names what differs between a freshly generated text and the file on disk.
Describe = Callable[[str, str], list[str]]


def read_schema_details(server_url: str, migrations_dir: Path | None) -> tuple[Catalog, Details]:
    """Apply the migrations to a throwaway database on ``server_url`` and read both the
    models' catalog and the details the other generators need."""
    migrations = load_migrations(migrations_dir)
    with throwaway_database(server_url, prefix="vidgen_codegen") as url:
        Migrator(url, migrations=migrations).migrate()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET search_path TO public")
            return read_catalog(conn), read_details(conn)


def default_output(relative: str) -> Path:
    """``relative`` inside the source checkout when running from one, else its file name in
    the current folder (an installed wheel has no repository to write into)."""
    sql = source_checkout_sql_dir()
    if sql is not None:
        return sql.parent / relative
    return Path(Path(relative).name)


def write_or_check(text: str, path: Path, *, check: bool, command: str, describe: Describe) -> int:
    """Write ``text`` to ``path`` (or with ``check``, compare and name the drift on stderr);
    returns the exit status."""
    existing = path.read_text(encoding="utf-8") if path.is_file() else None
    if check:
        if existing == text:
            print(f"{path.name} is up to date")
            return 0
        problems = (
            [f"{path.name}: missing (it would be generated)"]
            if existing is None
            else describe(text, existing)
        )
        for problem in problems or [f"{path.name}: differs from the generated text"]:
            print(problem, file=sys.stderr)
        print(
            f"{path.name} does not match the migrations: run 'vidgen-db {command}'",
            file=sys.stderr,
        )
        return 1
    if existing == text:
        print(f"{path} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0
