"""The schema cache's listener: ``NOTIFY <db_channel>, 'reload schema'``, as PostgREST has it.

One connection listens on the channel. When it is lost (the database restarted, the network
failed) it reconnects with a short back-off (0.05 s, doubling up to 1 s), and reloads the
schema cache once it is back: notifications sent meanwhile are lost, and the catalog may
have changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from psycopg import AsyncConnection, sql

__all__ = ["listen_for_reloads"]

FIRST_DELAY = 0.05
MAX_DELAY = 1.0


async def listen_for_reloads(
    conninfo: str,
    channel: str,
    *,
    reload: Callable[[], Awaitable[None]],
    lost: Callable[[], None],
    listening: asyncio.Event,
    connect_timeout: float,
) -> None:
    """Run until cancelled: ``reload()`` on each reload notification and after each
    reconnection; ``lost()`` when the connection breaks; ``listening`` is set once the
    first ``LISTEN`` is in place."""
    delay = FIRST_DELAY
    was_listening = False
    while True:
        live = False
        try:
            async with asyncio.timeout(connect_timeout):
                conn = await AsyncConnection.connect(conninfo, autocommit=True)
            async with conn:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                live = True
                if was_listening:
                    await reload()
                was_listening = True
                listening.set()
                delay = FIRST_DELAY
                async for note in conn.notifies():
                    if note.payload in ("", "reload schema"):
                        await reload()
        except asyncio.CancelledError:
            raise
        except Exception:  # the connection was lost or refused: retry shortly
            if live:
                lost()
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
