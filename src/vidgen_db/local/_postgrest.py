"""How PostgREST runs a request inside PostgreSQL: in one transaction, the role and the JWT
claims (and the request's method, path, headers and cookies) set transaction-locally with
``set_config``, then the statement.

The one copy of that prelude: the gateway sends it before each request's statement, and
the database tests and benchmarks use it to act as ``anon``, a user or the service role
exactly as the data API does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["PRELUDE", "prelude_params", "quote_search_path"]

#: Run with the parameters of :func:`prelude_params`, inside the request's transaction.
PRELUDE = (
    "SELECT set_config('role', %(role)s, true), set_config('search_path', %(search_path)s, true),"
    " set_config('request.jwt.claims', %(claims)s, true),"
    " set_config('request.method', %(method)s, true),"
    " set_config('request.path', %(path)s, true),"
    " set_config('request.headers', %(headers)s, true),"
    " set_config('request.cookies', %(cookies)s, true)"
)


def quote_search_path(schemas: tuple[str, ...] | list[str]) -> str:
    """``schemas`` as a ``search_path`` value, each name quoted."""
    return ", ".join('"' + s.replace('"', '""') + '"' for s in schemas)


def prelude_params(
    role: str,
    claims: Mapping[str, Any],
    *,
    search_path: str = '"public"',
    method: str = "POST",
    path: str = "/",
    headers: Mapping[str, str] | None = None,
    cookies: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The parameters of :data:`PRELUDE` for one request as ``role`` with ``claims``."""
    return {
        "role": role,
        "search_path": search_path,
        "claims": json.dumps(dict(claims)),
        "method": method,
        "path": path,
        "headers": json.dumps(dict(headers or {})),
        "cookies": json.dumps(dict(cookies or {})),
    }
