"""The gateway when its database restarts: a request during the outage fails at once with
PostgREST's 503, and the gateway serves again as soon as the database accepts connections.

The test owns its PostgreSQL (an embedded server of its own, stopped and started again
with pg_ctl), whatever server the rest of the suite runs on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

pgserver = pytest.importorskip("pgserver", reason="needs the embedded PostgreSQL (pgserver)")

from pgserver import _commands as pg_commands  # noqa: E402

from vidgen_db.local import EmbeddedPostgres, temporary_embedded  # noqa: E402
from vidgen_db.local.gateway import GatewayConfig, serve_in_thread  # noqa: E402

pytestmark = pytest.mark.skipif(os.name == "nt", reason="pg_ctl on a Unix socket")

SCHEMA = """
DO $$ BEGIN CREATE ROLE rec_anon NOLOGIN;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE things (id int PRIMARY KEY, name text);
INSERT INTO things VALUES (1, 'one');
GRANT USAGE ON SCHEMA public TO rec_anon;
GRANT SELECT ON things TO rec_anon;
"""


class Database:
    """An embedded server the test stops and starts (as its own system user, if any)."""

    def __init__(self, server: EmbeddedPostgres) -> None:
        self.url = server.url
        self.data_dir = Path(server.data_dir)
        self.socket_dir = str(conninfo_to_dict(server.url)["host"])
        self.user: str | None = getattr(server._server, "system_user", None)

    def _pg_ctl(self, *args: str) -> None:
        kwargs: dict[str, Any] = {"timeout": 30}
        if self.user is not None:
            kwargs["user"] = self.user
        pg_commands.pg_ctl(["-w", *args], pgdata=self.data_dir, **kwargs)

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        """Start again, on the same socket; returns once it accepts connections."""
        options = f"-h '' -k {self.socket_dir}"
        self._pg_ctl("-o", options, "-l", str(self.data_dir / "restart.log"), "start")


@pytest.fixture
def database() -> Iterator[Database]:
    with temporary_embedded() as server:
        db = Database(server)
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute(SCHEMA)
        try:
            yield db
        finally:
            # the restarted server is not the one pgserver started: stop it ourselves
            with contextlib.suppress(Exception):
                db.stop()


def _get(client: httpx.Client) -> httpx.Response:
    return client.get("/things", params={"select": "name"})


def test_the_gateway_serves_again_right_after_a_database_restart(database: Database) -> None:
    config = GatewayConfig(
        db_url=database.url,
        jwt_secret=secrets.token_urlsafe(32),
        anon_role="rec_anon",
        pool_max_size=4,
        pool_timeout=5.0,
    )
    with (
        serve_in_thread(config) as url,
        httpx.Client(base_url=url, headers={"apikey": "k"}, timeout=10) as client,
    ):
        for _ in range(8):  # every pooled connection used, statements prepared
            assert _get(client).json() == [{"name": "one"}]

        database.stop()
        started = time.monotonic()
        during = _get(client)
        failed_in = time.monotonic() - started
        assert during.status_code == 503, during.text
        assert during.json()["code"] == "PGRST000"
        assert during.json()["message"] == "Database connection error. Retrying the connection."
        assert during.headers["proxy-status"] == "PostgREST; error=PGRST000"
        assert failed_in < 1.0, f"a request during the outage took {failed_in:.2f} s"

        database.start()
        back = time.monotonic()
        while (response := _get(client)).status_code != 200:
            assert time.monotonic() - back < 2.0, f"still {response.status_code}: {response.text}"
            time.sleep(0.05)
        recovered_in = time.monotonic() - back
        assert response.json() == [{"name": "one"}]
        assert recovered_in < 2.0, f"served again {recovered_in:.2f} s after the restart"
        for _ in range(8):  # and every request after it
            assert _get(client).status_code == 200

        # the schema cache listener is back too: a new table is served after a reload
        with psycopg.connect(database.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE later (id int); GRANT SELECT ON later TO rec_anon")
            deadline = time.monotonic() + 5
            while client.get("/later").status_code != 200:
                assert time.monotonic() < deadline, "the schema cache was not reloaded"
                conn.execute("NOTIFY pgrst, 'reload schema'")
                time.sleep(0.1)
