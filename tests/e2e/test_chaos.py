"""Chaos: a fleet of worker processes over HTTP, killed and frozen while they work.

Four worker processes (tests/e2e/chaos_worker.py, the sync runner, 2-second leases) run
120 jobs of 12 users through the local stack. Meanwhile workers are SIGKILLed at random
and replaced, and one is SIGSTOPped past its lease, then resumed. At the end:

* every job is READY or FAILED, and nothing is left reserved or held;
* no step ever ran in two workers at once: every call the database accepts under a lease
  is recorded with the caller's token; per job, the calls of each lease form an interval,
  no two intervals overlap, and a newer lease is never followed by an older one;
* every job's credits were settled or refunded exactly once, and every balance equals the
  sum of its ledger.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from conftest import MakeDatabase
from vidgen_db.testing import LocalStack

from .helpers import job_for, project_for

WORKERS = 4
USERS = 12
JOBS = 120
WORKER_SCRIPT = Path(__file__).with_name("chaos_worker.py")

#: Records every lease a worker-side call used and the database accepted: the lease check
#: (vidgen_private.use_lease) is wrapped so that each accepted use, with the caller's token,
#: is written down in the same transaction (a refused call rolls its record back). The job
#: row is locked before the check, so the times are in the order the calls took effect.
#: Tokens are random, so each claim's token is written down too, with when it was drawn
#: (in the claim's transaction: a claim rolled back leaves no record).
INSTRUMENT = """
CREATE TABLE public.chaos_lease_uses (job_id uuid, lease_token bigint, at timestamptz);
CREATE TABLE public.chaos_lease_claims (lease_token bigint PRIMARY KEY, at timestamptz);
ALTER FUNCTION vidgen_private.new_lease_token() RENAME TO new_lease_token_drawn;
CREATE FUNCTION vidgen_private.new_lease_token() RETURNS bigint
LANGUAGE plpgsql SET search_path = '' AS $$
DECLARE
  v_token bigint := vidgen_private.new_lease_token_drawn();
BEGIN
  INSERT INTO public.chaos_lease_claims VALUES (v_token, clock_timestamp());
  RETURN v_token;
