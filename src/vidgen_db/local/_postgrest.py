"""How PostgREST runs a request inside PostgreSQL: in one transaction, the role and the JWT
claims (and the request's method, path, headers and cookies) set transaction-locally with
``set_config``, then the statement.

The one copy of that prelude: the gateway sends it (with the role's own settings, as
:data:`PRELUDE_WITH_SETTINGS`) before each request's statement, and the database tests and
benchmarks use it to act as ``anon``, a user or the service role exactly as the data API
does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "PRELUDE",
    "PRELUDE_WITH_SETTINGS",
    "prelude_params",
    "quote_search_path",
    "settings_params",
]

#: Run with the parameters of :func:`prelude_params`, inside the request's transaction.
PRELUDE = (
    "SELECT set_config('role', %(role)s, true), set_config('search_path', %(search_path)s, true),"
    " set_config('request.jwt.claims', %(claims)s, true),"
    " set_config('request.method', %(method)s, true),"
    " set_config('request.path', %(path)s, true),"
    " set_config('request.headers', %(headers)s, true),"
    " set_config('request.cookies', %(cookies)s, true)"
)

#: :data:`PRELUDE`, then more settings applied after the role (the impersonated role's own
#: ``ALTER ROLE ... SET`` settings, which ``SET ROLE`` alone would not apply, and the
#: request's time zone), as one statement: the same text, so one prepared statement, whatever
#: the settings. Run with the parameters of :func:`prelude_params` and :func:`settings_params`.
PRELUDE_WITH_SETTINGS = (
    PRELUDE + ", (SELECT count(set_config(s.name, s.value, true)) FROM"
    " unnest(%(setting_names)s::text[], %(setting_values)s::text[]) AS s(name, value))"
)


def settings_params(settings: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The extra parameters of :data:`PRELUDE_WITH_SETTINGS`: setting names and values."""
    items = list((settings or {}).items())
    return {"setting_names": [k for k, _ in items], "setting_values": [v for _, v in items]}


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
