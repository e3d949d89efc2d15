"""Small helpers over libpq connection strings."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = ["host_of", "redact", "with_dbname"]


def with_dbname(url: str, dbname: str) -> str:
    """The same connection string pointing at another database."""
    return make_conninfo(url, dbname=dbname)


def host_of(url: str) -> str:
    """The host part of a connection string ('' for the default Unix socket)."""
    host = conninfo_to_dict(url).get("host") or ""
    return str(host)


def redact(url: str) -> str:
    """The connection string with any password replaced, fit for printing."""
    params = conninfo_to_dict(url)
    if params.get("password"):
        params["password"] = "***"
    return make_conninfo("", **params)
