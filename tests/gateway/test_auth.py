"""JWT verification, roles, RLS, request GUCs and privilege errors."""

from __future__ import annotations

import secrets

import httpx
import pytest

from vidgen_db.local import sign_jwt

from .conftest import USER_A, USER_B, MakeToken, bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def rpc(client: httpx.AsyncClient, fn: str, token: str | None = None) -> httpx.Response:
    headers = bearer(token) if token else None
    return await client.post(f"/rest/v1/rpc/{fn}", json={}, headers=headers)


async def test_anonymous_requests_use_the_anon_role(client: httpx.AsyncClient) -> None:
    r = await rpc(client, "whoami")
    assert r.json() == "gw_anon"


async def test_jwt_role_claim_selects_the_role(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    assert (await rpc(client, "whoami", make_token("gw_user"))).json() == "gw_user"
    assert (await rpc(client, "whoami", make_token("gw_admin"))).json() == "gw_admin"


async def test_claims_are_visible_to_sql(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    r = await rpc(client, "my_claims", make_token("gw_user", email="a@example.com"))
    claims = r.json()
    assert claims["sub"] == USER_A
    assert claims["role"] == "gw_user"
    assert claims["email"] == "a@example.com"
    r = await rpc(client, "my_claims")
    assert r.json() == {"role": "gw_anon"}


async def test_request_gucs_and_transaction_mode(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/rpc/request_info", headers={"X-Trace": "t1"})
    info = r.json()
    assert info["method"] == "GET"
    assert info["path"] == "/rest/v1/rpc/request_info"
    assert info["headers"]["x-trace"] == "t1"
    assert info["search_path"] == '"public", "public"'
    assert info["read_only"] == "on"
    assert info["isolation"] == "read committed"
    r = await client.post("/rest/v1/rpc/request_info", json={})
    assert r.json()["read_only"] == "on"  # STABLE function: read-only transaction
    r = await client.post("/rest/v1/rpc/tx_state", json={})
    assert r.json() == "off"  # VOLATILE function: read-write transaction
    r = await client.get("/rest/v1/rpc/tx_state")
    assert r.json() == "on"  # GET always runs read-only


async def test_invalid_signature(client: httpx.AsyncClient) -> None:
    token = sign_jwt({"role": "gw_user"}, secrets.token_urlsafe(32))  # another secret
    r = await client.get("/rest/v1/films", headers=bearer(token))
    assert r.status_code == 401
    assert r.json() == {
        "code": "PGRST301",
        "details": None,
        "hint": None,
        "message": "JWT cryptographic operation failed",
    }
    assert r.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("abc", "Expected 3 parts in JWT; got 1"),
        ("a.b", "Expected 3 parts in JWT; got 2"),
        ("!!.!!.!!", "JWT couldn't be decoded"),
    ],
)
async def test_undecodable_tokens(client: httpx.AsyncClient, token: str, message: str) -> None:
    r = await client.get("/rest/v1/films", headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["code"] == "PGRST301"
    assert r.json()["message"] == message


async def test_empty_bearer(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/films", headers={"Authorization": "Bearer "})
    assert r.status_code == 401
    assert r.json()["message"] == "Empty JWT is sent in Authorization header"


async def test_expired_token(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    r = await client.get("/rest/v1/films", headers=bearer(make_token(exp_in=-120)))
    assert r.status_code == 401
    assert r.json() == {"code": "PGRST303", "details": None, "hint": None, "message": "JWT expired"}
    assert r.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="JWT expired"'
    )
    # within PostgREST's 30 s clock skew the token is still accepted
    r = await client.get("/rest/v1/films", headers=bearer(make_token(exp_in=-5)))
    assert r.status_code == 200


async def test_exp_must_be_a_number(client: httpx.AsyncClient, jwt_secret: str) -> None:
    token = sign_jwt({"role": "gw_user", "exp": "soon"}, jwt_secret)
    r = await client.get("/rest/v1/films", headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["code"] == "PGRST303"
    assert r.json()["message"] == "The JWT 'exp' claim must be a number"


async def test_token_without_role_claim_uses_anon(
    client: httpx.AsyncClient, jwt_secret: str
) -> None:
    token = sign_jwt({"sub": USER_A}, jwt_secret)
    r = await client.post("/rest/v1/rpc/whoami", json={}, headers=bearer(token))
    assert r.json() == "gw_anon"


async def test_unknown_role_is_401(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    r = await client.get("/rest/v1/films", headers=bearer(make_token("gw_no_such_role")))
    assert r.status_code == 401
    assert r.json()["code"] == "22023"


async def test_rls_user_sees_only_own_rows(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    a = bearer(make_token("gw_user", sub=USER_A))
    b = bearer(make_token("gw_user", sub=USER_B))
    headers = {"Prefer": "return=representation", **a}
    r = await client.post("/rest/v1/notes", json={"body": "a's note"}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()[0]["owner"] == USER_A
    r = await client.post(
        "/rest/v1/notes", json={"body": "b's note"}, headers={"Prefer": "return=minimal", **b}
    )
    assert r.status_code == 201
    seen_by_a = (
        await client.get("/rest/v1/notes", params={"select": "owner,body"}, headers=a)
    ).json()
    seen_by_b = (
        await client.get("/rest/v1/notes", params={"select": "owner,body"}, headers=b)
    ).json()
    assert {"owner": USER_A, "body": "a's note"} in seen_by_a
    assert {n["owner"] for n in seen_by_a} == {USER_A}
    assert {"owner": USER_B, "body": "b's note"} in seen_by_b
    assert {n["owner"] for n in seen_by_b} == {USER_B}
    # B cannot write a row owned by A (RLS WITH CHECK)
    r = await client.post("/rest/v1/notes", json={"owner": USER_A, "body": "forged"}, headers=b)
    assert r.status_code == 403
    assert r.json()["code"] == "42501"
    # B's update of A's rows touches nothing
    r = await client.patch(
        "/rest/v1/notes",
        params={"owner": f"eq.{USER_A}"},
        json={"body": "hacked"},
        headers={"Prefer": "return=representation", **b},
    )
    assert r.status_code == 200
    assert r.json() == []


async def test_insufficient_privilege_anon_401_user_403(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    r = await client.get("/rest/v1/notes")
    assert r.status_code == 401
    assert r.json()["code"] == "42501"
    assert r.headers["www-authenticate"] == "Bearer"
    r = await client.post(
        "/rest/v1/films", json={"id": 9, "title": "x"}, headers=bearer(make_token("gw_user"))
    )
    assert r.status_code == 403
    assert r.json()["code"] == "42501"
