"""The migration tool: vidgen's migrations applied to a PostgreSQL database, with their
history kept exactly as the Supabase CLI keeps it (``vidgen-db migrate`` on the command
line; see docs/migrations.md).

The SQL files ship inside the package (:func:`migrations_dir`); :class:`Migrator` applies
them, reports their state and resets a local database; :func:`throwaway_database` makes a
database for one use (tests, code generation, benchmarks); :func:`export_supabase_project`
writes them out as a Supabase CLI project; :func:`verify_database` compares a database with
what its applied migrations define (``vidgen-db verify``).
"""

from ._compare import Difference
from ._export import SupabaseExport, export_supabase_project
from ._resources import bootstrap_dir, migrations_dir, seed_file
from ._runner import Migration, MigrationState, MigrationStatus, Migrator, load_migrations
from ._sqlsplit import split_statements
from ._throwaway import throwaway_database
from ._verify import VerifyReport, verify_database

__all__ = [
    "Difference",
    "Migration",
    "MigrationState",
    "MigrationStatus",
    "Migrator",
    "SupabaseExport",
    "VerifyReport",
    "bootstrap_dir",
    "export_supabase_project",
    "load_migrations",
    "migrations_dir",
    "seed_file",
    "split_statements",
    "throwaway_database",
    "verify_database",
]
