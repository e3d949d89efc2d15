"""HTTP contract of db.logs (user: read a job's lines in order; service: append)."""

from __future__ import annotations

import uuid

# The shared contract tests, run here over this module's CASES and INVALID tables.
from repo_contract_tests import (
    test_async,  # noqa: F401
    test_refused_before_any_request_async,  # noqa: F401
    test_refused_before_any_request_sync,  # noqa: F401
    test_sync,  # noqa: F401
)
from test_repos_clients import (
    ANY_UUID,
    JOB,
    Case,
    Invalid,
    log_row,
    pgrst_error,
    sync_client,
)
from vidgen_db import CheckViolationError
from vidgen_db.models import JobLog, JobLogInsert, LogLevel

LINES = [
    JobLogInsert(job_id=JOB, message="script ready", step_name="SCRIPTING"),
    JobLogInsert(job_id=JOB, message="slow provider", level=LogLevel.WARNING, data={"ms": 8100}),
]


def columns(*names: str) -> object:
    """postgrest-py's ``columns`` parameter: the rows' keys (quoted), in any order."""
    return lambda value: {name.strip('"') for name in value.split(",")} == set(names)


#: A user may not select a line's global id (select=* would be refused): every other column.
USER_COLUMNS = "job_id,step_name,level,message,data,created_at,line_no"


def user_log_row(line_no: int, **overrides: object) -> dict[str, object]:
    row = log_row(line_no, **overrides)
    del row["id"]
    return row


CASES = [
    Case(
        "logs.list",
        "user",
        lambda db: db.logs.list(JOB),
        "GET",
        "/job_logs",
        params={
            "select": USER_COLUMNS,
            "job_id": f"eq.{JOB}",
            "order": "line_no.asc",
            "limit": "100",
        },
        response=[user_log_row(1), user_log_row(2, level="warning", data={"ms": 8100})],
        check=lambda lines: (
            [line.line_no for line in lines] == [1, 2]
            and [line.id for line in lines] == [None, None]
            and isinstance(lines[1], JobLog)
            and lines[1].level is LogLevel.WARNING
        ),
    ),
    Case(
        "logs.list",
        "service",
        lambda db: db.logs.list(JOB),
        "GET",
        "/job_logs",
        params={"select": "*", "job_id": f"eq.{JOB}", "order": "line_no.asc", "limit": "100"},
        response=[log_row(1, id=7001), log_row(2, id=7009)],
        check=lambda lines: [(line.line_no, line.id) for line in lines] == [(1, 7001), (2, 7009)],
    ),
    Case(
        "logs.list",
        "user",
        lambda db: db.logs.list(JOB, after_line=41, limit=2),
        "GET",
        "/job_logs",
        params={
            "select": USER_COLUMNS,
            "job_id": f"eq.{JOB}",
            "line_no": "gt.41",
            "order": "line_no.asc",
            "limit": "2",
        },
        response=[user_log_row(42), user_log_row(43)],
        check=lambda lines: [line.line_no for line in lines] == [42, 43],
        label="after",
    ),
    Case(
        "logs.append",
        "service",
        lambda db: db.logs.append(JOB, "rendering started"),
        "POST",
        "/rpc/append_job_log",
        body={
            "p_job_id": str(JOB),
            "p_message": "rendering started",
            "p_level": "info",
            "p_idempotency_key": ANY_UUID,
        },
        response=44,
        check=lambda line: line == 44,
    ),
    Case(
        "logs.append",
        "service",
        lambda db: db.logs.append(
            JOB,
            "retrying",
            level=LogLevel.WARNING,
            step_name="VOICE_GEN",
            data={"attempt": 2},
            idempotency_key="line-7",
        ),
        "POST",
        "/rpc/append_job_log",
        body={
            "p_job_id": str(JOB),
            "p_message": "retrying",
            "p_level": "warning",
            "p_step_name": "VOICE_GEN",
            "p_data": {"attempt": 2},
            "p_idempotency_key": "line-7",
        },
        response=45,
        check=lambda log_id: log_id == 45,
        label="all-arguments",
    ),
    Case(
        "logs.append",
        "service",
        lambda db: db.logs.append(JOB, "x", level=LogLevel.DEBUG),
        "POST",
        "/rpc/append_job_log",
        body={
            "p_job_id": str(JOB),
            "p_message": "x",
            "p_level": "debug",
            "p_idempotency_key": ANY_UUID,
        },
        status=400,
        response=pgrst_error(
            "23514",
            'new row for relation "job_logs" violates check constraint "job_logs_level_check"',
        ),
        raises=CheckViolationError,
        label="refused",
    ),
    Case(
        "logs.append_many",
        "service",
        lambda db: db.logs.append_many(JOB, LINES),
        "POST",
        "/rpc/append_job_logs",
        body={
            "p_job_id": str(JOB),
            "p_lines": [
                {"message": "script ready", "step_name": "SCRIPTING"},
                {"message": "slow provider", "level": "warning", "data": {"ms": 8100}},
            ],
            "p_idempotency_key": ANY_UUID,
        },
        response=12,
        check=lambda last: last == 12,
    ),
    Case(
        "logs.append_many",
        "service",
        lambda db: db.logs.append_many(JOB, LINES[:1], lease=7, idempotency_key="batch-1"),
        "POST",
        "/rpc/append_job_logs",
        body={
            "p_job_id": str(JOB),
            "p_lines": [{"message": "script ready", "step_name": "SCRIPTING"}],
            "p_lease": 7,
            "p_idempotency_key": "batch-1",
        },
        response=3,
        check=lambda last: last == 3,
        label="keyed",
    ),
    Case(
        "logs.prune",
        "service",
        lambda db: db.logs.prune(),
        "POST",
        "/rpc/prune_job_logs",
        # The retention period left to the database's setting.
        body={"p_max_rows": 10_000},
        response=42,
        check=lambda deleted: deleted == 42,
    ),
    Case(
        "logs.prune",
        "service",
        lambda db: db.logs.prune(older_than_days=7, batch_size=500, limit=200),
        "POST",
        "/rpc/prune_job_logs",
        body={"p_older_than_days": 7, "p_max_rows": 200},
        response=200,
        check=lambda deleted: deleted == 200,
        label="bounded",
    ),
]

