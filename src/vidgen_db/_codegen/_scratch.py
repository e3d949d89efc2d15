"""A throwaway database to apply the migrations to: on the embedded server, or on the
server of ``--database-url`` (which must be allowed to create databases)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from .._dsn import with_dbname

__all__ = ["scratch_database"]


@contextmanager
def scratch_database(server_url: str | None) -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    embedded = None
    if server_url is None:
        from .._embedded import start_embedded

        embedded = start_embedded()
        server_url = embedded.url
        print("using the embedded PostgreSQL", file=sys.stderr)
    name = f"vidgen_codegen_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield with_dbname(server_url, name)
        finally:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
    finally:
        if embedded is not None:
            embedded.stop()
