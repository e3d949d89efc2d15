"""The gateway's connection pool: connections made on demand, checked without a query.

Like PostgREST's pool, and unlike a pool that reconnects in the background with a growing
back-off: a request that finds no idle connection connects itself (so the first request
after the database comes back is served), and a connection attempt that fails answers at
once (so a request during an outage fails fast instead of waiting for a timeout). An idle
connection is checked on checkout by looking at its socket, not with a query: a server that
shut down or restarted has sent it a termination message or closed it, which makes it
readable. After a connection error the caller drops every idle connection.
"""

from __future__ import annotations

import asyncio
import select
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg import AsyncConnection, pq

from ._prepared import Prepared

__all__ = ["ConnectError", "Pool", "PoolTimeout"]


class PoolTimeout(psycopg.OperationalError):
    """No connection became free within the pool's timeout (PostgREST's PGRST003)."""


class ConnectError(psycopg.OperationalError):
    """The database could not be reached (PostgREST's PGRST000)."""


def _readable(fd: int) -> bool:
    """Whether a socket has data (or end of file) waiting, without blocking."""
    if hasattr(select, "poll"):  # not limited to descriptors below FD_SETSIZE
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])


def _alive(conn: AsyncConnection[Any]) -> bool:
    """Whether an idle connection may be used: open, idle, and nothing waiting on its socket
    (an idle server connection sends nothing unless it is being terminated)."""
    if conn.closed or conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        return not _readable(conn.pgconn.socket)
    except (OSError, ValueError, psycopg.OperationalError):
        return False


class Pool:
    """Up to ``max_size`` autocommit connections to ``conninfo``; ``min_size`` are opened
    by :meth:`open` (which fails when the database cannot be reached), the rest on demand.

    ``prepare``: whether connections may prepare statements (each keeps a :class:`Prepared`
    registry, :meth:`statements`). Turning it off (for transaction poolers, where prepared
    statements do not follow the client) drops the connections that prepared anything.
    """

    def __init__(
        self, conninfo: str, *, min_size: int, max_size: int, timeout: float, prepare: bool
    ) -> None:
        self.conninfo = conninfo
        self.min_size = min_size
        self.max_size = max(max_size, 1)
        self.timeout = timeout
        self.prepare = prepare
        self._idle: deque[AsyncConnection[Any]] = deque()
        self._waiters: deque[asyncio.Future[AsyncConnection[Any] | None]] = deque()
        self._size = 0  # connections open or being opened
        self._closed = False
        self._prepared: dict[AsyncConnection[Any], Prepared] = {}

    async def open(self) -> None:
        """Open ``min_size`` connections; raises :class:`ConnectError` when it cannot."""
        self._closed = False
        while self._size < self.min_size:
            self._size += 1
            try:
                conn = await self._connect()
            except BaseException:
                self._size -= 1
                raise
            self._idle.append(conn)

    async def close(self) -> None:
        """Close every idle connection; connections in use close when they come back."""
        self._closed = True
        self.drop_idle()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def drop_idle(self) -> None:
        """Close the idle connections (after a connection error: they are likely dead too)."""
        while self._idle:
            self._discard(self._idle.pop(), wake=False)
        self._wake()

    def statements(self, conn: AsyncConnection[Any]) -> Prepared | None:
        """What ``conn`` has prepared; None when statements are not to be prepared."""
        if not self.prepare:
            return None
        prepared = self._prepared.get(conn)
        if prepared is None:
            prepared = self._prepared[conn] = Prepared()
        return prepared

    def disable_prepare(self) -> None:
        """Stop preparing statements from now on (new connections only)."""
        if self.prepare:
            self.prepare = False
            self.drop_idle()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """A connection for one transaction; back to the pool (or closed) afterwards."""
        conn = await self._acquire()
        try:
            yield conn
        finally:
            self._release(conn)

    async def _connect(self) -> AsyncConnection[Any]:
        try:
            async with asyncio.timeout(self.timeout):
                return await AsyncConnection.connect(
                    self.conninfo, autocommit=True, prepare_threshold=None
                )
        except TimeoutError:
            raise ConnectError("timed out connecting to the database") from None
        except psycopg.OperationalError as exc:
            raise ConnectError(str(exc)) from exc

    async def _acquire(self) -> AsyncConnection[Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            if self._closed:
                raise ConnectError("the connection pool is closed")
            while self._idle:
                conn = self._idle.pop()  # the most recently used: its statements are prepared
                if self._usable(conn):
                    return conn
                self._discard(conn, wake=False)
            if self._size < self.max_size:
                self._size += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._size -= 1
                    self._wake()  # let a waiter try (and fail fast) too
                    raise
            conn_or_none = await self._wait(loop, deadline)
            if conn_or_none is not None:
                if self._usable(conn_or_none):
                    return conn_or_none
                self._discard(conn_or_none, wake=False)

    def _usable(self, conn: AsyncConnection[Any]) -> bool:
        return _alive(conn) and (self.prepare or conn not in self._prepared)

    async def _wait(
        self, loop: asyncio.AbstractEventLoop, deadline: float
    ) -> AsyncConnection[Any] | None:
        """Wait for a connection handed back (or None: a slot is free, connect)."""
        waiter: asyncio.Future[AsyncConnection[Any] | None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                handed = waiter.result()  # handed over as we were cancelled: give it back
                if handed is not None:
                    self._release(handed)
                else:
                    self._wake()
            else:
                waiter.cancel()
                with suppress(ValueError):
                    self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise PoolTimeout("no connection became free in time") from None
            raise

    def _release(self, conn: AsyncConnection[Any]) -> None:
        if self._closed or conn.closed:
            self._discard(conn)
            return
        if conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            self._discard(conn)  # a transaction left open (the rollback failed): not reusable
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _discard(self, conn: AsyncConnection[Any], *, wake: bool = True) -> None:
        self._size -= 1
        self._prepared.pop(conn, None)
        if not conn.closed:
            conn.pgconn.finish()  # no round trip: the server may be gone
        if wake:
            self._wake()

    def _wake(self) -> None:
        """Tell one waiter that a slot is free (it will connect)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
