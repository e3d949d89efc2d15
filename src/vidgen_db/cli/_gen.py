"""``vidgen-db gen models``: code generated from the schema."""

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


def register(sub: Subparsers, parents: Parents) -> None:
    """Add ``gen`` and its targets."""
    gen = sub.add_parser("gen", help="generate code from the schema")
    targets = gen.add_subparsers(dest="target", required=True, metavar="TARGET")
    models = targets.add_parser(
        "models",
        parents=[parents.database, parents.migrations],
        help="write src/vidgen_db/models from the migrations",
        description="Apply the migrations to a throwaway database (on the embedded "
        "PostgreSQL, or on the server of --database-url or DATABASE_URL: a superuser URL, "
        "as the database is created there) and generate the Pydantic models from its catalog.",
    )
    models.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and name the differences if the committed models are stale",
    )
    models.add_argument("--output", help="folder to write (default: the package's models/)")
    models.set_defaults(handler=_cmd_gen_models)
