"""``vidgen-db export supabase DIR``: vidgen's migrations as a Supabase CLI project."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._options import Parents, Subparsers, migrations_dir

__all__ = ["register"]


def _cmd_export_supabase(args: argparse.Namespace) -> int:
    from ..migrate import export_supabase_project

    target = Path(args.dir)
    result = export_supabase_project(
        target, migrations_dir=migrations_dir(args), force=args.force, project_id=args.project_id
    )
    for path in result.written:
        print(f"wrote {path}")
    for path in result.foreign:
        print(f"left {path} in place: not one of vidgen's migrations (the CLI will apply it too)")
    print(f"{len(result.written)} files; next: cd {target} && supabase start (or supabase db push)")
    return 0


def register(sub: Subparsers, parents: Parents) -> None:
    """Add ``export`` and its targets."""
    export = sub.add_parser("export", help="write the migrations out for another tool")
    targets = export.add_subparsers(dest="target", required=True, metavar="TARGET")
    supabase = targets.add_parser(
        "supabase",
        parents=[parents.migrations],
        help="write a Supabase CLI project (supabase/migrations, seed.sql, config.toml)",
        description="Write DIR/supabase/: the migrations under the same names and with the "
        "same contents (the Supabase CLI and vidgen-db migrate then keep one history), "
        "seed.sql and a config.toml with the settings vidgen needs. The plain-PostgreSQL "
        "bootstrap is not exported: a Supabase project has the real auth schema.",
    )
    supabase.add_argument("dir", metavar="DIR", help="the project folder (created if missing)")
    supabase.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty DIR, overwriting files of the same names",
    )
    supabase.add_argument(
        "--project-id", default="vidgen", help="config.toml's project_id (default: vidgen)"
    )
    supabase.set_defaults(handler=_cmd_export_supabase)
