"""The ``vidgen-db`` command: migrations, development data, and scripts' credit and job tools.

    vidgen-db migrate               apply pending migrations
    vidgen-db status                list migrations and whether each is applied
    vidgen-db new NAME              create an empty migration file
    vidgen-db reset [--yes]         drop everything and re-apply (local databases only)
    vidgen-db seed                  load sql/seed.sql (development data)
    vidgen-db gen models [--check]  regenerate the Pydantic models (or check them for drift)
    vidgen-db serve                 the local stack: PostgreSQL + a Supabase-style REST API
    vidgen-db demo                  walk the product's path end to end on the local stack

    vidgen-db credits balance USER_ID                       a user's balance
    vidgen-db credits grant USER_ID AMOUNT [--note TEXT]    grant credits
    vidgen-db credits history USER_ID [--limit N]           the ledger, newest first
    vidgen-db jobs show JOB_ID [--logs N]                   a job, its steps, its last log lines

The migration commands work on a database: ``--database-url``, else ``DATABASE_URL``, else
an embedded PostgreSQL in a per-user data directory (the ``embedded`` extra). The credit
and job commands go through the data API with the service client: ``--url`` and
``--service-key``, else ``SUPABASE_URL`` and ``SUPABASE_SERVICE_ROLE_KEY`` (prefer the
environment: a key on the command line shows in the process list). They exit 1 when the
API refuses (an unknown user or job...), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from ._cli_local import register as register_local_commands
from ._dsn import host_of, redact
from ._errors import ConfigurationError, NotFoundError, VidgenDBError
from ._migrate import Migrator, load_migrations
from ._resources import seed_file, source_checkout_sql_dir
from ._sqlsplit import split_statements
from ._version import __version__

if TYPE_CHECKING:
    from ._client import ServiceDB
    from .models import JobLog

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


# -- scripts: credits and jobs through the data API ---------------------------------------

#: The largest credit amount the database takes (integer columns).
_MAX_AMOUNT = 2_147_483_647
#: Log lines read per request when looking for a job's last lines.
_LOG_PAGE = 1000


def _uuid_arg(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {text!r}") from None


def _int_arg(low: int, high: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be from {low} to {high}, got {value}")
        return value

    return parse


def _service_db(args: argparse.Namespace) -> ServiceDB:
    """The service client: --url/--service-key, else the environment."""
    from ._client import ServiceDB, VidgenDB
    from ._settings import ClientSettings, SupabaseSettings

    if not args.url and not args.service_key:
        db = VidgenDB.from_env()
        if not isinstance(db, ServiceDB):  # pragma: no cover - from_env gives the service one
            raise ConfigurationError("the environment does not give a service-role client")
        return db
    env = SupabaseSettings()
    url = args.url or env.url
    key = args.service_key or (
        env.service_role_key.get_secret_value() if env.service_role_key else None
    )
    if not url:
        raise ConfigurationError("no project URL: pass --url or set SUPABASE_URL")
    if not key:
        raise ConfigurationError(
            "no service-role key: set SUPABASE_SERVICE_ROLE_KEY (or pass --service-key)"
        )
    return VidgenDB.service(url, key, settings=ClientSettings())


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return _when(value)
    return _one_line(value)


def _print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()
) -> None:
    """Aligned columns, two spaces apart; the columns numbered in ``right`` (from 0) are
    right-aligned (numbers); the last column is never padded."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    last = len(headers) - 1
    for row in [list(headers), *cells]:
        out = []
        for i, text in enumerate(row):
            if i in right:
                out.append(text.rjust(widths[i]))
            elif i == last:
                out.append(text)
            else:
                out.append(text.ljust(widths[i]))
        print("  ".join(out).rstrip())


def _print_fields(fields: Sequence[tuple[str, object]]) -> None:
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        print(f"{name:<{width}}  {_cell(value)}")


def _require_user(db: ServiceDB, user_id: uuid.UUID) -> None:
    """NotFoundError "unknown user" unless ``user_id`` has a profile (every user has one);
    the balance of an unknown id would read as 0 and its history as empty."""
    try:
        db.profiles.get(user_id)
    except NotFoundError:
        raise NotFoundError(f"unknown user {user_id}") from None


def _cmd_credits_balance(args: argparse.Namespace) -> int:
    with _service_db(args) as db:
        _require_user(db, args.user_id)
        balance = db.credits.balance(args.user_id)
    _print_table(["USER", "BALANCE"], [[args.user_id, balance]], right=[1])
    return 0


def _cmd_credits_grant(args: argparse.Namespace) -> int:
    with _service_db(args) as db:
        balance = db.credits.grant(args.user_id, args.amount, note=args.note)
    print(f"granted {args.amount} credits to {args.user_id}: balance {balance}")
    return 0


def _cmd_credits_history(args: argparse.Namespace) -> int:
    with _service_db(args) as db:
        _require_user(db, args.user_id)
        page = db.credits.history(args.user_id, limit=args.limit)
    if not page.items:
        print(f"no ledger entries for {args.user_id}")
        return 0
    _print_table(
        ["WHEN (UTC)", "TYPE", "AMOUNT", "BALANCE", "JOB", "NOTE"],
        [
            [
                e.created_at,
                e.type.value,
                f"{e.amount:+d}",
                e.balance_after,
                e.job_id,
                e.note or e.stripe_payment_id,
            ]
            for e in page.items
        ],
        right=[2, 3],
    )
    if page.next_cursor is not None:
        print(f"(older entries not shown: raise --limit, now {args.limit})")
    return 0


