"""HTTP contract of db.workers (service only: register, list)."""

from __future__ import annotations

import socket
import uuid
from typing import Any

# The shared contract tests, run here over this module's CASES and INVALID tables.
from repo_contract_tests import (
    test_async,  # noqa: F401
    test_refused_before_any_request_async,  # noqa: F401
    test_refused_before_any_request_sync,  # noqa: F401
    test_sync,  # noqa: F401
)
from test_repos_clients import ANY_UUID, WORKER, Case, Invalid, worker_row
from vidgen_db.models import Worker


class _HostNamed:
    """Equal to the default worker name: this host's name and a short id."""

    def __eq__(self, other: object) -> bool:
        host, _, short = str(other).rpartition("-")
        return host == socket.gethostname()[: len(host)] and len(short) == 8

    def __repr__(self) -> str:
        return "<host-xxxxxxxx>"


HOST_NAMED: Any = _HostNamed()

CASES = [
    Case(
        "workers.register",
        "service",
        lambda db: db.workers.register("render-1", worker_id=WORKER),
        "POST",
        "/rpc/register_worker",
        body={"p_worker_id": str(WORKER), "p_name": "render-1"},
        response=worker_row(),
        check=lambda w: isinstance(w, Worker) and w.id == WORKER and w.name == "render-1",
    ),
    Case(
        "workers.register",
        "service",
        lambda db: db.workers.register(),
        "POST",
        "/rpc/register_worker",
        # An id of the client's own (a retry registers nothing twice), the host's name.
        body={"p_worker_id": ANY_UUID, "p_name": HOST_NAMED},
        response=worker_row(),
        check=lambda w: isinstance(w, Worker),
        label="defaults",
    ),
    Case(
        "workers.list",
        "service",
        lambda db: db.workers.list(),
        "GET",
        "/workers",
        params={"select": "*", "order": "last_seen_at.desc"},
        response=[worker_row(), worker_row(id=str(uuid.UUID(int=9)), name="render-2")],
        check=lambda ws: [w.name for w in ws] == ["render-1", "render-2"],
    ),
    Case(
        "workers.prune",
        "service",
        lambda db: db.workers.prune(),
        "POST",
        "/rpc/prune_workers",
        body={},
        response=3,
        check=lambda pruned: pruned == 3,
    ),
    Case(
        "workers.prune",
        "service",
        lambda db: db.workers.prune(older_than_days=30),
        "POST",
        "/rpc/prune_workers",
        body={"p_older_than_days": 30},
        response=0,
        check=lambda pruned: pruned == 0,
        label="older-than",
    ),
]

INVALID = [
    Invalid("workers.register", "service", lambda db: db.workers.register(""), "name"),
    Invalid(
        "workers.register", "service", lambda db: db.workers.register("w" * 201), "name", "long"
    ),
    Invalid(
        "workers.prune", "service", lambda db: db.workers.prune(older_than_days=True), "older_than"
    ),
]
