"""Supabase Realtime notifications of a job's updates, for ``watch_job`` (async only).

``async_subscribe_job_updates(realtime, job_id)`` subscribes a new channel of a
supabase-py ``AsyncRealtimeClient`` (``client.realtime`` of an async supabase client) to
``postgres_changes`` UPDATE events on ``public.jobs`` filtered ``id=eq.<job_id>``, and
returns an :class:`AsyncJobUpdates` whose ``wait()`` returns when the next notification
arrives. It returns None, and the caller polls, if subscribing fails in any way (no
Realtime server, the table not in the ``supabase_realtime`` publication, a refused
token, no answer within ``subscribe_timeout``).

The notification is used as a wake-up, not as data: the watcher then reads the job
through the data API, so what it yields is always a complete, validated row seen through
the same row level security (Realtime's records may omit unchanged TOASTed columns and
use other text formats).

This module has no ``_async`` suffix, so it has no generated sync twin: the sync
``watch_job`` calls :func:`sync_subscribe_job_updates`, which always answers None (Realtime
needs an event loop; supabase-py's sync client has none), so the sync watcher polls.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any
from uuid import UUID

from .._keys import redact_secrets

__all__ = [
    "AsyncJobUpdates",
    "JobUpdates",
    "async_subscribe_job_updates",
    "sync_subscribe_job_updates",
]

logger = logging.getLogger("vidgen_db.realtime")

#: Seconds to wait for the channel to be joined before polling instead.
SUBSCRIBE_TIMEOUT = 10.0


class AsyncJobUpdates:
    """A subscribed channel: ``await wait(timeout)`` until the next notification."""

    def __init__(self, realtime: Any, channel: Any) -> None:
        self._realtime = realtime
        self._channel = channel
        self._event = asyncio.Event()
        self._closed = False

    def _notify(self, payload: Any) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True when a notification arrived (since the last ``wait``), False after
        ``timeout`` seconds without one."""
        try:
            await asyncio.wait_for(self._event.wait(), max(0.0, timeout))
        except TimeoutError:
            return False
        self._event.clear()
        return True

    async def aclose(self) -> None:
        """Leave the channel (errors are logged, never raised)."""
        if self._closed:
            return
        self._closed = True
        await _leave(self._realtime, self._channel)


async def _leave(realtime: Any, channel: Any) -> None:
    try:
        remove = getattr(realtime, "remove_channel", None)
        if remove is not None:
            await remove(channel)
        else:
            await channel.unsubscribe()
    except Exception as exc:  # leaving is best effort
        logger.debug("leaving realtime channel failed: %s", redact_secrets(repr(exc)))


async def async_subscribe_job_updates(
    realtime: Any, job_id: UUID, *, subscribe_timeout: float = SUBSCRIBE_TIMEOUT
) -> AsyncJobUpdates | None:
    """Subscribe to the updates of job ``job_id``; None if that cannot be done (the
    caller then polls). See the module docstring."""
    channel: Any = None
    states: list[str] = []
    try:
        # A topic of its own: supabase-py returns the existing channel for a known topic.
        channel = realtime.channel(f"vidgen-db-job-{job_id}-{uuid.uuid4().hex[:8]}")
        updates = AsyncJobUpdates(realtime, channel)
        channel.on_postgres_changes(
            "UPDATE",
            schema="public",
            table="jobs",
            filter=f"id=eq.{job_id}",
            callback=updates._notify,
        )

        def on_state(state: Any, error: Exception | None = None) -> None:
            states.append(str(getattr(state, "value", state)))
            if error is not None:
                logger.debug(
                    "realtime channel for job %s: %s %s", job_id, state, redact_secrets(repr(error))
                )

        await asyncio.wait_for(channel.subscribe(on_state), subscribe_timeout)
        if "SUBSCRIBED" not in states:
            raise RuntimeError(f"channel not joined (states: {states or 'none'})")
    except Exception as exc:
        logger.warning(
            "watching job %s through Realtime failed (%s: %s); polling instead",
            job_id,
            type(exc).__name__,
            redact_secrets(str(exc)),
        )
        if channel is not None:
            await _leave(realtime, channel)
        return None
    return updates


class JobUpdates:
    """The sync counterpart of :class:`AsyncJobUpdates`: never made (the sync watcher
    always polls); it exists so the generated sync ``watch_job`` type-checks."""

    def wait(self, timeout: float) -> bool:  # pragma: no cover - never constructed
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - never constructed
        raise NotImplementedError


def sync_subscribe_job_updates(
    realtime: Any, job_id: UUID, *, subscribe_timeout: float = SUBSCRIBE_TIMEOUT
) -> JobUpdates | None:
    """Always None: Realtime is async only, the sync watcher polls."""
    if realtime is not None:
        logger.debug("the sync watch_job ignores realtime=; it polls job %s", job_id)
    return None
