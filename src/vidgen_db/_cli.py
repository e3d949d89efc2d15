"""The ``vidgen-db`` command: migrations and development data.

    vidgen-db migrate               apply pending migrations
    vidgen-db status                list migrations and whether each is applied
    vidgen-db new NAME              create an empty migration file
    vidgen-db reset [--yes]         drop everything and re-apply (local databases only)
    vidgen-db seed                  load sql/seed.sql (development data)
    vidgen-db gen models [--check]  regenerate the Pydantic models (or check them for drift)

The database is ``--database-url``, else ``DATABASE_URL``, else an embedded PostgreSQL in
a per-user data directory (the ``embedded`` extra).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ._dsn import host_of, redact
from ._errors import VidgenDBError
from ._migrate import Migrator, load_migrations
from ._resources import seed_file, source_checkout_sql_dir
from ._sqlsplit import split_statements
from ._version import __version__

__all__ = ["main"]

_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}


@contextmanager
def _database(args: argparse.Namespace) -> Iterator[str]:
    url = args.database_url or os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from ._embedded import start_embedded

    server = start_embedded()
    print(f"using the embedded PostgreSQL: {server.url}", file=sys.stderr)
    try:
        yield server.url
    finally:
        server.stop()


def _migrator(args: argparse.Namespace, url: str) -> Migrator:
    directory = Path(args.migrations_dir) if args.migrations_dir else None
    return Migrator(url, migrations=load_migrations(directory))


def _cmd_migrate(args: argparse.Namespace) -> int:
    with _database(args) as url:
        applied = _migrator(args, url).migrate()
        if applied:
            for migration in applied:
                print(f"applied {migration.filename}")
        else:
            print("database is up to date")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    with _database(args) as url:
        rows = _migrator(args, url).status()
    width = max((len(r.name) for r in rows), default=4)
    print(f"{'VERSION':<14}  {'NAME':<{width}}  STATE")
    for row in rows:
        print(f"{row.version:<14}  {row.name:<{width}}  {row.state.value}")
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    name = args.name.strip().lower().replace("-", "_").replace(" ", "_")
    if not re.fullmatch(r"[a-z0-9_]+", name):
        print(
            f"error: bad migration name {args.name!r}: use letters, digits and _", file=sys.stderr
        )
        return 2
    if args.migrations_dir:
        folder = Path(args.migrations_dir)
    else:
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
    with _database(args) as url:
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
        _database(args) as url,
        psycopg.connect(url, prepare_threshold=None) as conn,
        conn.transaction(),
    ):
        for statement in statements:
            conn.execute(statement.encode("utf-8"))
    print(f"seeded from {path.name} ({len(statements)} statements)")
    return 0


def _cmd_gen_models(args: argparse.Namespace) -> int:
    from ._codegen import generate_models_command

    output = Path(args.output) if args.output else None
    migrations = Path(args.migrations_dir) if args.migrations_dir else None
    return generate_models_command(
        database_url=args.database_url,
        output=output,
        migrations_dir=migrations,
        check=args.check,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vidgen-db", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"vidgen-db {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        help="PostgreSQL URL (default: DATABASE_URL, else the embedded PostgreSQL)",
    )
    common.add_argument(
        "--migrations-dir", help="folder of migration files (default: the packaged ones)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
        "migrate": ("apply pending migrations", _cmd_migrate),
        "status": ("list migrations and their state", _cmd_status),
        "new": ("create an empty migration file", _cmd_new),
        "reset": ("drop everything and re-apply the migrations", _cmd_reset),
        "seed": ("load development seed data", _cmd_seed),
    }
    subparsers = {}
    for name, (help_text, handler) in commands.items():
        p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
        p.set_defaults(handler=handler)
        subparsers[name] = p
    subparsers["new"].add_argument("name", help="what the migration does, e.g. add_invoices")
    subparsers["reset"].add_argument("--yes", action="store_true", help="do not ask")
    subparsers["reset"].add_argument(
        "--force", action="store_true", help="allow resetting a database that is not local"
    )
    subparsers["seed"].add_argument("--file", help="SQL file to load (default: the packaged seed)")

    gen = sub.add_parser("gen", help="generate code from the schema")
    gen_sub = gen.add_subparsers(dest="target", required=True, metavar="TARGET")
    models = gen_sub.add_parser(
        "models",
        parents=[common],
        help="write src/vidgen_db/models from the migrations",
        description="Apply the migrations to a scratch database (an embedded PostgreSQL, or "
        "--database-url: a superuser URL of a server where a scratch database may be "
        "created) and generate the Pydantic models from its catalog.",
    )
    models.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name the differences if the committed models are stale",
    )
    models.add_argument("--output", help="folder to write (default: the package's models/)")
    models.set_defaults(handler=_cmd_gen_models)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except VidgenDBError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"error: [{exc.sqlstate or 'no SQLSTATE'}] {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
