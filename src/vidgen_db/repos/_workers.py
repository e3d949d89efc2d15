# Generated from src/vidgen_db/repos/_workers_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Workers: the processes that claim and run jobs (service role only). A worker registers
once at start-up with an id of its own, then claims jobs under that id; the rows of
stopped workers are pruned after a while."""

from __future__ import annotations

import builtins
import socket
import uuid
from uuid import UUID

from .._errors import InvalidArgumentError
from ..models import Worker
from ._base import Repository
from ._retention import check_days

__all__ = ["ServiceWorkers"]


class ServiceWorkers(Repository):
    """``db.workers`` of the service client."""

    def register(self, name: str | None = None, *, worker_id: UUID | None = None) -> Worker:
        """Register a worker (``name`` defaults to the host name and a short id) and return
        it; its ``id`` is what ``db.jobs.claim`` takes. Safe to retry: the id is chosen
        here (unless given), and registering it again only refreshes it."""
        if name is not None and not 1 <= len(name) <= 200:
            raise InvalidArgumentError(f"name must be 1 to 200 characters, got {len(name)}")
        worker_id = worker_id or uuid.uuid4()
        label = name or f"{socket.gethostname()[:150]}-{worker_id.hex[:8]}"
        return self._rpc_row("register_worker", Worker, p_worker_id=worker_id, p_name=label)

    def list(self) -> builtins.list[Worker]:
        """Every registered worker, most recently seen first."""
        query = self._rest.table("workers").select("*").order("last_seen_at", desc=True)
        return self._all(Worker, query)

    def prune(self, *, older_than_days: int | None = None) -> int:
        """Delete the workers not seen for more than ``older_than_days`` days (default: the
        database's ``vidgen.worker_retention_days``, else 7) that hold no job; returns how
        many. A running worker is seen at every claim, so only stopped ones go."""
        pruned: int = self._rpc_value(
            "prune_workers", int, p_older_than_days=check_days(older_than_days)
        )
        return pruned
