"""Computed columns: functions taking a table's row type."""

from __future__ import annotations

import httpx
import pytest

from .conftest import MakeToken, bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_computed_column_in_select_filter_order(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/rest/v1/films",
        params={"select": "id,title_year", "title_year": "like.*(20*", "order": "title_year.desc"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"id": 2, "title_year": "Lady Bird (2017)"},
        {"id": 3, "title_year": "Dune (2021)"},
        {"id": 1, "title_year": "Barbie (2023)"},
        {"id": 4, "title_year": "Arrival (2016)"},
    ]
    r = await client.get("/rest/v1/films", params={"select": "*", "id": "eq.1"})
    assert "title_year" not in r.json()[0]  # `*` lists stored columns only


async def test_computed_column_on_embed_and_representation(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    r = await client.get(
        "/rest/v1/directors",
        params={"select": "name,films(title_year)", "id": "eq.2", "films.order": "id"},
    )
    assert r.json() == [
        {
            "name": "Denis Villeneuve",
            "films": [{"title_year": "Dune (2021)"}, {"title_year": "Arrival (2016)"}],
        }
    ]
    r = await client.post(
        "/rest/v1/items",
        params={"select": "item_label"},
        json={"name": "computed-item", "qty": 4},
        headers={"Prefer": "return=representation", **bearer(make_token("gw_user"))},
    )
    assert r.status_code == 201, r.text
    assert r.json() == [{"item_label": "computed-item x4"}]
