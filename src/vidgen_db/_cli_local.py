"""``vidgen-db serve`` and ``vidgen-db demo``: the local stack's commands.

``_cli`` calls :func:`register` with its sub-parsers and the parent parser of the options
every command shares (``--database-url``, ``--migrations-dir``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

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


def _has_option(parser: argparse.ArgumentParser, option: str) -> bool:
    return any(option in action.option_strings for action in parser._actions)


def _database_url(args: argparse.Namespace) -> str | None:
    url = getattr(args, "database_url", None) or os.environ.get("DATABASE_URL")
    return str(url) if url else None


def _cmd_serve(args: argparse.Namespace) -> int:
    from ._serve import serve

    migrations_dir = getattr(args, "migrations_dir", None)
    return serve(
        port=args.port,
        database_url=_database_url(args),
        migrate=not args.no_migrate,
        schemas=args.schemas,
        anon_role=args.anon_role or None,
        jwt_secret=args.jwt_secret or os.environ.get("VIDGEN_JWT_SECRET") or None,
        migrations_dir=Path(migrations_dir) if migrations_dir else None,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(database_url=_database_url(args))


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common_parent: argparse.ArgumentParser,
) -> None:
    """Add the ``serve`` and ``demo`` sub-commands (handlers in ``args.handler``)."""
    parents = [common_parent]
    own_database_url = not _has_option(common_parent, "--database-url")

    serve_help = "run the local stack: PostgreSQL + migrations + the Supabase-style REST API"
    serve: Any = subparsers.add_parser(
        "serve",
        help=serve_help,
        parents=parents,
        description=serve_help + " on 127.0.0.1, until Ctrl-C. Prints the URL and the keys "
        "for supabase-py / supabase-js. Without --database-url (or DATABASE_URL) the data "
        "lives in the embedded PostgreSQL of the other commands.",
    )
    if own_database_url:
        serve.add_argument("--database-url", help="serve this PostgreSQL database")
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
    serve.set_defaults(handler=_cmd_serve)

    demo_help = "walk the product through the SDK on a throwaway local stack"
    demo: Any = subparsers.add_parser(
        "demo",
        help=demo_help,
        parents=parents,
        description=demo_help + " (a visitor's draft, sign-up, a project, a job through "
        "every stage, a failed job refunded, RLS refusing another user). With "
        "--database-url (a superuser URL) it runs in a throwaway database on that server.",
    )
    if own_database_url:
        demo.add_argument("--database-url", help="superuser URL of a PostgreSQL 15+ server")
    demo.set_defaults(handler=_cmd_demo)