END $$;
ALTER FUNCTION vidgen_private.use_lease(public.jobs, bigint, boolean) RENAME TO use_lease_checked;
CREATE FUNCTION vidgen_private.use_lease(p_job public.jobs, p_lease bigint,
                                         p_cancelled_ok boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql SET search_path = '' AS $$
BEGIN
  PERFORM vidgen_private.use_lease_checked(p_job, p_lease, p_cancelled_ok);
  INSERT INTO public.chaos_lease_uses VALUES (p_job.id, p_lease, clock_timestamp());
END $$;
"""


@pytest.fixture(scope="module")
def chaos_stack(make_database: MakeDatabase, migrated_template: str) -> Iterator[LocalStack]:
    url = make_database(template=migrated_template)
    with LocalStack(database_url=url, migrate=False) as stack:
        with stack.connect() as conn:
            conn.execute(INSTRUMENT)
        yield stack


class Fleet:
    """The worker processes, started, killed and frozen at will."""

    def __init__(self, stack: LocalStack, logs: Path) -> None:
        self.env = dict(
            os.environ,
            SUPABASE_URL=stack.url,
            SUPABASE_SERVICE_ROLE_KEY=stack.service_key,
            PYTHONUNBUFFERED="1",
        )
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started = 0

    def start(self, **env: str) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"worker-{self.started}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT)],
            env={**self.env, **env},
            stdout=log,
            stderr=log,
        )
        self.procs.append(proc)
        return proc

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def stop_all(self) -> None:
        for proc in self.alive():
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _seed(stack: LocalStack) -> list[UUID]:
    jobs = []
    with stack.service_client() as service:
        for u in range(USERS):
            user_id, _ = stack.create_user(f"chaos-{u}@example.com")
            service.credits.grant(user_id, 100, note="chaos test")
            for _ in range(JOBS // USERS):
                project = service.projects.create(project_for(user_id))
                job = service.jobs.create(job_for(project.id, user_id))
                jobs.append(service.jobs.queue(job.id, 5).id)
    return jobs


def _final_count(stack: LocalStack) -> int:
    with stack.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM public.jobs WHERE status IN ('READY', 'FAILED')"
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_fleet_under_chaos_loses_nothing_and_does_nothing_twice(
    chaos_stack: LocalStack, tmp_path: Path
) -> None:
    stack = chaos_stack
    jobs = _seed(stack)
    fleet = Fleet(stack, tmp_path)
    rng = random.Random(1234)
    kills = frozen = 0
    try:
        for _ in range(WORKERS):
            fleet.start()
        deadline = time.monotonic() + 50
        frozen_proc: subprocess.Popen[bytes] | None = None
        frozen_until = 0.0
        next_kill = time.monotonic() + 1.5
        while _final_count(stack) < JOBS:
            assert time.monotonic() < deadline, _diagnose(stack, tmp_path)
            now = time.monotonic()
            if frozen_proc is None and frozen == 0 and _final_count(stack) > JOBS // 4:
                frozen_proc = rng.choice(fleet.alive())
                frozen_proc.send_signal(signal.SIGSTOP)  # past its 2 s lease
                frozen_until, frozen = now + 3.5, 1
            if frozen_proc is not None and now >= frozen_until:
                frozen_proc.send_signal(signal.SIGCONT)
                frozen_proc = None
            if now >= next_kill and kills < 10:
                victims = [p for p in fleet.alive() if p is not frozen_proc]
                if victims:
                    rng.choice(victims).send_signal(signal.SIGKILL)
                    kills += 1
                    fleet.start()
                next_kill = now + rng.uniform(0.6, 1.4)
            time.sleep(0.1)
    finally:
        fleet.stop_all()
    assert kills >= 4 and frozen == 1
    _check_the_books(stack, jobs)
    _check_no_step_ran_twice_at_once(stack)


def _check_the_books(stack: LocalStack, jobs: list[UUID]) -> None:
    with stack.connect() as conn:
        states = conn.execute(
            "SELECT status::text, credit_state::text, count(*) FROM public.jobs "
            "WHERE id = ANY(%s) GROUP BY 1, 2",
            (jobs,),
        ).fetchall()
        assert {(s, c) for s, c, _ in states} <= {("READY", "settled"), ("FAILED", "refunded")}
        assert sum(n for *_, n in states) == JOBS
        assert conn.execute(
            "SELECT count(*) FROM public.jobs WHERE worker_id IS NOT NULL"
        ).fetchone() == (0,)
        # Exactly once: a READY job has one usage entry and one release of its reservation;
        # a FAILED job one refund; neither has anything else beyond its reservation.
        moves = conn.execute(
            """
            SELECT j.id, j.status::text,
                   count(*) FILTER (WHERE l.type = 'usage'),
                   count(*) FILTER (WHERE l.type = 'refund'),
                   count(*) FILTER (WHERE l.type = 'reserve' AND l.amount < 0),
                   count(*) FILTER (WHERE l.type = 'reserve' AND l.amount > 0)
              FROM public.jobs j JOIN public.credit_ledger l ON l.job_id = j.id
             WHERE j.id = ANY(%s) GROUP BY 1, 2
            """,
            (jobs,),
        ).fetchall()
        assert len(moves) == JOBS
        for job_id, status, usage, refund, reserved, released in moves:
            expected = (1, 0, 1, 1) if status == "READY" else (0, 1, 1, 0)
            assert (usage, refund, reserved, released) == expected, (job_id, status)
        balances = conn.execute(
            "SELECT b.balance, coalesce(sum(l.amount), 0) FROM public.credit_balances b "
            "LEFT JOIN public.credit_ledger l USING (user_id) GROUP BY b.user_id, b.balance"
        ).fetchall()
        assert all(balance == total for balance, total in balances), balances


def _check_no_step_ran_twice_at_once(stack: LocalStack) -> None:
    """Per job, the calls accepted under each lease form an interval; the intervals of two
    leases never overlap, and a newer lease is never followed by an older one. (So no step
    ever ran under two workers at once: a step is only written through these calls.)"""
    with stack.connect() as conn:
        uses = conn.execute(
            "SELECT job_id, lease_token, at FROM public.chaos_lease_uses ORDER BY at"
        ).fetchall()
        claimed_at = dict(
            conn.execute("SELECT lease_token, at FROM public.chaos_lease_claims").fetchall()
        )
    assert uses
    assert all(token is not None for _, token, _ in uses), "a claimed job was written unleased"
    spans: dict[Any, dict[int, list[Any]]] = defaultdict(dict)
    for job_id, token, at in uses:
        span = spans[job_id].setdefault(token, [at, at])
        span[1] = at
    handovers = 0
    for job_id, by_token in spans.items():
        ordered = sorted(by_token.items(), key=lambda item: item[1][0])
        tokens = [token for token, _ in ordered]
        assert all(token in claimed_at for token in tokens), f"a lease no claim drew on {job_id}"
        by_claim = sorted(tokens, key=claimed_at.__getitem__)
        assert tokens == by_claim, f"an older lease acted after a newer one on {job_id}"
        for (_, (_, end)), (_, (start, _)) in itertools.pairwise(ordered):
            assert end < start, f"two leases acted on job {job_id} at once"
        handovers += len(ordered) - 1
    assert handovers > 0, "no job changed hands: the chaos did not bite"
    print(f"chaos: {handovers} jobs handed over between leases")


def _diagnose(stack: LocalStack, logs: Path) -> str:
    with stack.connect() as conn:
        rows = conn.execute(
            "SELECT status::text, count(*) FROM public.jobs GROUP BY 1 ORDER BY 1"
        ).fetchall()
    tails = []
    for log in sorted(logs.glob("worker-*.log"))[-3:]:
        tails.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-1500:])
    return f"jobs did not finish in time: {rows}\n" + "\n".join(tails)


def test_sigterm_releases_the_running_job(chaos_stack: LocalStack, tmp_path: Path) -> None:
    """A worker told to stop (SIGTERM) while a step runs gives its job back to the queue,
    with no attempt charged, and exits."""
    stack = chaos_stack
    with stack.service_client() as service:
        user_id, _ = stack.create_user("sigterm@example.com")
        project = service.projects.create(project_for(user_id))
        job = service.jobs.queue(service.jobs.create(job_for(project.id, user_id)).id, 5)
        fleet = Fleet(stack, tmp_path)
        proc = fleet.start(CHAOS_STAGE_SECONDS="30", CHAOS_SHUTDOWN_TIMEOUT="0.5")
        try:
            deadline = time.monotonic() + 30
            while service.jobs.get(job.id).worker_id is None:
                assert time.monotonic() < deadline, _diagnose(stack, tmp_path)
                time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0
        finally:
            fleet.stop_all()
        released = service.jobs.get(job.id)
    assert released.status.value == "QUEUED" and released.worker_id is None
    assert released.attempt == 0 and released.credit_state.value == "reserved"
    assert "released" in (tmp_path / "worker-1.log").read_text()
    with stack.service_client() as service:
        service.jobs.cancel(job.id)
