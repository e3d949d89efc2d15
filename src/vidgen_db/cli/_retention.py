"""``vidgen-db jobs prune-logs | prune-workers``: retention, as the service role (the same
SQL functions pg_cron can run on Supabase: docs/scaling.md)."""

from __future__ import annotations

import argparse

from ._options import Parents, Subparsers, int_arg, service_db

__all__ = ["register_actions"]


def _cmd_prune_logs(args: argparse.Namespace) -> int:
    with service_db(args) as db:
        deleted = db.logs.prune(older_than_days=args.older_than, batch_size=args.batch_size)
    after = "the retention setting" if args.older_than is None else f"{args.older_than} days"
    print(f"deleted {deleted:,} log lines of jobs finished more than {after} ago")
    return 0


def _cmd_prune_workers(args: argparse.Namespace) -> int:
    with service_db(args) as db:
        pruned = db.workers.prune(older_than_days=args.older_than)
    print(f"deleted {pruned:,} workers not seen lately (holding no job)")
    return 0


def register_actions(actions: Subparsers, parents: Parents) -> None:
    """Add ``prune-logs`` and ``prune-workers`` to the ``jobs`` group's actions."""
    logs = actions.add_parser(
        "prune-logs",
        parents=[parents.service],
        help="delete the log lines of long-finished jobs",
        description="Delete the log lines of jobs finished more than DAYS days ago (default: "
        "the database's vidgen.job_log_retention_days, else 30), a batch per short "
        "transaction; workers writing lines meanwhile are never blocked.",
    )
    logs.add_argument(
        "--older-than",
        type=int_arg(0, 36500, "--older-than"),
        metavar="DAYS",
        help="keep the lines of jobs finished within DAYS days (default: the database's "
        "setting, else 30)",
    )
    logs.add_argument(
        "--batch-size",
        type=int_arg(1, 1_000_000, "--batch-size"),
        default=10_000,
        metavar="N",
        help="lines deleted per transaction (default 10000)",
    )
    logs.set_defaults(handler=_cmd_prune_logs)
    workers = actions.add_parser(
        "prune-workers",
        parents=[parents.service],
        help="delete the rows of workers gone for a while",
        description="Delete the workers not seen for more than DAYS days (default: the "
        "database's vidgen.worker_retention_days, else 7) that hold no job.",
    )
    workers.add_argument(
        "--older-than",
        type=int_arg(0, 36500, "--older-than"),
        metavar="DAYS",
        help="keep the workers seen within DAYS days (default: the database's setting, else 7)",
    )
    workers.set_defaults(handler=_cmd_prune_workers)
