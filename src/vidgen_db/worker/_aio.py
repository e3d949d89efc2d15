"""The concurrency the async worker runner uses, on asyncio: tasks, events, signals.

The sync runner is generated from the async one; its twin of this module is
``_threads.py`` (threads instead of tasks), with the same names. What really differs
lives here: an asyncio task can be cancelled, a thread cannot (the sync runner relies on
fencing instead: a worker that lost its job is refused at its next call).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

__all__ = ["CANCELS", "Cancelled", "Event", "Handle", "spawn", "stop_signals", "wait_event"]

#: Whether Handle.cancel() interrupts the work (a task, yes; a thread, no).
CANCELS = True
#: What a cancelled task sees.
Cancelled = asyncio.CancelledError
Event = asyncio.Event


class Handle:
    """A running task."""

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self._task = task

    def cancel(self) -> None:
        """Cancel the task (it sees ``Cancelled`` at its next await)."""
        self._task.cancel()

    def done(self) -> bool:
        return self._task.done()

    async def wait(self, timeout: float | None) -> bool:
        """Wait until the task is done, at most ``timeout`` seconds; whether it is done."""
        if not self._task.done():
            await asyncio.wait({self._task}, timeout=timeout)
        return self._task.done()


def spawn(function: Callable[..., Awaitable[Any]], *args: Any) -> Handle:
    """Run ``function(*args)`` concurrently."""
    return Handle(asyncio.ensure_future(function(*args)))


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait for ``event`` at most ``timeout`` seconds; whether it is set."""
    if not event.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
    return event.is_set()


@contextlib.contextmanager
def stop_signals(on_signal: Callable[[], None]) -> Iterator[None]:
    """Call ``on_signal`` on SIGTERM and SIGINT while the block runs (where the event loop
    can handle signals: the main thread on Unix)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError, ValueError):
            continue
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
