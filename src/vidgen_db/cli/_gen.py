"""``vidgen-db gen models|typescript|docs``: code and documentation generated from the schema."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._options import Parents, Subparsers, migrations_dir, open_database

__all__ = ["register"]


def _cmd_gen_models(args: argparse.Namespace) -> int:
    from ..codegen import generate_models_command

    with open_database(args) as server_url:
        return generate_models_command(
            server_url,
            output=Path(args.output) if args.output else None,
            migrations_dir=migrations_dir(args),
            check=args.check,
        )


def _cmd_gen_typescript(args: argparse.Namespace) -> int:
    from ..codegen import generate_typescript_command

    with open_database(args) as server_url:
        return generate_typescript_command(
            server_url,
            output=Path(args.out) if args.out else None,
            migrations_dir=migrations_dir(args),
            check=args.check,
        )


def _cmd_gen_docs(args: argparse.Namespace) -> int:
    from ..codegen import generate_docs_command

    with open_database(args) as server_url:
        return generate_docs_command(
            server_url,
            output=Path(args.out) if args.out else None,
            migrations_dir=migrations_dir(args),
            check=args.check,
        )


_THROWAWAY = (
    "Apply the migrations to a throwaway database (on the embedded PostgreSQL, or on the "
    "server of --database-url or DATABASE_URL: a superuser URL, as the database is created "
    "there) and "
)
_CHECK = "write nothing; exit 1 and name the differences if the committed {} stale"


def register(sub: Subparsers, parents: Parents) -> None:
    """Add ``gen`` and its targets."""
    gen = sub.add_parser("gen", help="generate code from the schema")
    targets = gen.add_subparsers(dest="target", required=True, metavar="TARGET")
    common = [parents.server, parents.migrations]
    models = targets.add_parser(
        "models",
        parents=common,
        help="write src/vidgen_db/models from the migrations",
        description=_THROWAWAY + "generate the Pydantic models from its catalog.",
    )
    models.add_argument("--check", action="store_true", help=_CHECK.format("models are"))
    models.add_argument("--output", help="folder to write (default: the package's models/)")
    models.set_defaults(handler=_cmd_gen_models)

    typescript = targets.add_parser(
        "typescript",
        parents=common,
        help="write database.ts (supabase-js types) from the migrations",
        description=_THROWAWAY + "write the TypeScript types of the database for supabase-js "
        "(createClient<Database>), in the shape of `supabase gen types typescript`.",
    )
    typescript.add_argument("--check", action="store_true", help=_CHECK.format("file is"))
    typescript.add_argument(
        "--out",
        metavar="PATH",
        help="file to write (default: typescript/src/database.ts in a source checkout, "
        "else ./database.ts)",
    )
    typescript.set_defaults(handler=_cmd_gen_typescript)

    docs = targets.add_parser(
        "docs",
        parents=common,
        help="write docs/schema.md (diagram and reference) from the migrations",
        description=_THROWAWAY + "write the schema reference: a Mermaid diagram of the "
        "tables and their foreign keys, each table's columns, constraints, indexes, "
        "privileges and row level security policies, and the functions with who may call them.",
    )
    docs.add_argument("--check", action="store_true", help=_CHECK.format("file is"))
    docs.add_argument(
        "--out",
        metavar="PATH",
        help="file to write (default: docs/schema.md in a source checkout, else ./schema.md)",
    )
    docs.set_defaults(handler=_cmd_gen_docs)
