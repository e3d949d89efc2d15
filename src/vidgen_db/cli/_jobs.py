"""``vidgen-db jobs show | cancel | recover | stats`` (and ``prune-logs | prune-workers``,
in :mod:`._retention`): jobs and the queue, as the service role."""

from __future__ import annotations

import argparse
import uuid
from collections import deque
from typing import TYPE_CHECKING

from .._errors import NotFoundError
from ._options import Parents, Subparsers, int_arg, service_db, uuid_arg
from ._output import cell, print_fields, print_table
from ._retention import register_actions as register_retention

if TYPE_CHECKING:
    from .._client import ServiceDB
    from ..models import Job, JobLog, JobStep

__all__ = ["register"]

#: Log lines read per request when looking for a job's last lines.
LOG_PAGE = 1000


def last_logs(db: ServiceDB, job_id: uuid.UUID, count: int) -> tuple[list[JobLog], int]:
    """The job's last ``count`` log lines, and how many it has."""
    last: deque[JobLog] = deque(maxlen=count)
    total = 0
    after: int | None = None
    while True:
        lines = db.logs.list(job_id, after_line=after, limit=LOG_PAGE)
        last.extend(lines)
        total += len(lines)
        if len(lines) < LOG_PAGE:
            return list(last), total
        after = lines[-1].line_no


def _print_job(job: Job) -> None:
    progress = f" ({job.progress}%)" if job.progress is not None else ""
    fields: list[tuple[str, object]] = [
        ("job", job.id),
        ("project", job.project_id),
        ("user", job.user_id),
        ("status", f"{job.status.value}{progress}"),
        ("message", job.status_message),
        (
            "credits",
            f"reserved {cell(job.cost_credits_reserved)}, final {cell(job.cost_credits_final)}, "
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
    fields.append(("attempt", f"{job.attempt} of {job.max_attempts}"))
    if job.worker_id is not None:
        fields.append(("worker", f"{job.worker_id} (lease until {cell(job.lease_expires_at)})"))
    if job.cancel_requested_at is not None:
        fields.append(("cancel asked", job.cancel_requested_at))
    print_fields(fields)


def _print_steps(steps: list[JobStep]) -> None:
    if not steps:
        print("no steps started")
        return
    print_table(
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


def _print_logs(logs: list[JobLog], total: int) -> None:
    if not logs:
        print("no log lines")
        return
    print(f"last {len(logs)} of {total} log lines:")
    print_table(
        ["TIME (UTC)", "LEVEL", "STEP", "MESSAGE"],
        [[line.created_at, line.level.value, line.step_name, line.message] for line in logs],
    )


def _cmd_show(args: argparse.Namespace) -> int:
    with service_db(args) as db:
        try:
            job = db.jobs.get(args.job_id)
        except NotFoundError:
            raise NotFoundError(f"unknown job {args.job_id}") from None
        steps = db.job_steps.list(args.job_id)
        logs, total = last_logs(db, args.job_id, args.logs) if args.logs else ([], 0)
    _print_job(job)
    print()
    _print_steps(steps)
    if args.logs:
        print()
        _print_logs(logs, total)
    return 0


def _cmd_cancel(args: argparse.Namespace) -> int:
    with service_db(args) as db:
        job = db.jobs.cancel(args.job_id)
    if job.status.value == "FAILED":
        refunded = job.cost_credits_reserved if job.credit_state.value == "refunded" else 0
        print(f"job {job.id}: FAILED ({job.error_code}), {refunded} credits refunded")
    else:
        print(f"job {job.id}: cancel requested; its worker stops at its next call")
    return 0


def _cmd_recover(args: argparse.Namespace) -> int:
    with service_db(args) as db:
        rows = db.jobs.recover(limit=args.limit)
    if not rows:
        print("no expired leases")
        return 0
    print_table(["JOB", "OUTCOME"], [[row.job_id, row.outcome] for row in rows])
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    with service_db(args) as db:
        stats = db.jobs.stats()
    oldest = stats.oldest_queued_seconds
    print_table(
        ["QUEUED", "RUNNING", "CANCELLING", "EXPIRED LEASES", "OLDEST QUEUED", "WORKERS"],
        [
            [
                stats.queued,
                stats.running,
                stats.cancelling,
                stats.expired_leases,
                None if oldest is None else f"{oldest:.0f} s",
                stats.workers_seen,
            ]
        ],
        right=[0, 1, 2, 3, 4, 5],
    )
    return 0


def register(sub: Subparsers, parents: Parents) -> None:
    """Add ``jobs`` and its actions."""
    jobs = sub.add_parser("jobs", help="inspect and manage jobs and the queue (service role)")
    actions = jobs.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = actions.add_parser(
        "show",
        parents=[parents.service],
        help="a job, its steps and its last log lines",
        description="A job, its steps as a table, and its last log lines.",
    )
    show.add_argument("job_id", type=uuid_arg, metavar="JOB_ID", help="the job's id (a UUID)")
    show.add_argument(
        "--logs",
        type=int_arg(0, 10_000, "--logs"),
        default=20,
        metavar="N",
        help="log lines to show, the last ones (default 20; 0: none)",
    )
    show.set_defaults(handler=_cmd_show)
    cancel = actions.add_parser(
        "cancel",
        parents=[parents.service],
        help="cancel a job (refunded at once unless a worker holds it)",
        description="Cancel a job: one no worker holds is failed (CANCELLED) and refunded at "
        "once; one a worker holds is marked, and its worker stops at its next call.",
    )
    cancel.add_argument("job_id", type=uuid_arg, metavar="JOB_ID", help="the job's id (a UUID)")
    cancel.set_defaults(handler=_cmd_cancel)
    recover = actions.add_parser(
        "recover",
        parents=[parents.service],
        help="deal with jobs whose worker stopped responding",
        description="Requeue (or fail and refund, when its attempts are spent) each job whose "
        "lease expired. Claiming jobs does this too; this runs it now.",
    )
    recover.add_argument(
        "--limit",
        type=int_arg(1, 10_000, "--limit"),
        default=100,
        help="jobs to recover at most (default 100)",
    )
    recover.set_defaults(handler=_cmd_recover)
    stats = actions.add_parser(
        "stats",
        parents=[parents.service],
        help="the queue: queued, running, expired leases, oldest queued job",
        description="The queue at a glance: queued jobs, running (held) jobs, jobs being "
        "cancelled, expired leases, the age of the oldest queued job, workers seen lately.",
    )
    stats.set_defaults(handler=_cmd_stats)
    register_retention(actions, parents)
