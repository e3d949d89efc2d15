"""``vidgen-db serve --plan-enabled --workers N``: plans for postgrest-py's ``.explain()``, and
the gateway in several worker processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import psycopg
import pytest
from postgrest import SyncPostgrestClient


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _interruptible() -> None:
    """Ctrl-C (SIGINT) stops the child as at a terminal, even when this run was started in
    the background (a non-interactive shell starts background jobs with SIGINT ignored,
    and a Python started so keeps ignoring it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _serve(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``python -m vidgen_db serve ARGS``; the process and the URL and service key it prints."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vidgen_db", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_interruptible,
    )
    assert proc.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(found) < 2:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"serve exited early: {proc.stderr.read() if proc.stderr else ''}")
        for key, pattern in (("url", r"API URL\s+(\S+)"), ("service", r"service_role key\s+(\S+)")):
            if match := re.search(pattern, line):
                found[key] = match.group(1)
    return proc, found


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_plans_and_workers(migrated_url: str) -> None:
    port = _free_port()
    proc, banner = _serve(
        "--port",
        str(port),
        "--database-url",
        migrated_url,
        "--no-migrate",
        "--plan-enabled",
        "--workers",
        "2",
    )
    try:
        assert banner["url"] == f"http://127.0.0.1:{port}"
        key = banner["service"]
        rest = f"{banner['url']}/rest/v1"
        with SyncPostgrestClient(
            rest, headers={"apikey": key, "Authorization": f"Bearer {key}"}
        ) as c:
            builder = c.table("profiles").select("id").limit(1)
            if not hasattr(builder, "explain"):
                pytest.skip("this postgrest-py has no .explain()")
            plan = builder.explain(analyze=True).execute()
            assert "profiles" in plan and "actual time" in plan
            for _ in range(20):  # requests spread over the workers
                assert c.table("profiles").select("id").execute().data == []
        listeners = 0
        deadline = time.monotonic() + 30
        while listeners != 2 and time.monotonic() < deadline:  # each worker, once started,
            with psycopg.connect(migrated_url) as conn:  # listens for schema reloads
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query = 'LISTEN \"pgrst\"'"
                ).fetchone()
            listeners = row[0] if row else 0
            time.sleep(0.1)
        assert listeners == 2
    finally:
        code = _stop(proc)
    assert code == 0, proc.stderr.read() if proc.stderr else ""


def test_plans_are_off_by_default(migrated_url: str) -> None:
    port = _free_port()
    proc, banner = _serve("--port", str(port), "--database-url", migrated_url, "--no-migrate")
    try:
        key = banner["service"]
        rest = f"{banner['url']}/rest/v1"
        with SyncPostgrestClient(
            rest, headers={"apikey": key, "Authorization": f"Bearer {key}"}
        ) as c:
            builder = c.table("profiles").select("id")
            if not hasattr(builder, "explain"):
                pytest.skip("this postgrest-py has no .explain()")
            with pytest.raises(Exception) as refused:
                builder.explain().execute()
            assert "PGRST107" in str(refused.value)
    finally:
        assert _stop(proc) == 0
