"""Run SQL the way PostgREST runs a request (vidgen_db.local's prelude: one transaction,
role and JWT claims set transaction-locally), as an actor. Used by the database tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from vidgen_db.local._postgrest import PRELUDE, prelude_params

ANON = "anon"
AUTHENTICATED = "authenticated"
SERVICE = "service_role"


@dataclass(frozen=True)
class Actor:
    """Who a request comes from: a database role and, for users, their id."""

    name: str
    role: str
    user_id: uuid.UUID | None = None

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"role": self.role}
        if self.user_id is not None:
            claims["sub"] = str(self.user_id)
            claims["aud"] = "authenticated"
        return claims

    def prelude(self) -> dict[str, str]:
        """The parameters of PostgREST's prelude for a request by this actor."""
        return prelude_params(self.role, self.claims())


def anon() -> Actor:
    return Actor("anon", ANON)


def user(user_id: uuid.UUID, name: str = "user") -> Actor:
    return Actor(name, AUTHENTICATED, user_id)


def service() -> Actor:
    return Actor("service", SERVICE)


@contextmanager
def request(
    conn: psycopg.Connection[Any], actor: Actor, *, commit: bool = False
) -> Iterator[psycopg.Cursor[Any]]:
    """A PostgREST-style request transaction as ``actor``; rolled back unless ``commit``."""
    with conn.transaction(force_rollback=not commit), conn.cursor() as cur:
        cur.execute(PRELUDE, actor.prelude())
        yield cur


def outcome(
    conn: psycopg.Connection[Any],
    actor: Actor,
    sql: str,
    params: Any = None,
    *,
    prepare: str | None = None,
) -> str:
    """'ok' when the statement affected or returned at least one row; 'blocked' when it was
    refused (SQLSTATE 42501) or touched nothing. Any other error propagates."""
    try:
        with conn.transaction(force_rollback=True), conn.cursor() as cur:
            if prepare:
                cur.execute(prepare.encode())
            cur.execute(PRELUDE, actor.prelude())
            cur.execute(sql.encode() if params is None else sql, params)
            if cur.description is not None:
                rows = cur.fetchall()
                if (
                    len(rows) == 1
                    and len(rows[0]) == 1
                    and isinstance(rows[0][0], int)
                    and sql.lstrip().lower().startswith("select count")
                ):
                    return "ok" if rows[0][0] > 0 else "blocked"
                return "ok" if rows else "blocked"
            return "ok" if cur.rowcount > 0 else "blocked"
    except psycopg.errors.InsufficientPrivilege:
        return "blocked"
