"""Helpers for tests that drive the credit and job functions on a real database."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from vidgen_db.local._postgrest import PRELUDE, prelude_params

#: PostgREST's prelude for a request with the service role's key.
SERVICE_PRELUDE = prelude_params("service_role", {"role": "service_role"})


class Db:
    """A migrated test database: superuser set-up, and calls made as the service role."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def one(self, sql: str, params: Any = None) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]

    def new_user(self, credits: int = 10) -> uuid.UUID:
        """A user (welcome grant: 10 credits) topped up or drained to ``credits``."""
        user_id = uuid.uuid4()
        self.conn.execute("INSERT INTO auth.users (id) VALUES (%s)", (user_id,))
        if credits > 10:
            self.service(
                "SELECT public.grant_credits(%s, %s, 'test top-up')", (user_id, credits - 10)
            )
        elif credits < 10:
            self.service("SELECT public.expire_credits(%s, %s)", (user_id, 10 - credits))
        return user_id

    def new_job(self, user_id: uuid.UUID) -> uuid.UUID:
        project_id = uuid.uuid4()
        job_id = uuid.uuid4()
        self.conn.execute(
            "INSERT INTO public.projects (id, user_id, title, prompt_text, niche_preset) "
            "VALUES (%s, %s, 't', 'p', 'facts')",
            (project_id, user_id),
        )
        self.conn.execute(
            "INSERT INTO public.jobs (id, project_id, user_id) VALUES (%s, %s, %s)",
            (job_id, project_id, user_id),
        )
        return job_id

    def service(self, sql: str, params: Any = None) -> Any:
        """Run ``sql`` as PostgREST would for the service role; the first column of the first row."""
        return call_as_service(self.conn, sql, params)

    def balance(self, user_id: uuid.UUID) -> int:
        return int(
            self.one("SELECT balance FROM public.credit_balances WHERE user_id = %s", (user_id,))
        )

    def ledger_sum(self, user_id: uuid.UUID) -> int:
        return int(
            self.one(
                "SELECT coalesce(sum(amount), 0) FROM public.credit_ledger WHERE user_id = %s",
                (user_id,),
            )
        )

    def job(self, job_id: uuid.UUID) -> dict[str, Any]:
        with self.conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            row = cur.execute("SELECT * FROM public.jobs WHERE id = %s", (job_id,)).fetchone()
        assert row is not None
        return row


def call_as_service(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> Any:
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(PRELUDE, SERVICE_PRELUDE)
        cur.execute(sql, params)
        row = cur.fetchone() if cur.description else None
        return row[0] if row else None


def run_concurrently(url: str, calls: list[Callable[[psycopg.Connection[Any]], Any]]) -> list[Any]:
    """Run each call on its own connection, all released at once; results (or exceptions) in order."""
    connections = [psycopg.connect(url, autocommit=True) for _ in calls]
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index](connections[index])
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for c in connections:
            c.close()
    return results
