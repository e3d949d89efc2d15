"""``vidgen-db migrate | status | verify | new | reset | seed``: the migration tool's commands."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ..migrate import Migrator, load_migrations, seed_file, split_statements, verify_database
from ..migrate._dsn import host_of, redact
from ..migrate._resources import source_checkout_sql_dir
from ._options import Parents, Subparsers, migrations_dir, open_database
from ._output import one_line

__all__ = ["register"]

_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


def _migrator(args: argparse.Namespace, url: str) -> Migrator:
    return Migrator(url, migrations=load_migrations(migrations_dir(args)))


def _cmd_migrate(args: argparse.Namespace) -> int:
    with open_database(args) as url:
        applied = _migrator(args, url).migrate()
        if applied:
            for migration in applied:
                print(f"applied {migration.filename}")
        else:
            print("database is up to date")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    with open_database(args) as url:
        rows = _migrator(args, url).status()
    width = max((len(r.name) for r in rows), default=4)
    print(f"{'VERSION':<14}  {'NAME':<{width}}  STATE")
    for row in rows:
        print(f"{row.version:<14}  {row.name:<{width}}  {row.state.value}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    migrations = load_migrations(migrations_dir(args))
    with open_database(args) as url:
        if args.reference_embedded:
            from ..local import start_embedded

            server = start_embedded()
            try:
                report = verify_database(
                    url, migrations=migrations, reference_server_url=server.url
                )
            finally:
                server.stop()
        else:
            report = verify_database(
                url, migrations=migrations, reference_server_url=args.reference_url
            )
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    for section, differences in report.grouped().items():
        print(f"{section}:")
        for difference in differences:
            print(f"  {one_line(difference)}")
    print(report.summary())
    return 0 if report.ok else 1


def _cmd_new(args: argparse.Namespace) -> int:
    name = args.name.strip().lower().replace("-", "_").replace(" ", "_")
    if not re.fullmatch(r"[a-z0-9_]+", name):
        print(
            f"error: bad migration name {args.name!r}: use letters, digits and _", file=sys.stderr
        )
        return 2
    folder = migrations_dir(args)
    if folder is None:
        checkout = source_checkout_sql_dir()
        if checkout is None:
            print(
                "error: not in a vidgen_db source checkout: pass --migrations-dir",
                file=sys.stderr,
            )
            return 2
        folder = checkout / "migrations"
    version = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    path = folder / f"{version}_{name}.sql"
    if path.exists():
        print(f"error: {path} already exists", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(f"-- {name.replace('_', ' ')}\n\n", encoding="utf-8")
    print(path)
    return 0


def _cmd_reset(args: argparse.Namespace) -> int:
    with open_database(args) as url:
        host = host_of(url)
        if host not in _LOCAL_HOSTS and not host.startswith("/") and not args.force:
            print(
                f"error: refusing to reset a database on {host!r}, which is not local; "
                "pass --force if you really mean it",
                file=sys.stderr,
            )
            return 2
        if not args.yes:
            if not sys.stdin.isatty():
                print("error: reset needs confirmation: pass --yes", file=sys.stderr)
                return 2
            answer = input(f"drop all data in {redact(url)} and re-apply migrations? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("aborted")
                return 1
        applied = _migrator(args, url).reset()
        print(f"reset: re-applied {len(applied)} migrations")
    return 0


def _cmd_seed(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else seed_file()
    statements = split_statements(path.read_text(encoding="utf-8"))
    with (
        open_database(args) as url,
        psycopg.connect(url, prepare_threshold=None) as conn,
        conn.transaction(),
    ):
        for statement in statements:
            conn.execute(statement.encode("utf-8"))
    print(f"seeded from {path.name} ({len(statements)} statements)")
    return 0


def register(sub: Subparsers, parents: Parents) -> None:
    """Add the migration commands."""
    on_database = [parents.database, parents.migrations]

    def command(
        name: str, help_text: str, parent_list: list[argparse.ArgumentParser]
    ) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, parents=parent_list, description=help_text)

    command("migrate", "apply pending migrations", on_database).set_defaults(handler=_cmd_migrate)
    command("status", "list migrations and their state", on_database).set_defaults(
        handler=_cmd_status
    )
    verify = command(
        "verify",
        "compare the database with what its applied migrations define (exit 1 on any difference)",
        on_database,
    )
    where = verify.add_mutually_exclusive_group()
    where.add_argument(
        "--reference-url",
        metavar="URL",
        help="a PostgreSQL server on which to build the reference in a throwaway database "
        "(default: the database's own server, where your role must be allowed to create "
        "databases, which a Supabase project may not allow)",
    )
    where.add_argument(
        "--reference-embedded",
        action="store_true",
        help="build the reference in the embedded PostgreSQL (the embedded extra)",
    )
    verify.set_defaults(handler=_cmd_verify)
    new = command("new", "create an empty migration file", [parents.migrations])
    new.add_argument("name", help="what the migration does, e.g. add_invoices")
    new.set_defaults(handler=_cmd_new)
    reset = command("reset", "drop everything and re-apply the migrations", on_database)
    reset.add_argument("--yes", action="store_true", help="do not ask")
    reset.add_argument(
        "--force", action="store_true", help="allow resetting a database that is not local"
    )
    reset.set_defaults(handler=_cmd_reset)
    seed = command("seed", "load development seed data", [parents.database])
    seed.add_argument("--file", help="SQL file to load (default: the packaged seed)")
    seed.set_defaults(handler=_cmd_seed)
