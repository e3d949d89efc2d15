"""RPC: argument passing, return shapes, filters on results, volatility and errors."""

from __future__ import annotations

import httpx
import pytest

from .conftest import MakeToken, bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_scalar_post_and_get(client: httpx.AsyncClient) -> None:
    r = await client.post("/rest/v1/rpc/add_them", json={"a": 2, "b": 3})
    assert r.status_code == 200
    assert r.text == "5"
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    r = await client.get("/rest/v1/rpc/add_them", params={"a": "2", "b": "40"})
    assert r.json() == 42


async def test_setof_table_with_filters_order_limit(client: httpx.AsyncClient) -> None:
    r = await client.post("/rest/v1/rpc/films_since", json={"y": 2017})
    assert sorted(f["id"] for f in r.json()) == [1, 2, 3]
    r = await client.get(
        "/rest/v1/rpc/films_since",
        params={"y": "2017", "select": "id,title", "order": "year.desc", "limit": "2"},
    )
    assert r.json() == [{"id": 1, "title": "Barbie"}, {"id": 3, "title": "Dune"}]
    r = await client.post(
        "/rest/v1/rpc/films_since",
        params={"title": "like.*a*", "select": "title", "order": "id"},
        json={"y": 2000, "max_n": 10},
    )
    assert r.json() == [{"title": "Barbie"}, {"title": "Lady Bird"}, {"title": "Arrival"}]


async def test_setof_count_and_singular(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/rest/v1/rpc/films_since",
        params={"select": "id", "order": "id", "limit": "1"},
        json={"y": 2000},
        headers={"Prefer": "count=exact"},
    )
    assert r.status_code == 206
    assert r.headers["content-range"] == "0-0/4"
    r = await client.post(
        "/rest/v1/rpc/films_by_year",
        json={"y": 2021},
        headers={"Accept": "application/vnd.pgrst.object+json"},
    )
    assert r.status_code == 200
    assert r.json()["title"] == "Dune"
    r = await client.post(
        "/rest/v1/rpc/films_by_year",
        json={"y": 1900},
        headers={"Accept": "application/vnd.pgrst.object+json"},
    )
    assert r.status_code == 406
    assert r.json()["code"] == "PGRST116"


