"""HTTP contract of db.dashboard (user only: get_dashboard runs as the caller)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

# The shared contract tests, run here over this module's CASES and INVALID tables.
from repo_contract_tests import (
    test_async,  # noqa: F401
    test_refused_before_any_request_async,  # noqa: F401
    test_refused_before_any_request_sync,  # noqa: F401
    test_sync,  # noqa: F401
)
from test_repos_clients import (
    JOB,
    PROJECT,
    Case,
    Invalid,
    dashboard_row,
    pgrst_error,
)
from vidgen_db import BadRequestError, Cursor
from vidgen_db.models import GetDashboardRow, JobStatus

CURSOR = Cursor(datetime(2026, 11, 28, 9, 0, tzinfo=UTC), uuid.UUID(int=7))


def rows(n: int) -> list[dict[str, object]]:
    """``n`` projects, newest first, one second apart."""
    return [
        dashboard_row(
            id=str(uuid.UUID(int=1000 + i)),
            created_at=f"2026-11-28T{10 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}+00:00",
        )
        for i in reversed(range(n))
    ]


CASES = [
    Case(
        "dashboard.page",
        "user",
        lambda db: db.dashboard.page(),
        "POST",
        "/rpc/get_dashboard",
        body={"p_limit": 21},
        response=[
            dashboard_row(),
            dashboard_row(
                id=str(uuid.UUID(int=2)),
                latest_job_id=None,
                latest_job_status=None,
                latest_job_progress=None,
                latest_job_created_at=None,
            ),
        ],
        check=lambda page: (
            isinstance(page.items[0], GetDashboardRow)
            and page.items[0].latest_job_id == JOB
            and page.items[0].latest_job_status is JobStatus.RENDERING
            and page.items[1].latest_job_id is None
            and page.next_cursor is None
        ),
    ),
    Case(
        "dashboard.page",
        "user",
        lambda db: db.dashboard.page(limit=2, before=CURSOR),
        "POST",
        "/rpc/get_dashboard",
        body={
            "p_limit": 3,
            "p_before_created_at": "2026-11-28T09:00:00Z",
            "p_before_id": str(CURSOR.id),
        },
        response=rows(3),
        check=lambda page: (
            len(page) == 2
            and page.next_cursor
            == Cursor(datetime(2026, 11, 28, 10, 0, 1, tzinfo=UTC), uuid.UUID(int=1001))
        ),
        label="next-page",
    ),
    Case(
        "dashboard.page",
        "user",
        lambda db: db.dashboard.page(limit=2, before=str(CURSOR)),
        "POST",
        "/rpc/get_dashboard",
        body={
            "p_limit": 3,
            "p_before_created_at": "2026-11-28T09:00:00Z",
            "p_before_id": str(CURSOR.id),
        },
        response=rows(1),
        check=lambda page: len(page) == 1 and page.next_cursor is None,
        label="string-cursor",
    ),
    Case(
        "dashboard.page",
        "user",
        lambda db: db.dashboard.page(limit=100),
        "POST",
        "/rpc/get_dashboard",
        body={"p_limit": 100},
        response=rows(100),
        check=lambda page: len(page) == 100 and page.next_cursor is not None,
        label="largest-page",
    ),
    Case(
        "dashboard.page",
        "user",
        lambda db: db.dashboard.page(limit=5),
        "POST",
        "/rpc/get_dashboard",
        body={"p_limit": 6},
        status=400,
        response=pgrst_error("22023", "p_limit must be between 1 and 100, got 6"),
        raises=BadRequestError,
        label="refused",
    ),
]

INVALID = [
    Invalid("dashboard.page", "user", lambda db: db.dashboard.page(limit=101), "limit"),
    Invalid("dashboard.page", "user", lambda db: db.dashboard.page(limit=0), "limit", "zero"),
    Invalid(
        "dashboard.page",
        "user",
        lambda db: db.dashboard.page(before=Cursor(datetime(2026, 1, 1), PROJECT)),
        "timezone",
        "naive",
    ),
    Invalid("dashboard.page", "user", lambda db: db.dashboard.page(before="?"), "cursor", "forged"),
]
