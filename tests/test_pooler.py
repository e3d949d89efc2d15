"""Migrations through a connection pooler in transaction mode (as Supabase's pooler runs),
with a real PgBouncer. Skipped where no pgbouncer binary is installed."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from conftest import MakeDatabase
from vidgen_db.migrate import MigrationState, Migrator, load_migrations

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)

pytestmark = pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer is not installed")


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pooler(admin_url: str) -> Iterator[str]:
    """A PgBouncer in transaction mode in front of the test server; yields a URL template."""
    target = conninfo_to_dict(admin_url)
    folder = Path(tempfile.mkdtemp(prefix="vidgen-pgbouncer-"))
    port = _free_port()
    host = target.get("host") or "127.0.0.1"
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={host} port={target.get('port') or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
        f"unix_socket_dir =\nauth_type = trust\nauth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 5\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    (folder / "users.txt").write_text(f'"{target.get("user") or "postgres"}" ""\n')
    command = [str(PGBOUNCER), str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        # The embedded server, started as root, runs as the 'pgserver' user, who alone
        # may open its socket folder.
        name = "pgserver" if host.startswith("/") and _user_exists("pgserver") else "nobody"
        account = pwd.getpwnam(name)
        os.chown(folder, account.pw_uid, account.pw_gid)
        for child in folder.iterdir():
            os.chown(child, account.pw_uid, account.pw_gid)
        command[1:1] = ["-u", name]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    log = (
                        (folder / "pgbouncer.log").read_text()
                        if (folder / "pgbouncer.log").exists()
                        else ""
                    )
                    pytest.fail(f"pgbouncer did not start: {log[-2000:]}")
                time.sleep(0.05)
        yield make_conninfo(
            "",
            host="127.0.0.1",
            port=port,
            user=target.get("user") or "postgres",
            dbname="{dbname}",
        )
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def test_migrations_run_through_a_transaction_pooler(
    pooler: str, make_database: MakeDatabase
) -> None:
    direct = make_database()
    dbname = conninfo_to_dict(direct)["dbname"]
    url = pooler.replace("{dbname}", str(dbname))
    errors: list[BaseException] = []
    applied: list[int] = []

    def run() -> None:
        try:
            applied.append(len(Migrator(url).migrate()))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(applied) == len(load_migrations())
    assert {s.state for s in Migrator(url).status()} == {MigrationState.APPLIED}
    assert Migrator(url).migrate() == []
    with psycopg.connect(direct) as conn:
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables is not None and tables[0] >= 9
