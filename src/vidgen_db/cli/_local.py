"""``vidgen-db serve`` and ``vidgen-db demo``: the local stack's commands."""

from __future__ import annotations

import argparse
import os

from ._options import Parents, Subparsers, database_url, migrations_dir

__all__ = ["register"]


def _schemas(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError("name at least one schema, e.g. public or public,api")
    return names


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}")
    return value


def _cmd_serve(args: argparse.Namespace) -> int:
    from ..local import serve

    return serve(
        port=args.port,
        database_url=database_url(args),
        migrate=not args.no_migrate,
        schemas=args.schemas,
        anon_role=args.anon_role or None,
        jwt_secret=args.jwt_secret or os.environ.get("VIDGEN_JWT_SECRET") or None,
        migrations_dir=migrations_dir(args),
        workers=args.workers,
        plan_enabled=args.plan_enabled,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..local import run_demo

    return run_demo(server_url=database_url(args))


def register(sub: Subparsers, parents: Parents) -> None:
    """Add ``serve`` and ``demo``."""
    serve_help = "run the local stack: PostgreSQL + migrations + the Supabase-style REST API"
    serve = sub.add_parser(
        "serve",
        help=serve_help,
        parents=[parents.database, parents.migrations],
        description=serve_help + " on 127.0.0.1, until Ctrl-C. Prints the URL and the keys "
        "for supabase-py / supabase-js. Without --database-url (or DATABASE_URL) the data "
        "lives in the embedded PostgreSQL of the other commands.",
    )
    serve.add_argument("--port", type=_port, default=54321, help="port (default: 54321)")
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="serve the database as it is (do not apply vidgen's migrations)",
    )
    serve.add_argument(
        "--schemas",
        type=_schemas,
        default=("public",),
        help="comma-separated schemas to expose, the first the default (default: public)",
    )
    serve.add_argument(
        "--anon-role",
        default="anon",
        help="role of requests without a user token ('' disables anonymous access; default: anon)",
    )
    serve.add_argument(
        "--jwt-secret",
        help="HS256 secret to sign and verify tokens with (default: VIDGEN_JWT_SECRET, "
        "else a fresh random one, so keys change on every start)",
    )
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="gateway worker processes, each with its own event loop and connection pool "
        "(default: 1)",
    )
    serve.add_argument(
        "--plan-enabled",
        action="store_true",
        help="answer Accept: application/vnd.pgrst.plan with the query's EXPLAIN output "
        "(PostgREST's db-plan-enabled; postgrest-py's .explain())",
    )
    serve.set_defaults(handler=_cmd_serve)

    demo_help = "walk the product through the SDK on a throwaway local stack"
    demo = sub.add_parser(
        "demo",
        help=demo_help,
        parents=[parents.server],
        description=demo_help + " (a visitor's draft, sign-up, a project, a job through "
        "every stage, a failed job refunded, RLS refusing another user). With "
        "--database-url (a superuser URL) it runs in a throwaway database on that server.",
    )
    demo.set_defaults(handler=_cmd_demo)
