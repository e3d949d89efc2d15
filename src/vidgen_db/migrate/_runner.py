"""Apply vidgen_db's migrations to a PostgreSQL database, Supabase-CLI compatible.

History lives in ``supabase_migrations.schema_migrations (version, name, statements)``,
exactly as the Supabase CLI keeps it, so either tool can take over. Each migration runs
in one transaction, under a transaction-level advisory lock (safe through a pooler in
transaction mode, which is also why no server-side prepared statements are used).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import psycopg
from psycopg import sql

from .._errors import MigrationEditedError as MigrationEditedError
from .._errors import MigrationError, MigrationFailedError
from ._resources import bootstrap_dir, migrations_dir
from ._sqlsplit import normalize_statements, split_statements

__all__ = [
    "Migration",
    "MigrationState",
    "MigrationStatus",
    "Migrator",
    "load_migrations",
]

#: Key of the advisory lock that serializes migration runners (ASCII "vidgenDB").
ADVISORY_LOCK_KEY = 0x76696467656E4442
_FILENAME = re.compile(r"^(?P<version>\d{14})_(?P<name>[a-z0-9_]+)\.sql$")
_BOOTSTRAP_MARKER = "vidgen-db supabase compatibility bootstrap"


@dataclass(frozen=True)
class Migration:
    """One migration file: ``<14-digit version>_<name>.sql``."""

    version: str
    name: str
    path: Path
    statements: tuple[str, ...]

    @property
    def filename(self) -> str:
        return self.path.name


class MigrationState(StrEnum):
    APPLIED = "applied"
    PENDING = "pending"
    EDITED = "edited"
    MISSING_FILE = "applied, no local file"


@dataclass(frozen=True)
class MigrationStatus:
    version: str
    name: str
    state: MigrationState


def load_migrations(directory: Path | None = None) -> list[Migration]:
    """Read and split every migration in ``directory``, in version order."""
    folder = directory or migrations_dir()
    if not folder.is_dir():
        raise MigrationError(f"migrations folder not found: {folder}")
    migrations: list[Migration] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _FILENAME.match(path.name)
        if not match:
            raise MigrationError(
                f"bad migration file name {path.name!r}: expected "
                "<14-digit UTC timestamp>_<lowercase_name>.sql"
            )
        version = match["version"]
        if version in seen:
            raise MigrationError(
                f"two migrations share version {version}: {seen[version]} and {path.name}"
            )
        seen[version] = path.name
        try:
            statements = tuple(split_statements(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise MigrationError(f"cannot parse migration {path.name}: {exc}") from exc
        migrations.append(Migration(version, match["name"], path, statements))
    return migrations


class Migrator:
    """Applies migrations to the database at ``url``."""

    def __init__(
        self,
        url: str,
        *,
        migrations: Sequence[Migration] | None = None,
        bootstrap: bool = True,
    ) -> None:
        self.url = url
        self.migrations = list(migrations) if migrations is not None else load_migrations()
        self.bootstrap = bootstrap

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        # prepare_threshold=None: no server-side prepared statements (transaction poolers).
        return psycopg.connect(self.url, autocommit=True, prepare_threshold=None)

    # -- history -----------------------------------------------------------------------

    @staticmethod
    def _ensure_history(conn: psycopg.Connection[tuple[object, ...]]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            conn.execute("CREATE SCHEMA IF NOT EXISTS supabase_migrations")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations "
                "(version text NOT NULL PRIMARY KEY)"
            )
            conn.execute(
                "ALTER TABLE supabase_migrations.schema_migrations "
                "ADD COLUMN IF NOT EXISTS statements text[]"
            )
            conn.execute(
                "ALTER TABLE supabase_migrations.schema_migrations "
                "ADD COLUMN IF NOT EXISTS name text"
            )

    @staticmethod
    def _history(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, tuple[str, list[str]]]:
        exists = conn.execute(
            "SELECT to_regclass('supabase_migrations.schema_migrations') IS NOT NULL"
        ).fetchone()
        if not exists or not exists[0]:
            return {}
        rows = conn.execute(
            "SELECT version, coalesce(name, ''), coalesce(statements, '{}') "
            "FROM supabase_migrations.schema_migrations ORDER BY version"
        ).fetchall()
        return {str(v): (str(n), list(s)) for v, n, s in rows}  # type: ignore[call-overload]

    def status(self) -> list[MigrationStatus]:
        """Every migration, local or recorded, with whether it is applied, pending or edited."""
        with self._connect() as conn:
            history = self._history(conn)
        result: list[MigrationStatus] = []
        local = {m.version: m for m in self.migrations}
        for version in sorted(set(local) | set(history)):
            migration = local.get(version)
            if migration is None:
                name = history[version][0]
                result.append(MigrationStatus(version, name, MigrationState.MISSING_FILE))
            elif version not in history:
                result.append(MigrationStatus(version, migration.name, MigrationState.PENDING))
            elif _edited(migration, history[version][1]):
                result.append(MigrationStatus(version, migration.name, MigrationState.EDITED))
            else:
                result.append(MigrationStatus(version, migration.name, MigrationState.APPLIED))
        return result

    # -- applying ----------------------------------------------------------------------

    def migrate(self) -> list[Migration]:
        """Apply every pending migration; returns those this call applied.

        Refuses to start when an applied migration's file was edited since.
        """
        applied: list[Migration] = []
        with self._connect() as conn:
            self._ensure_history(conn)
            history = self._history(conn)
            for migration in self.migrations:
                recorded = history.get(migration.version)
                if recorded is not None and _edited(migration, recorded[1]):
                    raise MigrationEditedError(migration.version, migration.filename)
            if self.bootstrap:
                self._bootstrap_if_needed(conn)
            for migration in self.migrations:
                if self._apply_one(conn, migration):
                    applied.append(migration)
        return applied

    def _apply_one(
        self, conn: psycopg.Connection[tuple[object, ...]], migration: Migration
    ) -> bool:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            row = conn.execute(
                "SELECT statements FROM supabase_migrations.schema_migrations WHERE version = %s",
                (migration.version,),
            ).fetchone()
            if row is not None:
                if _edited(migration, list(row[0] or [])):  # type: ignore[call-overload]
                    raise MigrationEditedError(migration.version, migration.filename)
                return False  # another runner applied it meanwhile
            _run_statements(conn, migration.filename, migration.statements)
            conn.execute(
                "INSERT INTO supabase_migrations.schema_migrations (version, name, statements) "
                "VALUES (%s, %s, %s)",
                (migration.version, migration.name, list(migration.statements)),
            )
        return True

    def _bootstrap_if_needed(self, conn: psycopg.Connection[tuple[object, ...]]) -> bool:
        """Create Supabase's roles and auth schema on plain PostgreSQL (never on Supabase)."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            row = conn.execute("SELECT to_regclass('auth.users') IS NOT NULL").fetchone()
            if row and row[0]:
                return False
            for path in sorted(bootstrap_dir().glob("*.sql")):
                statements = split_statements(path.read_text(encoding="utf-8"))
                _run_statements(conn, f"bootstrap/{path.name}", statements)
            conn.execute(
                sql.SQL("COMMENT ON SCHEMA auth IS {}").format(sql.Literal(_BOOTSTRAP_MARKER))
            )
        return True

    # -- reset -------------------------------------------------------------------------

    def reset(self) -> list[Migration]:
        """Drop everything the migrations made (and a bootstrapped auth schema), re-apply."""
        with self._connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            conn.execute("DROP SCHEMA IF EXISTS supabase_migrations CASCADE")
            conn.execute("DROP SCHEMA IF EXISTS vidgen_private CASCADE")
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
            conn.execute("GRANT ALL ON SCHEMA public TO CURRENT_USER")
            conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
            if is_bootstrapped(conn):
                conn.execute("DROP SCHEMA auth CASCADE")
        return self.migrate()


def is_bootstrapped(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    """Whether the database's auth schema is vidgen-db's stand-in rather than Supabase's."""
    row = conn.execute(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = 'auth'"
    ).fetchone()
    return row is not None and row[0] == _BOOTSTRAP_MARKER


def _edited(migration: Migration, recorded: list[str]) -> bool:
    return normalize_statements(list(migration.statements)) != normalize_statements(recorded)


def _run_statements(
    conn: psycopg.Connection[tuple[object, ...]], filename: str, statements: Sequence[str]
) -> None:
    for index, statement in enumerate(statements):
        try:
            conn.execute(statement.encode("utf-8"))  # bytes: no client-side placeholder parsing
        except psycopg.Error as exc:
            message = exc.diag.message_primary or str(exc)
            raise MigrationFailedError(filename, index, statement, exc.sqlstate, message) from exc
