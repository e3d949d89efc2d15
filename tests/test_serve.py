"""``vidgen-db serve`` in a subprocess: printed keys work with supabase-py; SIGINT exits 0."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from postgrest.exceptions import APIError

from vidgen_db.cli import build_parser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _interruptible() -> None:
    """Ctrl-C (SIGINT) stops the child as at a terminal, even when this run was started in
    the background (a non-interactive shell starts background jobs with SIGINT ignored,
    and a Python started so keeps ignoring it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(*args: str) -> subprocess.Popen[str]:
    """``python -m vidgen_db serve ARGS`` (the ``vidgen-db`` command without its script)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "vidgen_db", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_interruptible,
    )


def _read_banner(proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, str]:
    assert proc.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    patterns = {
        "url": r"API URL\s+(\S+)",
        "anon": r"anon key\s+(\S+)",
        "service": r"service_role key\s+(\S+)",
        "secret": r"JWT secret\s+(\S+)",
        "db": r"DB URL\s+(.+)$",
    }
    while time.monotonic() < deadline and len(found) < len(patterns):
        line = proc.stdout.readline()
        if not line:
            stderr = proc.stderr.read() if proc.stderr else ""
            pytest.fail(f"serve exited early ({proc.wait()}): {stderr}")
        for key, pattern in patterns.items():
            match = re.search(pattern, line.rstrip("\n"))
            if match and key not in found:
                found[key] = match.group(1).strip()
    assert len(found) == len(patterns), found
    return found


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_serve_prints_working_keys_and_stops_on_sigint(migrated_url: str) -> None:
    from supabase import create_client

    port = _free_port()
    proc = _start("--port", str(port), "--database-url", migrated_url)
    try:
        banner = _read_banner(proc)
        assert banner["url"] == f"http://127.0.0.1:{port}"
        user_id = uuid.uuid4()
        with psycopg.connect(migrated_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO auth.users (id, email) VALUES (%s, 'serve@example.com')", (user_id,)
            )
        service = create_client(banner["url"], banner["service"])
        rows = service.table("profiles").select("id").execute().data
        assert rows == [{"id": str(user_id)}]
        balance = service.rpc("get_credit_balance", {"p_user_id": str(user_id)}).execute().data
        assert balance == 10
        anon = create_client(banner["url"], banner["anon"])
        with pytest.raises(APIError) as refused:  # visitors may not read profiles
            anon.table("profiles").select("id").execute()
        assert refused.value.code == "42501"
    finally:
        code = _stop(proc)
    assert code == 0, proc.stderr.read() if proc.stderr else ""


def test_serve_no_migrate_serves_the_database_as_it_is(make_database: object) -> None:
    from supabase import create_client

    url = make_database()  # type: ignore[operator]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN CREATE ROLE anon NOLOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
        conn.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        conn.execute("INSERT INTO notes VALUES (1, 'hello')")
        conn.execute("GRANT USAGE ON SCHEMA public TO anon")
        conn.execute("GRANT SELECT ON notes TO anon")
    port = _free_port()
    proc = _start("--port", str(port), "--database-url", url, "--no-migrate")
    try:
        banner = _read_banner(proc)
        client = create_client(banner["url"], banner["anon"])
        assert client.table("notes").select("*").execute().data == [{"id": 1, "body": "hello"}]
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT to_regclass('supabase_migrations.schema_migrations')"
            ).fetchone()
        assert row == (None,)
    finally:
        code = _stop(proc)
    assert code == 0


def test_serve_reports_a_busy_port(migrated_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _start("--port", str(port), "--database-url", migrated_url)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "cannot serve" in err


def test_serve_and_demo_parse_their_options() -> None:
    parser = build_parser()
    args = parser.parse_args(
        [
            "serve",
            "--port",
            "5555",
            "--no-migrate",
            "--schemas",
            "public,api",
            "--anon-role",
            "web_anon",
            "--jwt-secret",
            "s" * 40,
            "--database-url",
            "postgresql://x@127.0.0.1/db",
        ]
    )
    assert (args.port, args.no_migrate, args.schemas, args.anon_role) == (
        5555,
        True,
        ("public", "api"),
        "web_anon",
    )
    assert args.database_url == "postgresql://x@127.0.0.1/db"
    defaults = parser.parse_args(["serve"])
    assert (defaults.port, defaults.no_migrate, defaults.schemas) == (54321, False, ("public",))
    assert parser.parse_args(["demo"]).handler.__name__ == "_cmd_demo"
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--port", "99999"])


def test_the_vidgen_db_command_has_serve_and_demo(capsys: pytest.CaptureFixture[str]) -> None:
    from vidgen_db.cli import main

    for command, option in (("serve", "--no-migrate"), ("demo", "--database-url")):
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0
        assert option in capsys.readouterr().out
