"""Read replicas at the HTTP layer: which request goes where, read-your-writes per caller,
and the primary when the replica cannot answer (tests/e2e/test_replicas.py does it over
two real stacks)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from jwts import anon_key, service_key, user_token
from test_repos_clients import job_row
from vidgen_db import AsyncVidgenDB, ClientSettings, ConfigurationError, VidgenDB
from vidgen_db._replicas import READ_ONLY_FUNCTIONS

PRIMARY = "https://project.supabase.co"
REPLICA = "https://project-rr-eu-west-1-abcde.supabase.co"
JOB = job_row()


class Hosts(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answers every request; records which host each went to. ``down`` hosts refuse."""

    def __init__(self, *down: str) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.down = set(down)

    def answer(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.sent.append((host, request.method, request.url.path))
        assert request.headers["host"] == host
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path.endswith("/rpc/get_credit_balance"):
            return httpx.Response(200, json=7)
        if request.method == "POST":
            return httpx.Response(200, json=JOB)
        if "vnd.pgrst.object" in request.headers.get("accept", ""):
            return httpx.Response(200, json=JOB)
        return httpx.Response(200, json=[])

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.answer(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self.answer(request)

    def hosts(self) -> list[str]:
        return ["replica" if h == httpx.URL(REPLICA).host else "primary" for h, _, _ in self.sent]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings(**values: float) -> ClientSettings:
    return ClientSettings(initial_retry_delay=0, max_retry_delay=0, max_retries=1, **values)


def test_reads_go_to_the_replica_writes_to_the_primary() -> None:
    hosts = Hosts()
    with VidgenDB.service(
        PRIMARY, service_key(), read_url=REPLICA, transport=hosts, settings=settings()
    ) as db:
        assert db.read_url == REPLICA and db.url == PRIMARY
        db.jobs.list(limit=5)  # GET
        db.jobs.get(uuid.UUID(JOB["id"]))  # GET
        db.credits.balance(uuid.uuid4())  # a read-only function
        assert hosts.hosts() == ["replica", "replica", "replica"]
        db.jobs.cancel(uuid.UUID(JOB["id"]))  # a function that writes
        assert hosts.hosts()[-1] == "primary"


def test_a_caller_that_wrote_reads_from_the_primary_for_the_window() -> None:
    hosts, clock = Hosts(), Clock()
    with VidgenDB.anonymous(
        PRIMARY, anon_key(), read_url=REPLICA, transport=hosts, settings=settings()
    ) as anon:
        assert anon._router is not None
        anon._router._clock = clock
        ada, bob = anon.as_user(user_token(uuid.uuid4())), anon.as_user(user_token(uuid.uuid4()))
        ada.projects.list()
        ada.jobs.cancel(uuid.UUID(JOB["id"]))  # a write
        ada.projects.list()  # her own write: from the primary
        bob.projects.list()  # another caller: the replica
        clock.now += 4.9
        ada.projects.list()  # still within the 5 s window
        ada.with_options(timeout=1).projects.list()  # the same caller, derived client
        clock.now += 0.2
        ada.projects.list()  # the window has passed
        assert hosts.hosts() == [
            "replica",
            "primary",
            "primary",
            "replica",
            "primary",
            "primary",
            "replica",
        ]


def test_the_window_is_a_setting() -> None:
    hosts, clock = Hosts(), Clock()
    with VidgenDB.service(
        PRIMARY,
        service_key(),
        read_url=REPLICA,
        transport=hosts,
        settings=settings(read_your_writes=0.5),
    ) as db:
        assert db._router is not None
        db._router._clock = clock
        db.jobs.cancel(uuid.UUID(JOB["id"]))
        db.jobs.list()
        clock.now += 0.6
        db.jobs.list()
        assert hosts.hosts() == ["primary", "primary", "replica"]


def test_a_read_the_replica_cannot_serve_goes_to_the_primary() -> None:
    hosts = Hosts(httpx.URL(REPLICA).host)
    with VidgenDB.service(
        PRIMARY, service_key(), read_url=REPLICA, transport=hosts, settings=settings()
    ) as db:
        assert db.jobs.get(uuid.UUID(JOB["id"])).id == uuid.UUID(JOB["id"])
        # The replica was tried (with the client's retries), then the primary answered.
        assert hosts.hosts() == ["replica", "replica", "primary"]


async def test_async_clients_route_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = Hosts()
    monkeypatch.setenv("SUPABASE_URL", PRIMARY)
    monkeypatch.setenv("SUPABASE_READ_URL", REPLICA)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", service_key())
    async with AsyncVidgenDB.from_env(transport=hosts) as db:
        assert db.read_url == REPLICA
        await db.jobs.list()
        await db.jobs.cancel(uuid.UUID(JOB["id"]))
        await db.jobs.list()
    assert hosts.hosts() == ["replica", "primary", "primary"]


def test_read_url_needs_the_clients_own_pool() -> None:
    with (
        httpx.Client() as own,
        pytest.raises(ConfigurationError, match="read_url needs the client's own"),
    ):
        VidgenDB.service(PRIMARY, service_key(), read_url=REPLICA, http_client=own)
    with pytest.raises(ConfigurationError, match="http"):
        VidgenDB.service(PRIMARY, service_key(), read_url="ftp://replica")


def test_read_only_functions_are_the_stable_ones(migrated_url: str) -> None:
    import psycopg

    with psycopg.connect(migrated_url) as conn:
        stable = {
            name
            for (name,) in conn.execute(
                "SELECT p.proname FROM pg_proc AS p JOIN pg_namespace AS n "
                "ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
                "AND p.provolatile IN ('s', 'i') AND p.prorettype <> 'trigger'::regtype "
                "AND (has_function_privilege('service_role', p.oid, 'EXECUTE') "
                "OR has_function_privilege('authenticated', p.oid, 'EXECUTE'))"
            ).fetchall()
        }
    assert stable == READ_ONLY_FUNCTIONS