def _last_logs(db: ServiceDB, job_id: uuid.UUID, count: int) -> tuple[list[JobLog], int]:
    """The job's last ``count`` log lines, and how many it has."""
    last: deque[JobLog] = deque(maxlen=count)
    total = 0
    after: int | None = None
    while True:
        lines = db.logs.list(job_id, after_id=after, limit=_LOG_PAGE)
        last.extend(lines)
        total += len(lines)
        if len(lines) < _LOG_PAGE:
            return list(last), total
        after = lines[-1].id


def _cmd_jobs_show(args: argparse.Namespace) -> int:
    with _service_db(args) as db:
        try:
            job = db.jobs.get(args.job_id)
        except NotFoundError:
            raise NotFoundError(f"unknown job {args.job_id}") from None
        steps = db.job_steps.list(args.job_id)
        logs, total = _last_logs(db, args.job_id, args.logs) if args.logs else ([], 0)
    progress = f" ({job.progress}%)" if job.progress is not None else ""
    fields: list[tuple[str, object]] = [
        ("job", job.id),
        ("project", job.project_id),
        ("user", job.user_id),
        ("status", f"{job.status.value}{progress}"),
        ("message", job.status_message),
        (
            "credits",
            f"reserved {_cell(job.cost_credits_reserved)}, final {_cell(job.cost_credits_final)}, "
            f"state {job.credit_state.value}",
        ),
        ("created", job.created_at),
        ("started", job.started_at),
        ("finished", job.finished_at),
    ]
    if job.failed_step or job.error_code or job.error_message:
        fields.append(("failed step", job.failed_step))
        fields.append(("error", f"{job.error_code or '-'}: {job.error_message or '-'}"))
    if job.output_url:
        fields.append(("output", job.output_url))
    _print_fields(fields)
    print()
    if steps:
        _print_table(
            ["STEP", "STATE", "PROGRESS", "STARTED", "FINISHED", "MESSAGE"],
            [
                [
                    s.step_name,
                    s.state.value,
                    None if s.progress_pct is None else f"{s.progress_pct}%",
                    s.started_at,
                    s.finished_at,
                    s.error_message or s.status_message,
                ]
                for s in steps
            ],
            right=[2],
        )
    else:
        print("no steps started")
    if args.logs:
        print()
        if logs:
            print(f"last {len(logs)} of {total} log lines:")
            _print_table(
                ["TIME (UTC)", "LEVEL", "STEP", "MESSAGE"],
                [
                    [line.created_at, line.level.value, line.step_name, line.message]
                    for line in logs
                ],
            )
        else:
            print("no log lines")
    return 0


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

    service = argparse.ArgumentParser(add_help=False)
    service.add_argument("--url", help="the project's URL (default: SUPABASE_URL)")
    service.add_argument(
        "--service-key",
        metavar="KEY",
        help="the service-role key (default: SUPABASE_SERVICE_ROLE_KEY, which is safer: a key "
        "given here shows in the process list)",
    )

    def add_user_id(p: argparse.ArgumentParser) -> None:
        p.add_argument("user_id", type=_uuid_arg, metavar="USER_ID", help="the user's id (a UUID)")

    credits = sub.add_parser("credits", help="see and grant users' credits (service role)")
    credits_sub = credits.add_subparsers(dest="action", required=True, metavar="ACTION")
    balance = credits_sub.add_parser(
        "balance", parents=[service], help="a user's balance", description="A user's balance."
    )
    add_user_id(balance)
    balance.set_defaults(handler=_cmd_credits_balance)
    grant = credits_sub.add_parser(
        "grant",
        parents=[service],
        help="grant credits to a user",
        description="Grant credits to a user (a 'grant' ledger entry); prints the new balance. "
        "Not idempotent: running it twice grants twice.",
    )
    add_user_id(grant)
    grant.add_argument(
        "amount",
        type=_int_arg(1, _MAX_AMOUNT, "AMOUNT"),
        metavar="AMOUNT",
        help="credits to grant (a positive integer)",
    )
    grant.add_argument("--note", help="why, recorded on the ledger entry")
    grant.set_defaults(handler=_cmd_credits_grant)
    history = credits_sub.add_parser(
        "history",
        parents=[service],
        help="a user's ledger entries, newest first",
        description="A user's credit ledger entries, newest first.",
    )
    add_user_id(history)
    history.add_argument(
        "--limit",
        type=_int_arg(1, 1000, "--limit"),
        default=20,
        help="entries to show (1..1000, default 20)",
    )
    history.set_defaults(handler=_cmd_credits_history)

    jobs = sub.add_parser("jobs", help="inspect jobs (service role)")
    jobs_sub = jobs.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = jobs_sub.add_parser(
        "show",
        parents=[service],
        help="a job, its steps and its last log lines",
        description="A job, its steps as a table, and its last log lines.",
    )
    show.add_argument("job_id", type=_uuid_arg, metavar="JOB_ID", help="the job's id (a UUID)")
    show.add_argument(
        "--logs",
        type=_int_arg(0, 10_000, "--logs"),
        default=20,
        metavar="N",
        help="log lines to show, the last ones (default 20; 0: none)",
    )
    show.set_defaults(handler=_cmd_jobs_show)
    register_local_commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except VidgenDBError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    except psycopg.Error as exc:
        print(f"error: [{exc.sqlstate or 'no SQLSTATE'}] {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