async def test_returns_table_and_composite(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/rpc/film_stats", params={"year": "gte.2021"})
    assert r.json() == [{"year": 2021, "n": 1}, {"year": 2023, "n": 1}]
    r = await client.post("/rest/v1/rpc/first_film", json={})
    body = r.json()
    assert isinstance(body, dict)
    assert body["title"] == "Barbie"


async def test_scalar_and_setof_embedding(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/rest/v1/rpc/films_by_year",
        params={"y": "2023", "select": "title,directors(name)"},
    )
    assert r.json() == [{"title": "Barbie", "directors": {"name": "Greta Gerwig"}}]


async def test_no_arguments_and_bigint(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/rpc/film_count")
    assert r.json() == 5
    r = await client.post("/rest/v1/rpc/film_count")
    assert r.json() == 5


async def test_single_unnamed_json_parameter(client: httpx.AsyncClient) -> None:
    r = await client.post("/rest/v1/rpc/echo_json", json={"any": ["thing", 1]})
    assert r.json() == {"any": ["thing", 1]}
    r = await client.post("/rest/v1/rpc/echo_json", json=[1, 2])
    assert r.json() == [1, 2]


async def test_variadic_get(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/rest/v1/rpc/sum_all", params=[("nums", "1"), ("nums", "2"), ("nums", "4")]
    )
    assert r.json() == 7
    r = await client.post("/rest/v1/rpc/sum_all", json={"nums": [5, 6]})
    assert r.json() == 11


async def test_volatile_function_writes(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    user = bearer(make_token("gw_user"))
    r = await client.post("/rest/v1/rpc/new_item", json={"item_name": "rpc-made"}, headers=user)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "rpc-made"
    r = await client.get("/rest/v1/rpc/new_item", params={"item_name": "rpc-get"}, headers=user)
    assert r.status_code == 405
    assert r.json()["code"] == "25006"


async def test_void_function_is_204(client: httpx.AsyncClient, make_token: MakeToken) -> None:
    r = await client.post("/rest/v1/rpc/touch", json={}, headers=bearer(make_token("gw_user")))
    assert r.status_code == 204
    assert r.content == b""
    assert r.headers["content-range"] == "0-0/*"


async def test_raised_errors(client: httpx.AsyncClient) -> None:
    r = await client.post("/rest/v1/rpc/fail_plain", json={})
    assert r.status_code == 400
    assert r.json() == {
        "code": "P0001",
        "details": "Pretty simple",
        "hint": "There is nothing you can do.",
        "message": "I refuse!",
    }
    r = await client.post("/rest/v1/rpc/fail_payment", json={})
    assert r.status_code == 402
    assert r.json() == {
        "code": "PT402",
        "details": "Quota exceeded",
        "hint": "Upgrade your plan",
        "message": "Payment Required",
    }
    r = await client.post("/rest/v1/rpc/fail_pgrst", json={})
    assert r.status_code == 402
    assert r.headers["x-powered-by"] == "Nerd Rage"
    assert r.json() == {
        "code": "123",
        "details": "Quota exceeded",
        "hint": "Upgrade your plan",
        "message": "Payment Required",
    }


async def test_response_gucs(client: httpx.AsyncClient) -> None:
    r = await client.post("/rest/v1/rpc/with_headers", json={})
    assert r.status_code == 202
    assert r.headers["x-custom"] == "yes"


async def test_function_not_found(client: httpx.AsyncClient) -> None:
    r = await client.post("/rest/v1/rpc/add_them", json={"a": 1, "c": 2})
    assert r.status_code == 404
    body = r.json()
    assert body["code"] == "PGRST202"
    assert (
        body["message"] == "Could not find the function public.add_them(a, c) in the schema cache"
    )
    assert body["details"] == (
        "Searched for the function public.add_them with parameters a, c or with a single "
        "unnamed json/jsonb parameter, but no matches were found in the schema cache."
    )
    assert body["hint"] == "Perhaps you meant to call the function public.add_them(a, b)"
    r = await client.post("/rest/v1/rpc/nope", json={})
    assert r.status_code == 404
    assert r.json()["message"] == (
        "Could not find the function public.nope without parameters in the schema cache"
    )


async def test_overload_ambiguity(client: httpx.AsyncClient) -> None:
    r = await client.post("/rest/v1/rpc/overloaded", json={"a": 1})
    assert r.status_code == 300
    assert r.json()["code"] == "PGRST203"


async def test_rpc_methods(client: httpx.AsyncClient) -> None:
    r = await client.patch("/rest/v1/rpc/add_them", json={})
    assert r.status_code == 405
    assert r.json() == {
        "code": "PGRST101",
        "details": None,
        "hint": None,
        "message": "Cannot use the PATCH method on RPC",
    }


async def test_max_affected_requires_setof(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/rest/v1/rpc/add_them",
        json={"a": 1, "b": 1},
        headers={"Prefer": "handling=strict,max-affected=1"},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST128"
    r = await client.post(
        "/rest/v1/rpc/films_since",
        json={"y": 2000},
        headers={"Prefer": "handling=strict,max-affected=1"},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST124"


async def test_get_arguments_versus_filters(client: httpx.AsyncClient) -> None:
    # a value with an operator is a filter on the result, a bare value is an argument
    r = await client.get("/rest/v1/rpc/films_since", params={"y": "2017", "id": "eq.3"})
    assert [f["title"] for f in r.json()] == ["Dune"]
    r = await client.get("/rest/v1/rpc/films_since", params={"y": "eq.2017"})
    assert r.status_code == 404
    assert r.json()["code"] == "PGRST202"
    assert r.json()["message"] == (
        "Could not find the function public.films_since without parameters in the schema cache"
    )


async def test_head_options_and_columns(client: httpx.AsyncClient) -> None:
    r = await client.head(
        "/rest/v1/rpc/films_since", params={"y": "2000"}, headers={"Prefer": "count=exact"}
    )
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-range"] == "0-3/4"
    r = await client.options("/rest/v1/rpc/add_them")
    assert r.status_code == 200
    assert r.headers["allow"] == "OPTIONS,GET,HEAD,POST"
    # `columns` restricts which body keys are arguments
    r = await client.post(
        "/rest/v1/rpc/films_since",
        params={"columns": "y", "select": "id", "order": "id"},
        json={"y": 2021, "max_n": 0, "unrelated": True},
    )
    assert r.json() == [{"id": 1}, {"id": 3}]


async def test_enum_array_arguments_and_other_schema(client: httpx.AsyncClient) -> None:
    r = await client.post("/rest/v1/rpc/mood_of", json={"m": "sad", "tags": ["a", "b"]})
    assert r.json() == "sad:2"
    r = await client.get("/rest/v1/rpc/mood_of", params={"m": "happy", "tags": "{x}"})
    assert r.json() == "happy:1"
    r = await client.post("/rest/v1/rpc/mood_of", json={"m": "angry"})
    assert r.status_code == 400
    assert r.json()["code"] == "22P02"
    r = await client.post(
        "/rest/v1/rpc/echo_label", json={"label": "x"}, headers={"Content-Profile": "gw_other"}
    )
    assert r.json() == "other:x"
    r = await client.get(
        "/rest/v1/rpc/echo_label", params={"label": "y"}, headers={"Accept-Profile": "gw_other"}
    )
    assert r.json() == "other:y"


async def test_get_with_an_unknown_argument(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/rpc/add_them", params={"a": "1", "b": "2", "c": "3"})
    assert r.status_code == 404
    assert r.json()["message"] == (
        "Could not find the function public.add_them(a, b, c) in the schema cache"
    )
    assert r.json()["details"] == (
        "Searched for the function public.add_them with parameters a, b, c, but no matches "
        "were found in the schema cache."
    )


async def test_setof_scalar_csv_and_form_body(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/rpc/film_years")
    assert r.json() == [2016, 2017, 2021, 2023]
    r = await client.get("/rest/v1/rpc/film_years", params={"limit": "2"})
    assert r.json() == [2016, 2017]
    r = await client.get(
        "/rest/v1/rpc/film_stats", params={"order": "year"}, headers={"Accept": "text/csv"}
    )
    assert r.text == "year,n\n2016,1\n2017,1\n2021,1\n2023,1"
    r = await client.post(
        "/rest/v1/rpc/add_them",
        content=b"a=4&b=5",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.json() == 9


async def test_raw_bodies_to_a_single_unnamed_parameter(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/rest/v1/rpc/shout", content=b"hello, world", headers={"Content-Type": "text/plain"}
    )
    assert r.json() == "HELLO, WORLD"
    r = await client.post(
        "/rest/v1/rpc/byte_len",
        content=bytes(range(7)),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.json() == 7
    r = await client.post(
        "/rest/v1/rpc/add_them", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert r.status_code == 404
    assert r.json() == {
        "code": "PGRST202",
        "details": "Searched for the function public.add_them with a single unnamed text "
        "parameter, but no matches were found in the schema cache.",
        "hint": None,
        "message": "Could not find the function public.add_them in the schema cache",
    }
