"""Does a database still hold what its migrations define? (``vidgen-db verify``)

A restore, a hand-made fix or a platform's default privileges can leave a database whose
history says every migration is applied while its grants, policies or triggers say
otherwise. :func:`verify_database` rebuilds what the applied migrations define in a
throwaway database (on the same server, or on ``reference_server_url`` where the database's
own server does not allow creating databases, as on a Supabase project), reads the same
catalog facts from both and lists every difference.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import psycopg

from .._errors import MigrationError
from ._catalog import managed_schemas, read_catalog
from ._compare import SECTIONS, Difference, compare_catalogs
from ._runner import Migration, MigrationState, Migrator, load_migrations
from ._throwaway import throwaway_database

__all__ = ["Difference", "VerifyReport", "verify_database"]

_HISTORY = "supabase_migrations.schema_migrations"


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :func:`verify_database`: no differences means the database holds
    exactly what its applied migrations define (as far as the compared facts go)."""

    differences: tuple[Difference, ...]
    #: The versions the comparison rebuilt (those the database's history records).
    compared: tuple[str, ...]
    #: Versions with a file but not applied: ``vidgen-db migrate`` would apply them.
    pending: tuple[str, ...]
    #: Remarks on the comparison itself (a reference server of another major version...).
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.differences

    def grouped(self) -> dict[str, list[Difference]]:
        """The differences by section, in report order."""
        groups: dict[str, list[Difference]] = {}
        for section in SECTIONS:
            found = [d for d in self.differences if d.section == section]
            if found:
                groups[section] = found
        return groups

    def summary(self) -> str:
        """One line: whether the database matches its migrations."""
        count = len(self.compared)
        migrations = f"{count} applied migration{'s' if count != 1 else ''}"
        pending = (
            f"; {len(self.pending)} pending (vidgen-db migrate applies them)"
            if self.pending
            else ""
        )
        if self.ok:
            return f"ok: the database matches its {migrations}{pending}"
        n = len(self.differences)
        return f"{n} difference{'s' if n != 1 else ''} from the {migrations}{pending}"


def verify_database(
    url: str,
    *,
    migrations: Sequence[Migration] | None = None,
    reference_server_url: str | None = None,
) -> VerifyReport:
    """Compare the database at ``url`` with what its applied migrations define.

    The migrations are the files (``migrations``, by default the packaged ones) whose
    versions the database's history records. They are applied to a throwaway database
    created on ``reference_server_url`` (default: the server of ``url``), which needs a role
    allowed to create databases; nothing is written to the database at ``url``.
    """
    local = list(migrations) if migrations is not None else load_migrations()
    differences: list[Difference] = []
    with _connect(url) as conn:
        has_history = _has_history(conn)
        live_version = conn.info.server_version
    if not has_history:
        differences.append(
            Difference(
                "migration history",
                _HISTORY,
                "is missing: nothing records which migrations were applied "
                "(restore it with the schema, or run vidgen-db migrate on an empty database)",
            )
        )
    compared: list[str] = []
    pending: list[str] = []
    for status in Migrator(url, migrations=local).status() if has_history else []:
        label = f"migration {status.version}_{status.name}"
        if status.state is MigrationState.PENDING:
            pending.append(status.version)
            continue
        if status.state is MigrationState.MISSING_FILE:
            differences.append(
                Difference(
                    "migration history",
                    label,
                    "is recorded as applied but has no file here: what it defined is not "
                    "compared (pass the folder that has it with --migrations-dir)",
                )
            )
            continue
        if status.state is MigrationState.EDITED:
            differences.append(
                Difference(
                    "migration history",
                    label,
                    "was edited after it was applied: the database is compared with the "
                    "file as it is now",
                )
            )
        compared.append(status.version)
    to_apply = [m for m in local if m.version in set(compared)]

    notes: list[str] = []
    with _reference_database(reference_server_url or url) as reference_url:
        try:
            ref = _connect(reference_url)
        except psycopg.OperationalError as exc:
            raise MigrationError(
                f"cannot reach the reference database made on the server ({exc}): give a "
                "PostgreSQL server where databases may be created and reached as the "
                "reference (--reference-url)"
            ) from exc
        ref.close()
        Migrator(reference_url, migrations=to_apply).migrate()
        with _connect(reference_url) as ref:
            schemas = managed_schemas(ref)
            expected = read_catalog(ref, schemas)
            reference_version = ref.info.server_version
    if reference_version // 10000 != live_version // 10000:
        notes.append(
            f"the reference server runs PostgreSQL {reference_version // 10000} and this "
            f"database {live_version // 10000}: expressions may be worded differently"
        )
    with _connect(url) as conn:
        actual = read_catalog(conn, schemas)
    differences.extend(compare_catalogs(expected, actual))
    return VerifyReport(tuple(differences), tuple(compared), tuple(pending), tuple(notes))


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    # prepare_threshold=None: no server-side prepared statements (transaction poolers).
    return psycopg.connect(url, autocommit=True, prepare_threshold=None)


def _has_history(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (_HISTORY,)).fetchone()
    return bool(row and row[0])


@contextmanager
def _reference_database(server_url: str) -> Iterator[str]:
    """A throwaway database on ``server_url``, with a clear error where none may be made."""
    with ExitStack() as stack:
        try:
            reference_url = stack.enter_context(
                throwaway_database(server_url, prefix="vidgen_verify")
            )
        except psycopg.errors.InsufficientPrivilege as exc:
            raise MigrationError(
                "cannot create the reference database on this server "
                f"({exc.diag.message_primary or exc}): give a PostgreSQL server where "
                "databases may be created as the reference (--reference-url)"
            ) from exc
        yield reference_url
