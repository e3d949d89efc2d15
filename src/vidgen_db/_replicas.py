"""Read replicas: which requests a replica may serve, and read-your-writes.

Supabase's read replicas each have an API URL of their own and take the project's keys.
A client given ``read_url`` routes every request through a :class:`ReplicaRouter`:

* a read (``GET``/``HEAD``, or ``POST /rpc/<f>`` of a function in
  :data:`READ_ONLY_FUNCTIONS`) goes to the replica;
* anything else goes to the primary, and marks its caller (the request's
  ``Authorization``: one user, or the service role) as having written: that caller's reads
  go to the primary for ``read_your_writes`` seconds, so it sees what it just wrote
  although the replica lags behind.

The router is shared by the clients derived from one another (``as_user``,
``with_options``): each caller has its own window.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import httpx

__all__ = ["READ_ONLY_FUNCTIONS", "ReplicaRouter"]

#: The SQL functions that only read (STABLE): a replica may answer them.
READ_ONLY_FUNCTIONS = frozenset({"get_credit_balance", "get_dashboard", "job_queue_stats"})

#: The most callers whose last write is remembered (the oldest are forgotten first).
_MAX_CALLERS = 10_000


class ReplicaRouter:
    """Decides, request by request, whether the replica at ``replica`` serves it."""

    def __init__(
        self,
        primary: str,
        replica: str,
        read_your_writes: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = httpx.URL(primary)
        self.replica = httpx.URL(replica)
        self.read_your_writes = read_your_writes
        self._clock = clock
        self._writes: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def to_replica(self, request: httpx.Request) -> httpx.Request | None:
        """The request as sent to the replica, or None when the primary must serve it (a
        write, which is recorded, or a read by a caller that has just written)."""
        caller = request.headers.get("authorization", "")
        now = self._clock()
        if not self._is_read(request):
            with self._lock:
                self._writes[caller] = now
                self._writes.move_to_end(caller)
                while len(self._writes) > _MAX_CALLERS:
                    self._writes.popitem(last=False)
            return None
        with self._lock:
            wrote = self._writes.get(caller)
        if wrote is not None and now - wrote < self.read_your_writes:
            return None
        url = request.url.copy_with(
            scheme=self.replica.scheme, host=self.replica.host, port=self.replica.port
        )
        headers = httpx.Headers(request.headers)
        headers["host"] = url.netloc.decode("ascii")
        return httpx.Request(
            request.method,
            url,
            headers=headers,
            content=request.content,
            extensions=request.extensions,
        )

    @staticmethod
    def _is_read(request: httpx.Request) -> bool:
        if request.method in ("GET", "HEAD"):
            return True
        if request.method != "POST":
            return False
        head, _, name = request.url.path.rpartition("/")
        return head.endswith("/rpc") and name in READ_ONLY_FUNCTIONS
