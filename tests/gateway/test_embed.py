"""Resource embedding through foreign keys."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import MakeToken, bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def get(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    r = await client.get(f"/rest/v1/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_many_to_one(client: httpx.AsyncClient) -> None:
    rows = await get(client, "films", select="title,directors(name)", id="in.(1,5)", order="id")
    assert rows == [
        {"title": "Barbie", "directors": {"name": "Greta Gerwig"}},
        {"title": "Untitled", "directors": None},
    ]


async def test_alias_and_star(client: httpx.AsyncClient) -> None:
    rows = await get(client, "films", select="title,director:directors(*)", id="eq.3")
    assert rows == [{"title": "Dune", "director": {"id": 2, "name": "Denis Villeneuve"}}]


async def test_one_to_many_with_embedded_filters_order_limit(client: httpx.AsyncClient) -> None:
    rows = await get(
        client, "directors", select="name,films(title)", order="id", **{"films.order": "id"}
    )
    assert rows == [
        {"name": "Greta Gerwig", "films": [{"title": "Barbie"}, {"title": "Lady Bird"}]},
        {"name": "Denis Villeneuve", "films": [{"title": "Dune"}, {"title": "Arrival"}]},
        {"name": "Nobody", "films": []},
    ]
    rows = await get(
        client,
        "directors",
        select="name,films(title,year)",
        order="id",
        **{"films.order": "year.desc", "films.limit": "1", "films.year": "lt.2023"},
    )
    assert rows == [
        {"name": "Greta Gerwig", "films": [{"title": "Lady Bird", "year": 2017}]},
        {"name": "Denis Villeneuve", "films": [{"title": "Dune", "year": 2021}]},
        {"name": "Nobody", "films": []},
    ]
    rows = await get(
        client,
        "directors",
        select="id,films(id)",
        id="eq.2",
        **{"films.or": "(year.eq.2016,year.eq.2023)"},
    )
    assert rows == [{"id": 2, "films": [{"id": 4}]}]


async def test_many_to_many(client: httpx.AsyncClient) -> None:
    rows = await get(
        client, "films", select="title,actors(name)", id="eq.1", **{"actors.order": "name"}
    )
    assert rows == [
        {"title": "Barbie", "actors": [{"name": "Margot Robbie"}, {"name": "Ryan Gosling"}]}
    ]
    rows = await get(
        client, "actors", select="name,films(title)", id="eq.4", **{"films.order": "id"}
    )
    assert rows == [
        {"name": "Timothee Chalamet", "films": [{"title": "Lady Bird"}, {"title": "Dune"}]}
    ]


async def test_one_to_one(client: httpx.AsyncClient) -> None:
    rows = await get(client, "films", select="id,film_details(budget)", id="in.(1,2)", order="id")
    assert rows == [
        {"id": 1, "film_details": {"budget": 145000000}},
        {"id": 2, "film_details": None},
    ]
    rows = await get(client, "film_details", select="budget,films(title)", film_id="eq.3")
    assert rows == [{"budget": 165000000, "films": {"title": "Dune"}}]


async def test_nested_embeds(client: httpx.AsyncClient) -> None:
    rows = await get(
        client,
        "directors",
        select="name,films(title,actors(name))",
        id="eq.2",
        **{"films.order": "id", "films.actors.order": "name"},
    )
    assert rows == [
        {
            "name": "Denis Villeneuve",
            "films": [
                {"title": "Dune", "actors": [{"name": "Timothee Chalamet"}]},
                {"title": "Arrival", "actors": [{"name": "Amy Adams"}]},
            ],
        }
    ]


async def test_inner_join_filters_parents(client: httpx.AsyncClient) -> None:
    rows = await get(
        client,
        "directors",
        select="name,films!inner(title)",
        order="id",
        **{"films.year": "gt.2020", "films.order": "id"},
    )
    assert rows == [
        {"name": "Greta Gerwig", "films": [{"title": "Barbie"}]},
        {"name": "Denis Villeneuve", "films": [{"title": "Dune"}]},
    ]
    rows = await get(
        client,
        "films",
        select="title,directors!inner(name)",
        order="id",
        **{"directors.name": "eq.Denis Villeneuve"},
    )
    assert rows == [
        {"title": "Dune", "directors": {"name": "Denis Villeneuve"}},
        {"title": "Arrival", "directors": {"name": "Denis Villeneuve"}},
    ]
    rows = await get(client, "directors", select="name,films!inner()", **{"films.year": "eq.2016"})
    assert rows == [{"name": "Denis Villeneuve"}]


async def test_null_filter_on_embed(client: httpx.AsyncClient) -> None:
    rows = await get(client, "directors", select="name,films()", films="is.null")
    assert rows == [{"name": "Nobody"}]
    rows = await get(client, "films", select="id,directors()", directors="not.is.null", order="id")
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    r = await client.get(
        "/rest/v1/films", params={"select": "id,directors(id)", "directors": "eq.1"}
    )
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST120"


async def test_hints_disambiguate(client: httpx.AsyncClient) -> None:
    rows = await get(
        client,
        "messages",
        select="body,sender:users!sender_id(name),receiver:users!messages_receiver_id_fkey(name)",
        order="id",
    )
    assert rows == [
        {"body": "hi", "sender": {"name": "ann"}, "receiver": {"name": "bob"}},
        {"body": "hey", "sender": {"name": "bob"}, "receiver": {"name": "ann"}},
    ]


async def test_ambiguous_embedding_is_300(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/messages", params={"select": "*,users(*)"})
    assert r.status_code == 300
    body = r.json()
    assert body["code"] == "PGRST201"
    assert body["message"] == (
        "Could not embed because more than one relationship was found for 'messages' and 'users'"
    )
    assert body["details"] == [
        {
            "cardinality": "many-to-one",
            "embedding": "messages with users",
            "relationship": "messages_receiver_id_fkey using messages(receiver_id) and users(id)",
        },
        {
            "cardinality": "many-to-one",
            "embedding": "messages with users",
            "relationship": "messages_sender_id_fkey using messages(sender_id) and users(id)",
        },
    ]
    assert body["hint"] == (
        "Try changing 'users' to one of the following: 'users!messages_receiver_id_fkey', "
        "'users!messages_sender_id_fkey'. Find the desired relationship in the 'details' key."
    )


async def test_no_relationship_is_pgrst200(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/films", params={"select": "*,users(*)"})
    assert r.status_code == 400
    assert r.json() == {
        "code": "PGRST200",
        "details": "Searched for a foreign key relationship between 'films' and 'users' in the "
        "schema 'public', but no matches were found.",
        "hint": None,
        "message": "Could not find a relationship between 'films' and 'users' in the schema cache",
    }
    r = await client.get("/rest/v1/films", params={"select": "*,directors!nope(*)"})
    assert r.status_code == 400
    assert "using the hint 'nope'" in r.json()["details"]


async def test_filter_on_unselected_embed_is_pgrst108(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/films", params={"select": "id", "actors.name": "eq.x"})
    assert r.status_code == 400
    assert r.json() == {
        "code": "PGRST108",
        "details": None,
        "hint": "Verify that 'actors' is included in the 'select' query parameter.",
        "message": "'actors' is not an embedded resource in this request",
    }


async def test_related_order(client: httpx.AsyncClient) -> None:
    rows = await get(
        client,
        "films",
        select="id,directors(name)",
        order="directors(name).desc.nullslast,id",
        id="lt.5",
    )
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    rows = await get(client, "films", select="id,directors(name)", order="directors(name),id")
    assert [r["id"] for r in rows] == [3, 4, 1, 2, 5]
    r = await client.get(
        "/rest/v1/directors", params={"select": "id,films(id)", "order": "films(id)"}
    )
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST118"


async def test_spread(client: httpx.AsyncClient) -> None:
    rows = await get(client, "films", select="title,...directors(director:name)", id="eq.4")
    assert rows == [{"title": "Arrival", "director": "Denis Villeneuve"}]


async def test_spread_to_many(client: httpx.AsyncClient) -> None:
    rows = await get(
        client,
        "directors",
        select="name,...films(titles:title,years:year,...actors(names:name))",
        order="id",
        **{"films.order": "year", "films.actors.order": "name"},
    )
    assert rows == [
        {
            "name": "Greta Gerwig",
            "titles": ["Lady Bird", "Barbie"],
            "years": [2017, 2023],
            "names": [["Saoirse Ronan", "Timothee Chalamet"], ["Margot Robbie", "Ryan Gosling"]],
        },
        {
            "name": "Denis Villeneuve",
            "titles": ["Arrival", "Dune"],
            "years": [2016, 2021],
            "names": [["Amy Adams"], ["Timothee Chalamet"]],
        },
        {"name": "Nobody", "titles": [], "years": [], "names": []},
    ]
    rows = await get(client, "directors", select="name,...films!inner(title)", order="id")
    assert [r["name"] for r in rows] == ["Greta Gerwig", "Denis Villeneuve"]
    rows = await get(client, "directors", select="name,...films(title)", films="is.null")
    assert rows == [{"name": "Nobody", "title": []}]


async def test_spread_a_join_table(client: httpx.AsyncClient) -> None:
    rows = await get(
        client,
        "films",
        select="title,cast:roles(character,...actors(name))",
        id="eq.1",
        **{"cast.order": "character"},
    )
    assert rows == [
        {
            "title": "Barbie",
            "cast": [
                {"character": "Barbie", "name": "Margot Robbie"},
                {"character": "Ken", "name": "Ryan Gosling"},
            ],
        }
    ]


async def test_embed_on_write_representation(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    r = await client.post(
        "/rest/v1/reviews",
        params={"select": "stars,films(title)"},
        json={"film_id": 4, "stars": 4, "body": "heptapods"},
        headers={"Prefer": "return=representation", **bearer(make_token("gw_user"))},
    )
    assert r.status_code == 201, r.text
    assert r.json() == [{"stars": 4, "films": {"title": "Arrival"}}]


async def test_embedding_through_views(client: httpx.AsyncClient) -> None:
    rows = await get(client, "film_titles", select="title,reviews(stars)", id="eq.3")
    assert rows == [{"title": "Dune", "reviews": [{"stars": 5}]}]
    rows = await get(client, "film_cards", select="name,directors(name)", film_id="eq.2")
    assert rows == [{"name": "Lady Bird", "directors": {"name": "Greta Gerwig"}}]
    rows = await get(
        client,
        "directors",
        select="name,film_cards(name)",
        id="eq.2",
        **{"film_cards.order": "film_id"},
    )
    assert rows == [
        {"name": "Denis Villeneuve", "film_cards": [{"name": "Dune"}, {"name": "Arrival"}]}
    ]
    # a view of a view, many-to-many through the roles junction
    rows = await get(client, "recent_cards", select="card,actors(name)", card="eq.3")
    assert rows == [{"card": 3, "actors": [{"name": "Timothee Chalamet"}]}]
    # views get their base table's primary key (PUT needs it)
    r = await client.get(
        "/rest/v1/film_cards", params={"select": "film_id,film_details(budget)", "film_id": "eq.1"}
    )
    assert r.json() == [{"film_id": 1, "film_details": {"budget": 145000000}}]


async def test_embedding_a_view_without_the_key_columns(client: httpx.AsyncClient) -> None:
    r = await client.get("/rest/v1/film_titles", params={"select": "title,directors(name)"})
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST200"


async def test_left_hint_junction_hint_and_embedded_offset(client: httpx.AsyncClient) -> None:
    rows = await get(client, "films", select="id,directors!left(id)", id="eq.5")
    assert rows == [{"id": 5, "directors": None}]
    rows = await get(
        client,
        "films",
        select="id,cast:actors!roles(name)",
        id="eq.1",
        **{"cast.order": "name", "cast.offset": "1"},
    )
    assert rows == [{"id": 1, "cast": [{"name": "Ryan Gosling"}]}]


async def test_computed_relationships(client: httpx.AsyncClient) -> None:
    rows = await get(
        client,
        "films",
        select="title,maker(name),top_reviews(body,stars)",
        id="in.(1,5)",
        order="id",
        **{"top_reviews.limit": "1"},
    )
    assert rows == [
        {
            "title": "Barbie",
            "maker": {"name": "Greta Gerwig"},
            "top_reviews": [{"body": "fun", "stars": 5}],
        },
        {"title": "Untitled", "maker": None, "top_reviews": []},
    ]
    rows = await get(
        client,
        "films",
        select="id,maker!inner(name)",
        order="maker(name).desc,id",
        **{"maker.name": "like.D*"},
    )
    assert [r["id"] for r in rows] == [3, 4]


async def test_embedded_json_is_formatted_like_postgrest(client: httpx.AsyncClient) -> None:
    # PostgREST builds embeds as jsonb, the top level with json_agg: the raw text shows it
    r = await client.get(
        "/rest/v1/films",
        params={"select": "id,directors(name,id),reviews(stars)", "id": "eq.3"},
    )
    assert (
        r.text
        == '[{"id":3,"directors":{"id": 2, "name": "Denis Villeneuve"},"reviews":[{"stars": 5}]}]'
    )


async def test_null_filters_on_embeds_inside_logic_trees(client: httpx.AsyncClient) -> None:
    rows = await get(
        client,
        "films",
        select="id,act:actors(),dir:directors()",
        order="id",
        **{
            "dir.name": "eq.Greta Gerwig",
            "act.name": "eq.Amy Adams",
            "or": "(dir.not.is.null,act.not.is.null)",
        },
    )
    assert [r["id"] for r in rows] == [1, 2, 4]
    rows = await get(
        client,
        "films",
        select="id,film_details(),directors()",
        order="id",
        **{"or": "(and(film_details.is.null,directors.is.null),id.eq.1)"},
    )
    assert [r["id"] for r in rows] == [1, 5]
