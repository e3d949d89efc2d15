"""Throwaway databases: created on a server for one use and dropped afterwards.

The one helper the code generator, the local stack, the tests and the benchmarks share.
``server_url`` must connect as a role allowed to create databases.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from ._dsn import with_dbname

__all__ = ["throwaway_database"]


@contextmanager
def throwaway_database(
    server_url: str,
    *,
    prefix: str = "vidgen_tmp",
    template: str | None = None,
    drop: bool = True,
) -> Iterator[str]:
    """Create a database (empty, or a copy of ``template``), yield its URL, then drop it,
    closing any connection still open to it. ``drop=False`` leaves it, for a server that
    is itself thrown away afterwards (each DROP DATABASE costs about 0.1 s)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(create)
    if not drop:
        yield with_dbname(server_url, name)
        return
    try:
        yield with_dbname(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
