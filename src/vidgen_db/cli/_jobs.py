"""``vidgen-db jobs show``: a job, its steps and its last log lines, as the service role."""

from __future__ import annotations

import argparse
import uuid
from collections import deque
from typing import TYPE_CHECKING

from .._errors import NotFoundError
from ._options import Parents, Subparsers, int_arg, service_db, uuid_arg
from ._output import cell, print_fields, print_table

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
        lines = db.logs.list(job_id, after_id=after, limit=LOG_PAGE)
        last.extend(lines)
        total += len(lines)
        if len(lines) < LOG_PAGE:
            return list(last), total
        after = lines[-1].id


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


def register(sub: Subparsers, parents: Parents) -> None:
    """Add ``jobs`` and its actions."""
    jobs = sub.add_parser("jobs", help="inspect jobs (service role)")
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
