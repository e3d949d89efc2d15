"""What the example's tests share: users, and the check that an error keeps the contract."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import httpx

from vidgen_db.models import RPC_FUNCTIONS

#: The tables of the schema: an error body must never name them.
TABLES = [
    *("assets", "credit_balances", "credit_ledger", "draft_prompts", "job_logs", "job_steps"),
    *("jobs", "profiles", "projects", "workers"),
]
#: What the server's own words look like: SQL, PostgREST's messages, internal names.
_INTERNAL = re.compile(
    r"\b(?:{})\b|\bp_\w+|public\.|pgrst|sqlstate|violates|constraint|relation|syntax|"
    r"select\s|null value|coerce|\bhttp \d{{3}}\b|traceback".format(
        "|".join(re.escape(name) for name in [*TABLES, *RPC_FUNCTIONS])
    ),
    re.IGNORECASE,
)


@dataclass(frozen=True)
class User:
    id: UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


NewUser = Callable[[], User]


def assert_error(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, object]:
    """The response is the error contract: ``status``, ``{"code", "message"}`` (plus
    ``required``/``balance`` for a 402), and nothing of the server's own words."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict), body
    assert {"code", "message"} <= body.keys() <= {"code", "message", "required", "balance"}
    if code is not None:
        assert body["code"] == code, body
    # The code may be the server's (PGRST116, 23514): it is the stable contract. The
    # rest of the body is for people, and must say nothing of the database.
    shown = response.text.replace(f'"{body["code"]}"', '""')
    assert not _INTERNAL.search(shown), shown
    return body
