# Generated from src/vidgen_db/repos/_jobs_watch_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Watching a job until it is done: its states as they change, READY or FAILED last.

::

    for job in db.jobs.watch(job_id, timeout=600):
        print(job.status, job.progress, job.status_message)
    # job is now READY or FAILED

``watch_job`` yields the job's current state first, then the job each time its
``status``, ``progress`` or ``status_message`` changes, and stops after yielding a final
state (``READY`` or ``FAILED``). It polls with backoff: the wait between two reads starts
at ``poll_interval`` seconds, grows x1.5 while nothing changes, up to ``max_interval``,
and falls back to ``poll_interval`` after a change. ``timeout`` (seconds) bounds the
whole watch: ``WatchTimeoutError`` when the job is not done by then (each read is also
bounded by the client's HTTP timeout). Errors of the reads (``NotFoundError``...) are
raised as they are; transient ones were already retried by the client.

With ``realtime`` (supabase-py's Realtime client: ``client.realtime`` of a client made
by ``acreate_client``), the async watcher subscribes to Realtime's ``postgres_changes``
UPDATEs of that job and reads the job when notified instead of on a timer (still at
least every ``max_interval``, in case a notification is lost); if subscribing fails it
logs a warning and polls. See ``vidgen_db._realtime``. The sync watcher always polls.

To stop early, break out of the loop. With Realtime (async only), wrap the iterator in
``contextlib.aclosing`` to be sure its channel is left at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, Protocol
from uuid import UUID

from .._errors import InvalidArgumentError, WatchTimeoutError
from ..models import Job
from ..models.enums import JobStatus
from ._realtime import sync_subscribe_job_updates

__all__ = ["FINAL_STATUSES", "JobGetter", "Sleeper", "watch_job"]

#: The statuses after which a job never changes.
FINAL_STATUSES = frozenset({JobStatus.READY, JobStatus.FAILED})

#: How much the wait grows after a read that saw no change.
BACKOFF_FACTOR = 1.5


class JobGetter(Protocol):
    """Reads a job by id: ``db.jobs.get`` of any client."""

    def __call__(self, job_id: UUID, /) -> Job: ...


class Sleeper(Protocol):
    """Waits ``seconds`` (``time.sleep``; tests pass a fake)."""

    def __call__(self, seconds: float, /) -> None: ...


def _key(job: Job) -> tuple[Any, ...]:
    return (job.status, job.progress, job.status_message)


def _check_intervals(poll_interval: float, max_interval: float, timeout: float | None) -> None:
    if poll_interval <= 0:
        raise InvalidArgumentError("poll_interval must be more than zero")
    if max_interval < poll_interval:
        raise InvalidArgumentError("max_interval must be at least poll_interval")
    if timeout is not None and timeout <= 0:
        raise InvalidArgumentError("timeout must be more than zero (or None)")


def watch_job(
    get_job: JobGetter,
    job_id: UUID,
    *,
    poll_interval: float = 1.0,
    max_interval: float = 10.0,
    timeout: float | None = None,
    realtime: Any | None = None,
    sleep: Sleeper | None = None,
    clock: Callable[[], float] | None = None,
) -> Generator[Job, None]:
    """Yield job ``job_id`` as it changes until it is READY or FAILED (see the module
    docstring). ``get_job`` reads it (``db.jobs.get``); ``sleep`` and ``clock`` (seconds,
    monotonic) are for tests."""
    _check_intervals(poll_interval, max_interval, timeout)
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = None if timeout is None else clock() + timeout
    updates = None
    if realtime is not None:
        updates = sync_subscribe_job_updates(realtime, job_id)
    try:
        job = get_job(job_id)
        yield job
        last = _key(job)
        interval = poll_interval
        while job.status not in FINAL_STATUSES:
            # Polling: the backoff interval. Realtime: notified at once on a change, and
            # reading anyway every max_interval in case a notification was lost.
            wait = interval if updates is None else max_interval
            if deadline is not None:
                remaining = deadline - clock()
                if remaining <= 0:
                    raise WatchTimeoutError(
                        f"job {job_id} was not done within {timeout:g} s "
                        f"(last seen: {job.status}, progress {job.progress})"
                    )
                wait = min(wait, remaining)
            if updates is None:
                sleep(wait)
            else:
                updates.wait(wait)
            job = get_job(job_id)
            key = _key(job)
            if key != last:
                last = key
                interval = poll_interval
                yield job
            else:
                interval = min(max_interval, interval * BACKOFF_FACTOR)
    finally:
        if updates is not None:
            updates.close()
