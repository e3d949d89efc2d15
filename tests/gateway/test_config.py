"""Configuration options: anon role, api keys, pre-request, plans, schema reload, pool role."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from vidgen_db.local.gateway import GatewayConfig, create_app

from .conftest import APIKEY, MakeToken, bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")


@asynccontextmanager
async def serve(config: GatewayConfig, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(dataclasses.replace(config, **changes))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://gateway",
            headers={"apikey": APIKEY},
        ) as c:
            yield c
    finally:
        await app.state.gateway.close()


async def test_anonymous_access_disabled(gw_config: GatewayConfig, make_token: MakeToken) -> None:
    async with serve(gw_config, anon_role=None) as c:
        r = await c.get("/rest/v1/films")
        assert r.status_code == 401
        assert r.json() == {
            "code": "PGRST302",
            "details": None,
            "hint": None,
            "message": "Anonymous access is disabled",
        }
        assert r.headers["www-authenticate"] == "Bearer"
        r = await c.get("/rest/v1/films", headers=bearer(make_token("gw_user")))
        assert r.status_code == 200


async def test_missing_jwt_secret(gw_config: GatewayConfig, make_token: MakeToken) -> None:
    async with serve(gw_config, jwt_secret=None) as c:
        r = await c.get("/rest/v1/films", headers=bearer(make_token("gw_user")))
        assert r.status_code == 500
        assert r.json()["code"] == "PGRST300"


async def test_api_keys_are_checked(gw_config: GatewayConfig) -> None:
    async with serve(gw_config, api_keys=frozenset({"good"})) as c:
        r = await c.get("/rest/v1/films", headers={"apikey": "bad"})
        assert r.status_code == 401
        assert r.json() == {
            "message": "Invalid API key",
            "hint": "Double check your Supabase `anon` or `service_role` API key.",
        }
        r = await c.get("/rest/v1/films", headers={"apikey": "good"})
        assert r.status_code == 200
    async with serve(gw_config, require_apikey=False) as c:
        r = await c.get("/rest/v1/films", headers={"apikey": ""})
        assert r.status_code == 200


async def test_custom_prefix_and_role_claim(gw_config: GatewayConfig, jwt_secret: str) -> None:
    from vidgen_db.local import sign_jwt

    token = sign_jwt({"app_metadata": {"role": "gw_admin"}}, jwt_secret)
    async with serve(gw_config, path_prefix="/", jwt_role_claim_key="app_metadata.role") as c:
        r = await c.post("/rpc/whoami", json={}, headers=bearer(token))
        assert r.json() == "gw_admin"


async def test_max_rows(gw_config: GatewayConfig) -> None:
    async with serve(gw_config, max_rows=2) as c:
        r = await c.get(
            "/rest/v1/films",
            params={"select": "id", "order": "id"},
            headers={"Prefer": "count=exact"},
        )
        assert r.json() == [{"id": 1}, {"id": 2}]
        assert r.status_code == 206
        assert r.headers["content-range"] == "0-1/5"
        r = await c.get(
            "/rest/v1/films", params={"select": "id"}, headers={"Prefer": "count=estimated"}
        )
        total = int(r.headers["content-range"].split("/")[1])
        assert total >= 1  # above max-rows the planner's estimate is used


async def test_plans(client: httpx.AsyncClient, gw_config: GatewayConfig) -> None:
    r = await client.get(
        "/rest/v1/films",
        params={"id": "eq.1"},
        headers={"Accept": "application/vnd.pgrst.plan+json"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.pgrst.plan+json")
    plan = r.json()
    assert "Plan" in plan[0]
    r = await client.get(
        "/rest/v1/films", headers={"Accept": "application/vnd.pgrst.plan; options=analyze"}
    )
    assert r.status_code == 200
    assert "actual time" in r.text
    async with serve(gw_config, plan_enabled=False) as c:
        r = await c.get("/rest/v1/films", headers={"Accept": "application/vnd.pgrst.plan+json"})
        assert r.status_code == 406
        assert r.json()["code"] == "PGRST107"


async def test_plan_of_a_write_changes_nothing(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    r = await client.post(
        "/rest/v1/kv",
        json={"k": "explained", "v": "x"},
        headers={
            "Accept": "application/vnd.pgrst.plan+json; options=analyze",
            **bearer(make_token("gw_user")),
        },
    )
    assert r.status_code == 200, r.text
    r = await client.get("/rest/v1/kv", params={"k": "eq.explained"})
    assert r.json() == []


async def test_timezone_preference(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/rest/v1/rpc/request_info", json={}, headers={"Prefer": "timezone=Asia/Tokyo"}
    )
    assert r.status_code == 200
    assert r.headers["preference-applied"] == "timezone=Asia/Tokyo"


async def test_pre_request(gw_config: GatewayConfig, gw_db_url: str) -> None:
    with psycopg.connect(gw_db_url, autocommit=True) as conn:
        conn.execute(
            """create or replace function public.gw_pre_request() returns void language plpgsql as $$
            begin
              if current_setting('request.headers', true)::json->>'x-blocked' = 'yes' then
                raise sqlstate 'PT403' using message = 'blocked by pre-request';
              end if;
            end $$"""
        )
    async with serve(gw_config, pre_request="public.gw_pre_request") as c:
        r = await c.get("/rest/v1/films", headers={"X-Blocked": "yes"})
        assert r.status_code == 403
        assert r.json()["message"] == "blocked by pre-request"
        r = await c.get("/rest/v1/films", params={"select": "id", "id": "eq.1"})
        assert r.json() == [{"id": 1}]


async def test_reload_schema(gw_config: GatewayConfig, gw_db_url: str) -> None:
    app = create_app(gw_config)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", headers={"apikey": APIKEY}
        ) as c:
            r = await c.get("/rest/v1/late_table")
            assert r.status_code == 404
            with psycopg.connect(gw_db_url, autocommit=True) as conn:
                conn.execute("create table if not exists late_table (id int primary key)")
                conn.execute("grant select on late_table to gw_anon")
            await app.state.gateway.reload_schema()
            r = await c.get("/rest/v1/late_table")
            assert r.status_code == 200
            assert r.json() == []
    finally:
        await app.state.gateway.close()


async def test_content_profile_for_writes(
    client: httpx.AsyncClient, gw_db_url: str, make_token: MakeToken
) -> None:
    with psycopg.connect(gw_db_url, autocommit=True) as conn:
        conn.execute("grant insert, delete on gw_other.things to gw_user")
    headers = {
        "Content-Profile": "gw_other",
        "Prefer": "return=representation",
        **bearer(make_token("gw_user")),
    }
    r = await client.post("/rest/v1/things", json={"id": 7, "label": "seven"}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json() == [{"id": 7, "label": "seven"}]
    assert r.headers["content-profile"] == "gw_other"
    r = await client.delete("/rest/v1/things", params={"id": "eq.7"}, headers=headers)
    assert r.json() == [{"id": 7, "label": "seven"}]


async def test_authenticator_login_role(
    gw_config: GatewayConfig, admin_url: str, gw_db_url: str, make_token: MakeToken
) -> None:
    """The gateway may connect as a non-superuser that is granted the API roles."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            """DO $$ BEGIN CREATE ROLE gw_authenticator LOGIN NOINHERIT;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"""
        )
        conn.execute("GRANT gw_anon, gw_user, gw_admin TO gw_authenticator")
    params = conninfo_to_dict(gw_db_url)
    params["user"] = "gw_authenticator"
    params.pop("password", None)
    url = make_conninfo("", **params)
    try:
        with psycopg.connect(url):
            pass
    except psycopg.OperationalError:
        pytest.skip("the test server does not let gw_authenticator log in without a password")
    async with serve(gw_config, db_url=url) as c:
        r = await c.post("/rest/v1/rpc/whoami", json={})
        assert r.json() == "gw_anon"
        r = await c.post("/rest/v1/rpc/whoami", json={}, headers=bearer(make_token("gw_user")))
        assert r.json() == "gw_user"
        r = await c.post("/rest/v1/rpc/whoami", json={}, headers=bearer(make_token("postgres")))
        assert r.status_code in (401, 403)
        assert json.loads(r.text)["code"] in ("42501", "22023")


async def test_concurrent_requests(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    import asyncio

    tokens = [make_token("gw_user"), None]

    async def one(i: int) -> int:
        token = tokens[i % 2]
        headers = bearer(token) if token else {}
        r = await client.post("/rest/v1/rpc/whoami", json={}, headers=headers)
        return r.status_code if r.json() == ("gw_user" if token else "gw_anon") else -1

    results = await asyncio.gather(*(one(i) for i in range(40)))
    assert set(results) == {200}


async def test_notify_reloads_the_schema_cache(gw_config: GatewayConfig, gw_db_url: str) -> None:
    import asyncio

    async with serve(gw_config) as c:
        r = await c.get("/rest/v1/notified_table")
        assert r.status_code == 404
        with psycopg.connect(gw_db_url, autocommit=True) as conn:
            conn.execute("create table if not exists notified_table (id int primary key)")
            conn.execute("grant select on notified_table to gw_anon")
            conn.execute("notify pgrst, 'reload schema'")
        for _ in range(100):
            r = await c.get("/rest/v1/notified_table")
            if r.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 200


async def test_database_unreachable(gw_config: GatewayConfig) -> None:
    bad = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    async with serve(gw_config, db_url=bad, pool_timeout=1.0, db_channel=None) as c:
        r = await c.get("/rest/v1/films")
        assert r.status_code == 503
        assert r.json()["code"] == "PGRST002"


async def test_role_settings_are_applied(
    gw_config: GatewayConfig, gw_db_url: str, make_token: MakeToken
) -> None:
    dbname = conninfo_to_dict(gw_db_url)["dbname"]
    with psycopg.connect(gw_db_url, autocommit=True) as conn:
        conn.execute(
            f"ALTER ROLE gw_admin IN DATABASE \"{dbname}\" SET statement_timeout = '4321ms'"
        )
        conn.execute(
            "create or replace function public.current_timeout() returns text language sql "
            "stable as $$ select current_setting('statement_timeout') $$"
        )
    async with serve(gw_config) as c:
        r = await c.get("/rest/v1/rpc/current_timeout", headers=bearer(make_token("gw_admin")))
        assert r.json() == "4321ms"
        r = await c.get("/rest/v1/rpc/current_timeout", headers=bearer(make_token("gw_user")))
        assert r.json() != "4321ms"


async def test_aggregates_when_enabled(gw_config: GatewayConfig) -> None:
    async with serve(gw_config, aggregates_enabled=True) as c:
        r = await c.get("/rest/v1/films", params={"select": "count()"})
        assert r.json() == [{"count": 5}]
        r = await c.get(
            "/rest/v1/films",
            params={"select": "director_id,n:count(),best:rating.max()", "order": "director_id"},
        )
        assert r.json() == [
            {"director_id": 1, "n": 2, "best": 7.4},
            {"director_id": 2, "n": 2, "best": 8.0},
            {"director_id": None, "n": 1, "best": None},
        ]
        r = await c.get(
            "/rest/v1/films",
            params={"select": "rating::int.sum()::text,year.avg()::int", "id": "lt.3"},
        )
        assert r.json() == [{"sum": "14", "avg": 2020}]
        r = await c.get(
            "/rest/v1/directors", params={"select": "name,films(count())", "order": "id"}
        )
        assert r.json() == [
            {"name": "Greta Gerwig", "films": [{"count": 2}]},
            {"name": "Denis Villeneuve", "films": [{"count": 2}]},
            {"name": "Nobody", "films": [{"count": 0}]},
        ]
        r = await c.get(
            "/rest/v1/films",
            params={"select": "director_id,count()", "director_id": "not.is.null"},
            headers={"Prefer": "count=exact"},
        )
        assert r.headers["content-range"] == "0-1/2"
        r = await c.get("/rest/v1/films", params={"select": "*,count()"})
        assert r.status_code == 400
        assert r.json()["code"] == "PGRST127"


async def test_cors(client: httpx.AsyncClient, gw_config: GatewayConfig) -> None:
    r = await client.options(
        "/rest/v1/films",
        headers={
            "Origin": "http://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "apikey, content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-headers"] == "Authorization, apikey, content-type"
    assert "PATCH" in r.headers["access-control-allow-methods"]
    r = await client.get("/rest/v1/films", headers={"Origin": "http://app.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "Content-Range" in r.headers["access-control-expose-headers"]
    r = await client.get("/rest/v1/films")
    assert "access-control-allow-origin" not in r.headers
    allowed = frozenset({"http://ok.example"})
    async with serve(gw_config, cors_allowed_origins=allowed) as c:
        r = await c.get("/rest/v1/films", headers={"Origin": "http://ok.example"})
        assert r.headers["access-control-allow-origin"] == "http://ok.example"
        r = await c.get("/rest/v1/films", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers
