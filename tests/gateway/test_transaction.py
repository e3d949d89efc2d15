"""How requests reach the database: one round trip each, prepared statements, and a server
that loses them (a transaction-mode pooler)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import struct
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from vidgen_db.local.gateway import GatewayConfig, create_app

from .conftest import APIKEY, MakeToken, bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")

_STARTUP_CODES = (80877103, 80877104, 80877102)  # SSLRequest, GSSENCRequest, CancelRequest


class RoundTripCounter:
    """A TCP proxy in front of PostgreSQL that counts what ends a client's round trip: the
    simple protocol's Query messages and the extended protocol's Sync messages."""

    def __init__(self, target_url: str) -> None:
        self.target = conninfo_to_dict(target_url)
        self.round_trips = 0
        self.url = ""
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RoundTripCounter:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = make_conninfo(
            make_conninfo(**{k: v for k, v in self.target.items() if k not in ("host", "port")}),
            host="127.0.0.1",
            port=str(port),
            sslmode="disable",
            gssencmode="disable",
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _open_target(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host = str(self.target.get("host") or "/tmp")
        port = int(self.target.get("port") or 5432)
        if host.startswith("/"):
            return await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        return await asyncio.open_connection(host, port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._open_target()

        async def to_server() -> None:
            while True:  # untyped startup messages, then typed ones
                (length,) = struct.unpack("!i", await reader.readexactly(4))
                body = await reader.readexactly(length - 4)
                up_writer.write(struct.pack("!i", length) + body)
                if struct.unpack("!i", body[:4])[0] not in _STARTUP_CODES:
                    break
            while True:
                kind = await reader.readexactly(1)
                (length,) = struct.unpack("!i", await reader.readexactly(4))
                body = await reader.readexactly(length - 4)
                if kind in (b"Q", b"S"):
                    self.round_trips += 1
                up_writer.write(kind + struct.pack("!i", length) + body)

        async def to_client() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)

        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.gather(to_server(), to_client())
        for w in (writer, up_writer):
            w.close()


@contextlib.asynccontextmanager
async def gateway(config: GatewayConfig, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(config, **changes))
    await app.state.gateway.open()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://gateway/rest/v1",
            headers={"apikey": APIKEY},
        ) as c:
            yield c
    finally:
        await app.state.gateway.close()


async def test_a_request_is_one_round_trip(gw_config: GatewayConfig, make_token: MakeToken) -> None:
    user = bearer(make_token("gw_user"))
    async with (
        RoundTripCounter(gw_config.db_url) as db,
        gateway(gw_config, db_url=db.url, db_channel=None, pool_max_size=1) as c,
    ):

        async def trips(method: str, path: str, **kwargs: Any) -> int:
            before = db.round_trips
            r = await c.request(method, path, **kwargs)
            assert r.status_code < 300, r.text
            return db.round_trips - before

        insert = {"Prefer": "return=representation", **user}
        for i in range(2):  # the first run of a statement prepares it: still one round trip
            assert await trips("GET", "/films", params={"select": "id,directors(name)"}) == 1
            assert await trips("HEAD", "/films", headers={"Prefer": "count=exact"}) == 1
            assert await trips("POST", "/rpc/add_them", json={"a": 1, "b": 2}) == 1
            assert await trips("GET", "/rpc/film_count") == 1
            name = f"round-trip-{i}"
            assert await trips("POST", "/items", json={"name": name}, headers=insert) == 1
            patch = {"params": {"name": f"eq.{name}"}, "json": {"qty": 2}, "headers": user}
            assert await trips("PATCH", "/items", **patch) == 1
            assert await trips("DELETE", "/items", params={"name": f"eq.{name}"}, headers=user) == 1
        # a write whose result decides between commit and rollback: COMMIT is a second trip
        single = {"Accept": "application/vnd.pgrst.object+json", **insert}
        assert await trips("POST", "/items", json={"name": "round-trip-x"}, headers=single) == 2
        assert (
            await trips("DELETE", "/items", params={"name": "eq.round-trip-x"}, headers=user) == 1
        )
        # a database error: the transaction is rolled back in a second trip
        before = db.round_trips
        r = await c.post("/items", json={"name": "dup"}, headers=user)
        r = await c.post("/items", json={"name": "dup"}, headers=user)
        assert r.status_code == 409
        assert db.round_trips - before == 1 + 2
        await c.delete("/items", params={"name": "eq.dup"}, headers=user)


async def test_statements_are_prepared_until_the_server_loses_them(
    gw_config: GatewayConfig,
) -> None:
    with psycopg.connect(gw_config.db_url, autocommit=True) as conn:
        conn.execute(
            "create or replace function gw_prepared_count() returns bigint language sql volatile"
            " as $$ select count(*) from pg_prepared_statements where name like 'pgrst%' $$;"
            "create or replace function gw_deallocate_all() returns void language plpgsql"
            " volatile as $$ begin execute 'DEALLOCATE ALL'; end $$;"
            "grant execute on function gw_prepared_count(), gw_deallocate_all() to gw_anon"
        )
    try:
        async with gateway(gw_config, pool_max_size=1, pool_min_size=1) as c:
            for _ in range(3):
                assert (await c.get("/films", params={"id": "eq.1"})).status_code == 200
            prepared = (await c.post("/rpc/gw_prepared_count", json={})).json()
            assert prepared >= 3  # the prelude, the read, this call
            # what a transaction-mode pooler does: the next server has none of them
            assert (await c.post("/rpc/gw_deallocate_all", json={})).status_code == 204
            r = await c.get("/films", params={"id": "eq.1", "select": "title"})
            assert r.status_code == 200, r.text  # run again, unprepared
            assert r.json() == [{"title": "Barbie"}]
            for _ in range(3):
                assert (await c.get("/films", params={"id": "eq.1"})).status_code == 200
            assert (await c.post("/rpc/gw_prepared_count", json={})).json() == 0
    finally:
        with psycopg.connect(gw_config.db_url, autocommit=True) as conn:
            conn.execute("drop function gw_prepared_count(); drop function gw_deallocate_all()")


async def test_prepared_statements_can_be_turned_off(gw_config: GatewayConfig) -> None:
    with psycopg.connect(gw_config.db_url, autocommit=True) as conn:
        conn.execute(
            "create or replace function gw_prepared_count2() returns bigint language sql"
            " volatile as $$ select count(*) from pg_prepared_statements $$;"
            "grant execute on function gw_prepared_count2() to gw_anon"
        )
    try:
        async with gateway(gw_config, pool_max_size=1, prepared_statements=False) as c:
            for _ in range(6):
                assert (await c.get("/films", params={"id": "eq.1"})).status_code == 200
            assert (await c.post("/rpc/gw_prepared_count2", json={})).json() == 0
    finally:
        with psycopg.connect(gw_config.db_url, autocommit=True) as conn:
            conn.execute("drop function gw_prepared_count2()")


async def test_a_full_pool_hands_connections_over_then_times_out(
    gw_config: GatewayConfig,
) -> None:
    with psycopg.connect(gw_config.db_url, autocommit=True) as conn:
        conn.execute(
            "create or replace function gw_nap(s float8) returns int language sql volatile"
            " as $$ select 1 from pg_sleep(s) $$; grant execute on function gw_nap(float8) to gw_anon"
        )
    try:
        async with gateway(gw_config, pool_max_size=1, pool_timeout=0.5) as c:
            naps = [c.post("/rpc/gw_nap", json={"s": 0.1}) for _ in range(3)]
            assert [r.status_code for r in await asyncio.gather(*naps)] == [200, 200, 200]
            long = asyncio.create_task(c.post("/rpc/gw_nap", json={"s": 1.0}))
            await asyncio.sleep(0.2)  # it holds the only connection
            waiting = await c.get("/films", params={"id": "eq.1"})
            assert (await long).status_code == 200
            assert waiting.status_code == 504
            assert waiting.json()["code"] == "PGRST003"
            assert waiting.json()["message"] == (
                "Timed out acquiring connection from connection pool."
            )
            assert (await c.get("/films", params={"id": "eq.1"})).status_code == 200
    finally:
        with psycopg.connect(gw_config.db_url, autocommit=True) as conn:
            conn.execute("drop function gw_nap(float8)")


async def test_a_connection_keeps_a_bounded_number_of_prepared_statements(
    gw_config: GatewayConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidgen_db.local.gateway import _prepared

    monkeypatch.setattr(_prepared, "MAX_PREPARED", 3)
    with psycopg.connect(gw_config.db_url, autocommit=True) as conn:
        conn.execute(
            "create or replace function gw_prepared_names() returns text[] language sql volatile"
            " as $$ select array_agg(name order by name) from pg_prepared_statements $$;"
            "grant execute on function gw_prepared_names() to gw_anon"
        )
    try:
        async with gateway(gw_config, pool_max_size=1) as c:
            columns = ["id", "title", "year", "rating", "tags", "meta", "director_id"]
            for i in range(len(columns)):
                r = await c.get("/films", params={"select": ",".join(columns[: i + 1])})
                assert r.status_code == 200, r.text
            names = (await c.post("/rpc/gw_prepared_names", json={})).json()
            # the three most recent, and at most the two evicted since the last transaction
            assert 3 <= len(names) <= 5, names
            assert len((await c.post("/rpc/gw_prepared_names", json={})).json()) <= 4
    finally:
        with psycopg.connect(gw_config.db_url, autocommit=True) as conn:
            conn.execute("drop function gw_prepared_names()")
