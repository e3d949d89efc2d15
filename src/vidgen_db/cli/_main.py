"""The ``vidgen-db`` command: migrations, development data, and scripts' credit and job tools.

    vidgen-db migrate               apply pending migrations
    vidgen-db status                list migrations and whether each is applied
    vidgen-db verify                compare the database with what its migrations define
    vidgen-db new NAME              create an empty migration file
    vidgen-db reset [--yes]         drop everything and re-apply (local databases only)
    vidgen-db seed                  load sql/seed.sql (development data)
    vidgen-db gen models [--check]  regenerate the Pydantic models (or check them for drift)
    vidgen-db gen typescript        the frontend's types (typescript/src/database.ts)
    vidgen-db gen docs              docs/schema.md: the schema's diagram and reference
    vidgen-db export supabase DIR   the migrations as a Supabase CLI project
    vidgen-db serve                 the local stack: PostgreSQL + a Supabase-style REST API
    vidgen-db demo                  walk the product's path end to end on the local stack

    vidgen-db credits balance USER_ID                       a user's balance
    vidgen-db credits grant USER_ID AMOUNT [--note TEXT]    grant credits
    vidgen-db credits history USER_ID [--limit N]           the ledger, newest first
    vidgen-db jobs show JOB_ID [--logs N]                   a job, its steps, its last log lines
    vidgen-db jobs cancel JOB_ID                            cancel a job (refunding it)
    vidgen-db jobs recover [--limit N]                      recover jobs of dead workers
    vidgen-db jobs stats                                    the queue at a glance

The migration commands work on a database: ``--database-url``, else ``DATABASE_URL``, else
an embedded PostgreSQL in a per-user data directory (the ``embedded`` extra). The credit
and job commands go through the data API with the service client: ``--url`` and
``--service-key``, else ``SUPABASE_URL`` and ``SUPABASE_SERVICE_ROLE_KEY`` (prefer the
environment: a key on the command line shows in the process list). They exit 1 when the
API refuses (an unknown user or job...), 2 on bad arguments.

Each command group lives in its own module and registers itself (:func:`build_parser`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import psycopg

from .._errors import VidgenDBError
from .._version import __version__
from . import _credits, _export, _gen, _jobs, _local, _migrations
from ._options import Parents
from ._output import one_line

__all__ = ["build_parser", "main"]

#: The command groups, in the order ``--help`` lists them.
GROUPS = (_migrations, _gen, _export, _local, _credits, _jobs)


def build_parser() -> argparse.ArgumentParser:
    """The ``vidgen-db`` parser: each group adds its commands (handlers in ``args.handler``)."""
    parser = argparse.ArgumentParser(prog="vidgen-db", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"vidgen-db {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parents = Parents()
    for group in GROUPS:
        group.register(sub, parents)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``vidgen-db`` with ``argv`` (default: the command line); returns the exit status:
    0, 1 when the command failed, 2 for bad arguments. Every error is one line on stderr,
    ``error: ...``, never a traceback (``VIDGEN_DB_DEBUG=1`` shows one for unexpected
    errors)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except VidgenDBError as exc:
        return _fail(str(exc))
    except psycopg.OperationalError as exc:
        return _fail(f"cannot reach the database: {exc}")
    except psycopg.Error as exc:
        return _fail(f"[{exc.sqlstate or 'no SQLSTATE'}] {exc}")
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:
        if os.environ.get("VIDGEN_DB_DEBUG"):
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (VIDGEN_DB_DEBUG=1 shows where)")


def _fail(message: str) -> int:
    print(f"error: {one_line(message)}", file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
