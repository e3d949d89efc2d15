"""Reads: select, filters, logic trees, ordering, ranges, counts and media types."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def get(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None, **params: str
) -> httpx.Response:
    return await client.get(f"/rest/v1/{path}", params=params, headers=headers)


async def ids(client: httpx.AsyncClient, path: str, **params: str) -> list[Any]:
    r = await get(client, path, select="id", order="id", **params)
    assert r.status_code == 200, r.text
    return [row["id"] for row in r.json()]


async def test_select_columns_alias_cast_and_json_path(client: httpx.AsyncClient) -> None:
    r = await get(
        client,
        "films",
        select="id,name:title,year::text,lang:meta->>lang,usd:meta->box->usd,meta->box",
        id="eq.1",
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["content-range"] == "0-0/*"
    assert r.json() == [
        {"id": 1, "name": "Barbie", "year": "2023", "lang": "en", "usd": 1400, "box": {"usd": 1400}}
    ]


async def test_star_and_default_select(client: httpx.AsyncClient) -> None:
    r = await get(client, "directors", order="id")
    assert r.json() == [
        {"id": 1, "name": "Greta Gerwig"},
        {"id": 2, "name": "Denis Villeneuve"},
        {"id": 3, "name": "Nobody"},
    ]
    r = await get(client, "directors", select="*,extra:name", id="eq.3")
    assert r.json() == [{"id": 3, "name": "Nobody", "extra": "Nobody"}]


async def test_view(client: httpx.AsyncClient) -> None:
    r = await get(client, "film_titles", select="title", year="gt.2020", order="year")
    assert r.json() == [{"title": "Dune"}, {"title": "Barbie"}]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"year": "eq.2017"}, [2]),
        ({"year": "neq.2017"}, [1, 3, 4]),
        ({"year": "gt.2017"}, [1, 3]),
        ({"year": "gte.2017"}, [1, 2, 3]),
        ({"year": "lt.2017"}, [4]),
        ({"year": "lte.2017"}, [2, 4]),
        ({"title": "like.*an*"}, []),
        ({"title": "like.*r*"}, [1, 2, 4]),
        ({"title": "ilike.*b*"}, [1, 2]),
        ({"title": "match.^D"}, [3]),
        ({"title": "imatch.^d"}, [3]),
        ({"year": "is.null"}, [5]),
        ({"year": "not.is.null"}, [1, 2, 3, 4]),
        ({"meta": "is.null"}, [4]),
        ({"year": "isdistinct.2017"}, [1, 3, 4, 5]),
        ({"id": "in.(1,3,5)"}, [1, 3, 5]),
        ({"title": 'in.("Lady Bird",Dune)'}, [2, 3]),
        ({"id": "not.in.(1,3,5)"}, [2, 4]),
        ({"id": "in.()"}, []),
        ({"tags": "cs.{drama}"}, [2, 3]),
        ({"tags": "cd.{drama,scifi}"}, [2, 3, 4, 5]),
        ({"tags": "ov.{comedy,scifi}"}, [1, 3, 4]),
        ({"meta": 'cs.{"lang":"fr"}'}, [5]),
        ({"search": "fts.dune"}, [3]),
        ({"search": "fts(english).barbies"}, [1]),
        ({"title": "plfts.lady bird"}, [2]),
        ({"title": "phfts(english).lady bird"}, [2]),
        ({"title": "wfts(english).lady -bird"}, []),
        ({"title": "wfts.dune or arrival"}, [3, 4]),
        ({"title": "not.fts.dune"}, [1, 2, 4, 5]),
        ({"title": "like(any).{B*,D*}"}, [1, 3]),
        ({"title": "like(all).{*a*,*r*}"}, [1, 2, 4]),
        ({"year": "eq(any).{2016,2017}"}, [2, 4]),
        ({"year": "gt(all).{2016,2020}"}, [1, 3]),
        ({"meta->>lang": "eq.fr"}, [5]),
        ({"meta->box->usd": "gt.1000"}, [1]),
        ({"rating": "gte.7.9", "year": "lt.2022"}, [3, 4]),
        ({"year": "is.true"}, "error"),
    ],
)
async def test_filter_operators(
    client: httpx.AsyncClient, params: dict[str, str], expected: list[int] | str
) -> None:
    r = await get(client, "films", select="id", order="id", **params)
    if expected == "error":
        assert r.status_code == 400
        return
    assert r.status_code == 200, r.text
    assert [row["id"] for row in r.json()] == expected


async def test_range_operators(client: httpx.AsyncClient) -> None:
    assert await ids(client, "events", during="sl.[11,15)") == [1]
    assert await ids(client, "events", during="sr.[11,15)") == [2, 3]
    # PostgREST: nxr is &< (does not extend to the right of), nxl is &> (to the left of)
    assert await ids(client, "events", during="nxr.[11,15)") == [1]
    assert await ids(client, "events", during="nxl.[11,15)") == [2, 3]
    assert await ids(client, "events", during="nxr.[0,25)") == [1]  # [20,30) ends after 25
    assert await ids(client, "events", during="nxl.[25,100)") == [3]  # [20,30) starts before 25
    assert await ids(client, "events", during="not.nxl.[25,100)") == [1, 2]
    assert await ids(client, "events", during="adj.[10,20)") == [1, 2]
    assert await ids(client, "events", during="ov.[5,25)") == [1, 2]
    assert await ids(client, "events", during="cs.[5,6)") == [1]
    assert await ids(client, "events", labels="cs.{a}") == [1]


async def test_is_trilean(client: httpx.AsyncClient) -> None:
    assert await ids(client, "events", active="is.true") == [1]
    assert await ids(client, "events", active="is.false") == [2]
    assert await ids(client, "events", active="is.unknown") == [3]
    assert await ids(client, "events", active="not.is.true") == [2, 3]
    assert await ids(client, "events", active="is.null") == [3]


async def test_or_with_is_null(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/rest/v1/films", params=[("select", "id"), ("or", "(year.is.null,id.eq.1)")]
    )
    assert sorted(x["id"] for x in r.json()) == [1, 5]


async def test_logic_trees(client: httpx.AsyncClient) -> None:
    assert await ids(client, "films", **{"or": "(year.lt.2017,year.gt.2021)"}) == [1, 4]
    assert await ids(client, "films", **{"and": "(year.gte.2017,year.lte.2021)"}) == [2, 3]
    assert await ids(client, "films", **{"not.or": "(year.lt.2017,year.gt.2021)"}) == [2, 3]
    assert await ids(client, "films", **{"or": "(id.eq.5,and(year.gte.2017,rating.gt.7.5))"}) == [
        3,
        5,
    ]
    assert await ids(
        client, "films", **{"or": "(id.in.(1,2),not.and(year.gt.2000,year.lt.2020))"}
    ) == [1, 2, 3]
    assert await ids(client, "films", **{"or": '(title.eq."Lady Bird",title.like.*une)'}) == [2, 3]
    assert await ids(client, "films", **{"or": "(meta->>lang.eq.fr,tags.cs.{comedy})"}) == [1, 5]
    assert await ids(client, "films", **{"or": "(title.fts.dune,title.ilike.*bird*)"}) == [2, 3]
    assert await ids(client, "films", **{"or": "(tags.cs.{comedy,fantasy},id.eq.4)"}) == [1, 4]
    assert await ids(client, "films", **{"or": '(tags.ov.{"comedy",scifi},id.eq.2)'}) == [
        1,
        2,
        3,
        4,
    ]
    assert await ids(client, "events", **{"or": '(during.cs."[41,42)",id.eq.1)'}) == [1, 3]


async def test_order(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", select="id", order="year.desc.nullslast")
    assert [x["id"] for x in r.json()] == [1, 3, 2, 4, 5]
    r = await get(client, "films", select="id", order="year.desc")
    assert [x["id"] for x in r.json()] == [5, 1, 3, 2, 4]
    r = await get(client, "films", select="id", order="year.asc.nullsfirst")
    assert [x["id"] for x in r.json()] == [5, 4, 2, 3, 1]
    r = await get(client, "films", select="id", order="director_id.desc.nullslast,id.desc")
    assert [x["id"] for x in r.json()] == [4, 3, 2, 1, 5]
    r = await get(client, "films", select="id", order="meta->>lang.desc,id", id="lt.4")
    assert [x["id"] for x in r.json()] == [1, 2, 3]


async def test_limit_offset_and_content_range(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", select="id", order="id", limit="2", offset="1")
    assert r.headers["content-location"] == "/films?limit=2&offset=1&order=id&select=id"
    assert [x["id"] for x in r.json()] == [2, 3]
    assert r.headers["content-range"] == "1-2/*"
    assert r.status_code == 200


async def test_count_exact_partial_content(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", {"Prefer": "count=exact"}, select="id", order="id", limit="2")
    assert r.status_code == 206
    assert r.headers["content-range"] == "0-1/5"
    r = await get(client, "films", {"Prefer": "count=exact"}, select="id")
    assert r.status_code == 200
    assert r.headers["content-range"] == "0-4/5"
    r = await get(client, "films", {"Prefer": "count=exact"}, select="id", id="gt.100")
    assert r.status_code == 200
    assert r.headers["content-range"] == "*/0"
    assert r.json() == []


async def test_count_planned_and_estimated(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", {"Prefer": "count=planned"}, select="id", limit="1")
    total = int(r.headers["content-range"].split("/")[1])
    assert total >= 1
    r = await get(client, "films", {"Prefer": "count=estimated"}, select="id")
    assert r.headers["content-range"] == "0-4/5"


async def test_range_header(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", {"Range": "1-2", "Range-Unit": "items"}, select="id", order="id")
    assert [x["id"] for x in r.json()] == [2, 3]
    assert r.headers["content-range"] == "1-2/*"
    r = await get(client, "films", {"Range": "3-"}, select="id", order="id")
    assert [x["id"] for x in r.json()] == [4, 5]
    r = await get(client, "films", {"Range": "2-1"}, select="id")
    assert r.status_code == 416
    assert r.json()["code"] == "PGRST103"


async def test_offset_beyond_total_is_416(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", {"Prefer": "count=exact"}, select="id", offset="10")
    assert r.status_code == 416
    assert r.headers["content-range"] == "*/5"
    assert r.json() == {
        "code": "PGRST103",
        "details": "An offset of 10 was requested, but there are only 5 rows.",
        "hint": None,
        "message": "Requested range not satisfiable",
    }


async def test_limit_zero(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", select="id", limit="0")
    assert r.status_code == 200
    assert r.json() == []
    assert r.headers["content-range"] == "*/*"


async def test_singular_object(client: httpx.AsyncClient) -> None:
    accept = {"Accept": "application/vnd.pgrst.object+json"}
    r = await get(client, "films", accept, select="id,title", id="eq.3")
    assert r.status_code == 200
    assert r.json() == {"id": 3, "title": "Dune"}
    assert r.headers["content-type"].startswith("application/vnd.pgrst.object+json")
    r = await get(client, "films", accept, select="id", id="gt.2")
    assert r.status_code == 406
    assert r.json() == {
        "code": "PGRST116",
        "details": "The result contains 3 rows",
        "hint": None,
        "message": "Cannot coerce the result to a single JSON object",
    }
    r = await get(client, "films", accept, select="id", id="eq.99")
    assert r.status_code == 406
    assert r.json()["details"] == "The result contains 0 rows"


async def test_nulls_stripped(client: httpx.AsyncClient) -> None:
    r = await get(
        client,
        "films",
        {"Accept": "application/vnd.pgrst.array+json;nulls=stripped"},
        select="id,year,meta",
        id="eq.5",
    )
    assert r.json() == [{"id": 5, "meta": {"lang": "fr"}}]


async def test_csv(client: httpx.AsyncClient) -> None:
    r = await get(
        client, "films", {"Accept": "text/csv"}, select="id,title,tags", id="lt.3", order="id"
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.text == 'id,title,tags\n1,Barbie,"{comedy,fantasy}"\n2,"Lady Bird",{drama}'


async def test_head(client: httpx.AsyncClient) -> None:
    r = await client.head("/rest/v1/films", headers={"Prefer": "count=exact"})
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-range"] == "0-4/5"


async def test_unacceptable_media_type(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", {"Accept": "application/xml"})
    assert r.status_code == 406
    assert r.json()["code"] == "PGRST107"
    assert r.json()["message"] == "None of these media types are available: application/xml"


async def test_schema_profiles(client: httpx.AsyncClient) -> None:
    r = await get(client, "things", {"Accept-Profile": "gw_other"})
    assert r.status_code == 200
    assert r.json() == [{"id": 1, "label": "other-schema thing"}]
    assert r.headers["content-profile"] == "gw_other"
    r = await get(client, "things")
    assert r.status_code == 404
    assert r.json()["code"] == "PGRST205"
    r = await get(client, "films", {"Accept-Profile": "secret"})
    assert r.status_code == 406
    assert r.json() == {
        "code": "PGRST106",
        "details": None,
        "hint": "Only the following schemas are exposed: public, gw_other",
        "message": "Invalid schema: secret",
    }


async def test_unknown_table(client: httpx.AsyncClient) -> None:
    r = await get(client, "flims")
    assert r.status_code == 404
    assert r.json() == {
        "code": "PGRST205",
        "details": None,
        "hint": "Perhaps you meant the table 'public.films'",
        "message": "Could not find the table 'public.flims' in the schema cache",
    }
    assert r.headers["proxy-status"] == "PostgREST; error=PGRST205"


async def test_unknown_column_is_a_postgres_error(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", select="nope")
    assert r.status_code == 400
    assert r.json()["code"] == "42703"
    r = await get(client, "films", nope="eq.1")
    assert r.status_code == 400
    assert r.json()["code"] == "42703"


async def test_invalid_input_is_400(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", id="eq.abc")
    assert r.status_code == 400
    assert r.json()["code"] == "22P02"


@pytest.mark.parametrize(
    "params",
    [
        {"id": "equals.1"},
        {"id": "eq"},
        {"select": "id,"},
        {"select": "id,films(id"},
        {"order": "id.sideways"},
        {"or": "(id.eq.1"},
        {"limit": "ten"},
        {"id": "eq(some).{1}"},
        {"year": "is.maybe"},
    ],
)
async def test_parse_errors_are_pgrst100(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    r = await get(client, "films", **params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "PGRST100"


async def test_aggregates_are_disabled(client: httpx.AsyncClient) -> None:
    for select in ("count()", "rating.sum()"):
        r = await get(client, "films", select=select)
        assert r.status_code == 400
        assert r.json()["code"] == "PGRST123"
        assert r.json()["message"] == "Use of aggregate functions is not allowed"


async def test_apikey_required(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/films", headers={"apikey": ""})
    assert r.status_code == 401
    assert r.json()["message"] == "No API key found in request"
    transport = client._transport
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as bare:
        r = await bare.get("/rest/v1/films")
        assert r.status_code == 401
        r = await bare.get("/rest/v1/films", params={"apikey": "x", "select": "id", "id": "eq.1"})
        assert r.status_code == 200
        assert r.json() == [{"id": 1}]


async def test_paths(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/")
    assert r.status_code == 404
    assert r.json()["code"] == "PGRST126"
    r = await client.get("/rest/v1/films/1")
    assert r.status_code == 404
    assert r.json()["code"] == "PGRST125"
    r = await client.get("/elsewhere")
    assert r.status_code == 404


async def test_csv_empty(client: httpx.AsyncClient) -> None:
    r = await get(client, "films", {"Accept": "text/csv"}, id="eq.999")
    assert r.text == "\n"


async def test_identifiers_with_percent_and_quotes(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/rest/v1/odd%25s%20table",
        params={"select": 'n:"we%ird col",q:"quo\\"te"', '"we%ird col"': "gt.1"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == [{"n": 2, "q": "b"}]