INVALID = [
    Invalid(
        "logs.append",
        "service",
        lambda db: db.logs.append(JOB, "x", idempotency_key=""),
        "idempotency_key",
        "empty-key",
    ),
    Invalid(
        "logs.append",
        "service",
        lambda db: db.logs.append(JOB, "x", level="loud"),
        "level",
        "level",
    ),
    Invalid(
        "logs.append", "service", lambda db: db.logs.append(JOB, "x" * 4001), "message", "long"
    ),
    Invalid("logs.list", "user", lambda db: db.logs.list(JOB, limit=0), "limit"),
    Invalid(
        "logs.list", "user", lambda db: db.logs.list(JOB, after_line=-1), "after_line", "after"
    ),
    Invalid(
        "logs.append_many",
        "service",
        lambda db: db.logs.append_many(
            JOB, [JobLogInsert(job_id=uuid.UUID(int=5), message="elsewhere")]
        ),
        "every line must be of job",
    ),
    Invalid(
        "logs.append_many",
        "service",
        lambda db: db.logs.append_many(JOB, [JobLogInsert(job_id=JOB, message="x", line_no=1)]),
        "line 0 may not set line_no",
        "numbered",
    ),
    Invalid(
        "logs.append_many",
        "service",
        lambda db: db.logs.append_many(JOB, [JobLogInsert(job_id=JOB, message="x")] * 1001),
        "at most 1000 lines",
        "too-many",
    ),
    Invalid("logs.prune", "service", lambda db: db.logs.prune(older_than_days=-1), "older_than"),
    Invalid("logs.prune", "service", lambda db: db.logs.prune(batch_size=0), "batch_size", "batch"),
    Invalid("logs.prune", "service", lambda db: db.logs.prune(limit=0), "limit", "limit"),
]


def test_append_many_of_nothing_sends_nothing() -> None:
    with sync_client("service") as db:
        db.logs.append_many(JOB, [])  # no route is mocked: a request would fail
