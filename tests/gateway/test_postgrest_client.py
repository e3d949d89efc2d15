"""The gateway under uvicorn, driven by postgrest-py's own clients (as the SDK calls it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
from postgrest import AsyncPostgrestClient, SyncPostgrestClient
from postgrest._sync.request_builder import SyncFilterRequestBuilder, SyncSelectRequestBuilder
from postgrest.exceptions import APIError

from vidgen_db.local.gateway import GatewayConfig, serve_in_thread

from .conftest import APIKEY, USER_A, USER_B, MakeToken

#: Builder calls that only newer postgrest-py releases have (the lowest-dependencies run
#: installs the floor in pyproject.toml, which lacks them).
HAS_STRIP_NULLS = hasattr(SyncSelectRequestBuilder, "strip_nulls")
HAS_MAX_AFFECTED = hasattr(SyncFilterRequestBuilder, "max_affected")


@pytest.fixture(scope="module")
def base_url(gw_config: GatewayConfig) -> Iterator[str]:
    """The gateway served by uvicorn on 127.0.0.1 (a free port) in a background thread."""
    with serve_in_thread(gw_config) as url:
        yield url


def headers(token: str | None = None) -> dict[str, str]:
    out = {"apikey": APIKEY}
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


@pytest.fixture
def anon(base_url: str) -> Iterator[SyncPostgrestClient]:
    with SyncPostgrestClient(base_url, headers=headers()) as c:
        yield c


@pytest.fixture
def user(base_url: str, make_token: MakeToken) -> Iterator[SyncPostgrestClient]:
    with SyncPostgrestClient(base_url, headers=headers(make_token("gw_user"))) as c:
        yield c


def test_select_filters_order_range_count(anon: SyncPostgrestClient) -> None:
    res = (
        anon.table("films")
        .select("id,title", count="exact")
        .gte("year", 2017)
        .order("year", desc=True)
        .range(0, 1)
        .execute()
    )
    assert res.data == [{"id": 1, "title": "Barbie"}, {"id": 3, "title": "Dune"}]
    assert res.count == 3
    res = anon.table("films").select("id").in_("id", [2, 4]).order("id").execute()
    assert res.data == [{"id": 2}, {"id": 4}]
    res = anon.table("films").select("id").or_("year.is.null,title.eq.Dune").order("id").execute()
    assert res.data == [{"id": 3}, {"id": 5}]
    res = anon.table("films").select("id").contains("tags", ["drama"]).order("id").execute()
    assert res.data == [{"id": 2}, {"id": 3}]
    res = anon.table("films").select("id").ilike("title", "%bird%").execute()
    assert res.data == [{"id": 2}]
    res = anon.table("films").select("id").text_search("search", "dune").execute()
    assert res.data == [{"id": 3}]
    res = anon.table("films").select("id").not_.is_("year", "null").limit(2).order("id").execute()
    assert res.data == [{"id": 1}, {"id": 2}]
    res = anon.table("films").select("id, directors(name)").eq("id", 4).execute()
    assert res.data == [{"id": 4, "directors": {"name": "Denis Villeneuve"}}]


def test_single_and_maybe_single(anon: SyncPostgrestClient) -> None:
    res = anon.table("films").select("title").eq("id", 2).single().execute()
    assert res.data == {"title": "Lady Bird"}
    with pytest.raises(APIError) as info:
        anon.table("films").select("title").gt("id", 1).single().execute()
    assert info.value.code == "PGRST116"
    maybe = anon.table("films").select("title").eq("id", 99).maybe_single().execute()
    assert maybe is None
    maybe = anon.table("films").select("title").eq("id", 3).maybe_single().execute()
    assert maybe is not None
    assert maybe.data == {"title": "Dune"}


def test_insert_upsert_update_delete(user: SyncPostgrestClient) -> None:
    name = f"pg-{uuid.uuid4().hex[:8]}"
    res = user.table("items").insert({"name": name, "qty": 2}).execute()
    assert res.data[0]["name"] == name
    item_id = res.data[0]["id"]
    res = user.table("items").upsert({"id": item_id, "name": name, "qty": 9}).execute()
    assert res.data[0]["qty"] == 9
    res = (
        user.table("items")
        .upsert({"name": name, "qty": 10}, on_conflict="name", default_to_null=False)
        .execute()
    )
    assert res.data[0]["qty"] == 10
    res = user.table("items").update({"note": "updated"}).eq("id", item_id).execute()
    assert res.data[0]["note"] == "updated"
    res = user.table("items").delete(count="exact").eq("id", item_id).execute()
    assert res.data[0]["id"] == item_id
    assert res.count == 1
    res = user.table("items").select("id").eq("id", item_id).execute()
    assert res.data == []


def test_rpc(anon: SyncPostgrestClient) -> None:
    assert anon.rpc("add_them", {"a": 20, "b": 22}).execute().data == 42
    res = anon.rpc("films_since", {"y": 2020}).select("title").order("id").execute()
    assert res.data == [{"title": "Barbie"}, {"title": "Dune"}]
    res = anon.rpc("films_since", {"y": 2000}, count="exact").eq("id", 3).execute()
    assert res.data[0]["title"] == "Dune"
    assert anon.rpc("film_count", {}, get=True).execute().data == 5


def test_errors_surface_as_api_errors(anon: SyncPostgrestClient) -> None:
    with pytest.raises(APIError) as info:
        anon.table("nope").select("*").execute()
    assert info.value.code == "PGRST205"
    with pytest.raises(APIError) as info:
        anon.table("items").insert({"name": "x"}).execute()
    assert info.value.code == "42501"


def test_rls_through_the_client(base_url: str, make_token: MakeToken) -> None:
    note = f"rls-{uuid.uuid4().hex[:8]}"
    with SyncPostgrestClient(base_url, headers=headers(make_token("gw_user", sub=USER_B))) as b:
        b.table("notes").insert({"body": note}).execute()
        assert [n["body"] for n in b.table("notes").select("body").execute().data].count(note) == 1
    with SyncPostgrestClient(base_url, headers=headers(make_token("gw_user", sub=USER_A))) as a:
        bodies = [n["body"] for n in a.table("notes").select("body").execute().data]
        assert note not in bodies


def test_jwt_errors_through_the_client(base_url: str, make_token: MakeToken) -> None:
    with SyncPostgrestClient(base_url, headers=headers(make_token(exp_in=-600))) as c:
        with pytest.raises(APIError) as info:
            c.table("films").select("id").execute()
        assert info.value.code == "PGRST303"
    r = httpx.get(f"{base_url}/films")
    assert r.status_code == 401


@pytest_asyncio.fixture(loop_scope="session")
async def async_user(base_url: str, make_token: MakeToken) -> AsyncIterator[AsyncPostgrestClient]:
    async with AsyncPostgrestClient(base_url, headers=headers(make_token("gw_user"))) as c:
        yield c


@pytest.mark.asyncio(loop_scope="session")
async def test_async_client(async_user: AsyncPostgrestClient) -> None:
    res = await async_user.table("films").select("id,title").eq("year", 2021).execute()
    assert res.data == [{"id": 3, "title": "Dune"}]
    name = f"async-{uuid.uuid4().hex[:8]}"
    res = await async_user.table("items").insert({"name": name}).execute()
    assert res.data[0]["qty"] == 1
    one = await async_user.table("items").select("name").eq("name", name).single().execute()
    assert one.data == {"name": name}
    assert (await async_user.rpc("add_them", {"a": 1, "b": 1}).execute()).data == 2
    await async_user.table("items").delete().eq("name", name).execute()


def test_more_builder_calls(anon: SyncPostgrestClient, user: SyncPostgrestClient) -> None:
    res = anon.table("films").select("id", count="exact", head=True).execute()
    assert res.count == 5
    res = (
        anon.table("directors")
        .select("name, films(title)")
        .eq("id", 1)
        .order("year", desc=True, foreign_table="films")
        .limit(1, foreign_table="films")
        .execute()
    )
    assert res.data == [{"name": "Greta Gerwig", "films": [{"title": "Barbie"}]}]
    res = anon.table("films").select("id").match({"year": 2021, "director_id": 2}).execute()
    assert res.data == [{"id": 3}]
    res = anon.table("films").select("id").not_.in_("id", [1, 2, 3]).order("id").execute()
    assert res.data == [{"id": 4}, {"id": 5}]
    res = anon.table("films").select("id").filter("tags", "cs", "{scifi}").order("id").execute()
    assert res.data == [{"id": 3}, {"id": 4}]
    res = anon.table("films").select("id").order("year", nullsfirst=True).limit(1).execute()
    assert res.data == [{"id": 5}]
    csv = anon.table("films").select("id,title").eq("id", 3).csv().execute()
    assert csv.data == "id,title\n3,Dune"
    key = f"ign-{uuid.uuid4().hex[:8]}"
    user.table("kv").insert({"k": key, "v": "1"}).execute()
    res = user.table("kv").upsert({"k": key, "v": "2"}, ignore_duplicates=True).execute()
    assert res.data == []


@pytest.mark.skipif(not HAS_STRIP_NULLS, reason="this postgrest-py has no strip_nulls()")
def test_strip_nulls(anon: SyncPostgrestClient) -> None:
    res = anon.table("films").select("id, year").eq("id", 5).strip_nulls().execute()
    assert res.data == [{"id": 5}]


@pytest.mark.skipif(not HAS_MAX_AFFECTED, reason="this postgrest-py has no max_affected()")
def test_max_affected(user: SyncPostgrestClient) -> None:
    key = f"max-{uuid.uuid4().hex[:8]}"
    res = user.table("items").delete().like("name", f"{key}-none-*").max_affected(5).execute()
    assert res.data == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # supabase-py's own deprecations
def test_supabase_client(base_url: str, make_token: MakeToken) -> None:
    from supabase import create_client

    anon_key = make_token("gw_anon", sub=None)
    client = create_client(base_url.removesuffix("/rest/v1"), anon_key)
    res = client.table("films").select("title").eq("id", 4).execute()
    assert res.data == [{"title": "Arrival"}]
    assert client.rpc("whoami").execute().data == "gw_anon"
    client.postgrest.auth(make_token("gw_user", sub=USER_A))
    assert client.rpc("whoami").execute().data == "gw_user"


def test_explain(anon: SyncPostgrestClient, base_url: str) -> None:
    """postgrest-py's ``.explain()`` asks for ``application/vnd.pgrst.plan+text`` (or
    ``+json``) with its options; the gateway answers with EXPLAIN's output."""
    builder = anon.table("films").select("id,title").eq("id", 1)
    if not hasattr(builder, "explain"):
        pytest.skip("this postgrest-py has no .explain()")
    text = builder.explain().execute()
    assert isinstance(text, str)
    assert "Scan" in text and "films" in text
    analyzed = anon.table("films").select("id").explain(analyze=True, verbose=True).execute()
    assert "actual time" in analyzed and "Output:" in analyzed
    r = httpx.get(
        f"{base_url}/films",
        params={"select": "id"},
        headers={**headers(), "Accept": "application/vnd.pgrst.plan+json; options=analyze|buffers"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.pgrst.plan+json")
    assert "Plan" in r.json()[0]
