"""The concurrency the sync worker runner uses, on threads: the twin of ``_aio.py`` with
the same names (see there). A thread cannot be cancelled: ``Handle.cancel()`` does
nothing, and a handler that must stop learns it from its next call to the database
(LeaseLostError, JobCancelledError) or from ``ClaimedJob.should_stop``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

__all__ = ["CANCELS", "Cancelled", "Event", "Handle", "spawn", "stop_signals", "wait_event"]


#: Whether Handle.cancel() interrupts the work (a task, yes; a thread, no).
CANCELS = False


class Cancelled(BaseException):
    """Never raised: threads are not cancelled (the name mirrors ``_aio.Cancelled``)."""


Event = threading.Event


class Handle:
    """A running thread."""

    def __init__(self, thread: threading.Thread) -> None:
        self._thread = thread

    def cancel(self) -> None:
        """Nothing: a thread stops at its next refused call to the database."""

    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None) -> bool:
        """Wait until the thread is done, at most ``timeout`` seconds; whether it is done."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


def spawn(function: Callable[..., Any], *args: Any) -> Handle:
    """Run ``function(*args)`` in a new daemon thread."""
    thread = threading.Thread(target=function, args=args, daemon=True)
    thread.start()
    return Handle(thread)


def wait_event(event: threading.Event, timeout: float | None) -> bool:
    """Wait for ``event`` at most ``timeout`` seconds; whether it is set."""
    return event.wait(timeout)


@contextlib.contextmanager
def stop_signals(on_signal: Callable[[], None]) -> Iterator[None]:
    """Call ``on_signal`` on SIGTERM and SIGINT while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        on_signal()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
