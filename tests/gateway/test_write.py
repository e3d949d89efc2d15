"""Writes: insert, upsert, update, delete, PUT and their preferences."""

from __future__ import annotations

import uuid

import httpx
import pytest

from .conftest import MakeToken, bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def user(make_token: MakeToken) -> dict[str, str]:
    return bearer(make_token("gw_user"))


def uniq(prefix: str = "item") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def test_insert_minimal_by_default(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    name = uniq()
    r = await client.post("/rest/v1/items", json={"name": name}, headers=user)
    assert r.status_code == 201
    assert r.content == b""
    assert r.headers["content-range"] == "*/*"
    r = await client.get("/rest/v1/items", params={"name": f"eq.{name}", "select": "name,qty"})
    assert r.json() == [{"name": name, "qty": 1}]


async def test_insert_representation_with_select(
    client: httpx.AsyncClient, user: dict[str, str]
) -> None:
    name = uniq()
    r = await client.post(
        "/rest/v1/items",
        params={"select": "name,qty,price"},
        json={"name": name, "qty": 3, "price": "12.5"},
        headers={"Prefer": "return=representation", **user},
    )
    assert r.status_code == 201
    assert r.json() == [{"name": name, "qty": 3, "price": 12.50}]
    assert r.headers["preference-applied"] == "return=representation"


async def test_bulk_insert_and_count(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    rows = [{"name": uniq(), "qty": i} for i in range(3)]
    r = await client.post(
        "/rest/v1/items",
        json=rows,
        headers={"Prefer": "return=representation,count=exact", **user},
    )
    assert r.status_code == 201
    assert [x["qty"] for x in r.json()] == [0, 1, 2]
    assert r.headers["content-range"] == "*/3"


async def test_bulk_insert_keys_must_match(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    r = await client.post(
        "/rest/v1/items", json=[{"name": uniq()}, {"name": uniq(), "qty": 2}], headers=user
    )
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST102"
    assert r.json()["message"] == "All object keys must match"


async def test_columns_param_and_missing_default(
    client: httpx.AsyncClient, user: dict[str, str]
) -> None:
    a, b = uniq(), uniq()
    r = await client.post(
        "/rest/v1/items",
        params={"columns": "name,qty", "select": "name,qty"},
        json=[{"name": a, "qty": 5, "ignored": 1}, {"name": b}],
        headers={"Prefer": "return=representation,missing=default", **user},
    )
    assert r.status_code == 201, r.text
    assert r.json() == [{"name": a, "qty": 5}, {"name": b, "qty": 1}]
    assert "missing=default" in r.headers["preference-applied"]
    r = await client.post(
        "/rest/v1/items",
        params={"columns": "name,qty"},
        json=[{"name": uniq()}],
        headers={"Prefer": "return=representation", **user},
    )
    assert r.status_code == 400  # qty is NOT NULL and missing keys insert NULL
    assert r.json()["code"] == "23502"


async def test_unknown_column_in_payload(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    r = await client.post("/rest/v1/items", json={"name": uniq(), "colour": "red"}, headers=user)
    assert r.status_code == 400
    assert r.json() == {
        "code": "PGRST204",
        "details": None,
        "hint": None,
        "message": "Could not find the 'colour' column of 'items' in the schema cache",
    }


async def test_invalid_json_body(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    r = await client.post(
        "/rest/v1/items",
        content=b"{not json",
        headers={"Content-Type": "application/json", **user},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST102"


async def test_headers_only_location(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    r = await client.post(
        "/rest/v1/kv",
        json={"k": "loc key", "v": "1"},
        headers={"Prefer": "return=headers-only", **user},
    )
    assert r.status_code == 201
    assert r.headers["location"] == "/kv?k=eq.loc%20key"
    assert r.content == b""


async def test_unique_violation_is_409(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    name = uniq()
    await client.post("/rest/v1/items", json={"name": name}, headers=user)
    r = await client.post("/rest/v1/items", json={"name": name}, headers=user)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "23505"
    assert body["details"] == f"Key (name)=({name}) already exists."


async def test_fk_and_check_violations(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    r = await client.post("/rest/v1/reviews", json={"film_id": 999, "stars": 3}, headers=user)
    assert r.status_code == 409
    assert r.json()["code"] == "23503"
    r = await client.post("/rest/v1/reviews", json={"film_id": 1, "stars": 9}, headers=user)
    assert r.status_code == 400
    assert r.json()["code"] == "23514"


async def test_upsert_merge_and_ignore(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    key = uniq("k")
    rep = {"Prefer": "return=representation,resolution=merge-duplicates", **user}
    r = await client.post("/rest/v1/kv", json={"k": key, "v": "one"}, headers=rep)
    assert r.status_code == 201
    r = await client.post("/rest/v1/kv", json=[{"k": key, "v": "two"}], headers=rep)
    assert r.status_code == 200  # every row merged into an existing one: nothing created
    assert r.json() == [{"k": key, "v": "two"}]
    assert "resolution=merge-duplicates" in r.headers["preference-applied"]
    ign = {"Prefer": "return=representation,resolution=ignore-duplicates", **user}
    r = await client.post("/rest/v1/kv", json={"k": key, "v": "three"}, headers=ign)
    assert r.status_code == 201
    assert r.json() == []
    r = await client.get("/rest/v1/kv", params={"k": f"eq.{key}"})
    assert r.json() == [{"k": key, "v": "two"}]


async def test_upsert_on_conflict_column(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    name = uniq()
    await client.post("/rest/v1/items", json={"name": name, "qty": 1}, headers=user)
    r = await client.post(
        "/rest/v1/items",
        params={"on_conflict": "name", "select": "name,qty"},
        json={"name": name, "qty": 7},
        headers={"Prefer": "return=representation,resolution=merge-duplicates", **user},
    )
    assert r.status_code == 200, r.text
    assert r.json() == [{"name": name, "qty": 7}]
    r = await client.post(
        "/rest/v1/items",
        params={"on_conflict": "name"},
        json=[{"name": name, "qty": 8}, {"name": uniq(), "qty": 1}],
        headers={"Prefer": "resolution=merge-duplicates", **user},
    )
    assert r.status_code == 201  # one row created


async def test_patch(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    name = uniq()
    await client.post("/rest/v1/items", json={"name": name, "qty": 1}, headers=user)
    r = await client.patch(
        "/rest/v1/items", params={"name": f"eq.{name}"}, json={"qty": 2}, headers=user
    )
    assert r.status_code == 204
    assert r.headers["content-range"] == "0-0/*"
    r = await client.patch(
        "/rest/v1/items",
        params={"name": f"eq.{name}", "select": "name,qty"},
        json={"qty": 3, "note": "n"},
        headers={"Prefer": "return=representation", **user},
    )
    assert r.status_code == 200
    assert r.json() == [{"name": name, "qty": 3}]
    r = await client.patch(
        "/rest/v1/items",
        params={"name": "eq.nothing-matches"},
        json={"qty": 3},
        headers={"Prefer": "return=representation", **user},
    )
    assert r.json() == []
    assert r.headers["content-range"] == "*/*"


async def test_delete(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    prefix = uniq("del")
    rows = [{"name": f"{prefix}-{i}"} for i in range(3)]
    await client.post("/rest/v1/items", json=rows, headers=user)
    r = await client.delete(
        "/rest/v1/items",
        params={"name": f"like.{prefix}*", "select": "name", "order": "name"},
        headers={"Prefer": "return=representation,count=exact", **user},
    )
    assert r.status_code == 200
    assert sorted(x["name"] for x in r.json()) == [f"{prefix}-{i}" for i in range(3)]
    assert r.headers["content-range"] == "*/3"
    r = await client.delete("/rest/v1/items", params={"name": f"like.{prefix}*"}, headers=user)
    assert r.status_code == 204


async def test_max_affected(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    prefix = uniq("max")
    await client.post(
        "/rest/v1/items", json=[{"name": f"{prefix}-{i}"} for i in range(3)], headers=user
    )
    r = await client.delete(
        "/rest/v1/items",
        params={"name": f"like.{prefix}*"},
        headers={"Prefer": "handling=strict,max-affected=2", **user},
    )
    assert r.status_code == 400
    assert r.json() == {
        "code": "PGRST124",
        "details": "The query affects 3 rows",
        "hint": None,
        "message": "Query result exceeds max-affected preference constraint",
    }
    r = await client.get("/rest/v1/items", params={"name": f"like.{prefix}*", "select": "id"})
    assert len(r.json()) == 3  # rolled back
    r = await client.delete(
        "/rest/v1/items",
        params={"name": f"like.{prefix}*"},
        headers={"Prefer": "handling=strict,max-affected=3", **user},
    )
    assert r.status_code == 204


async def test_handling_strict_rejects_invalid_preferences(
    client: httpx.AsyncClient, user: dict[str, str]
) -> None:
    r = await client.post(
        "/rest/v1/items",
        json={"name": uniq()},
        headers={"Prefer": "handling=strict,return=everything,foo", **user},
    )
    assert r.status_code == 400
    assert r.json() == {
        "code": "PGRST122",
        "details": "Invalid preferences: return=everything, foo",
        "hint": None,
        "message": "Invalid preferences given with handling=strict",
    }
    r = await client.post(
        "/rest/v1/items", json={"name": uniq()}, headers={"Prefer": "foo=bar", **user}
    )
    assert r.status_code == 201  # lenient by default


async def test_tx_rollback(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    name = uniq()
    r = await client.post(
        "/rest/v1/items",
        json={"name": name},
        headers={"Prefer": "tx=rollback,return=representation", **user},
    )
    assert r.status_code == 201
    assert r.json()[0]["name"] == name
    assert "tx=rollback" in r.headers["preference-applied"]
    r = await client.get("/rest/v1/items", params={"name": f"eq.{name}"})
    assert r.json() == []


async def test_singular_write_rolls_back(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    prefix = uniq("one")
    r = await client.post(
        "/rest/v1/items",
        json=[{"name": f"{prefix}-1"}, {"name": f"{prefix}-2"}],
        headers={
            "Prefer": "return=representation",
            "Accept": "application/vnd.pgrst.object+json",
            **user,
        },
    )
    assert r.status_code == 406
    assert r.json()["code"] == "PGRST116"
    r = await client.get("/rest/v1/items", params={"name": f"like.{prefix}*"})
    assert r.json() == []
    r = await client.post(
        "/rest/v1/items",
        params={"select": "name"},
        json={"name": f"{prefix}-3"},
        headers={
            "Prefer": "return=representation",
            "Accept": "application/vnd.pgrst.object+json",
            **user,
        },
    )
    assert r.status_code == 201
    assert r.json() == {"name": f"{prefix}-3"}


async def test_put(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    key = uniq("put")
    rep = {"Prefer": "return=representation", **user}
    r = await client.put(
        "/rest/v1/kv", params={"k": f"eq.{key}"}, json={"k": key, "v": "a"}, headers=rep
    )
    assert r.status_code == 201, r.text  # created
    assert r.json() == [{"k": key, "v": "a"}]
    r = await client.put(
        "/rest/v1/kv", params={"k": f"eq.{key}"}, json={"k": key, "v": "a2"}, headers=rep
    )
    assert r.status_code == 200  # replaced
    assert r.json() == [{"k": key, "v": "a2"}]
    r = await client.put(
        "/rest/v1/kv", params={"k": f"eq.{key}"}, json={"k": key, "v": "b"}, headers=user
    )
    assert r.status_code == 204
    r = await client.get("/rest/v1/kv", params={"k": f"eq.{key}"})
    assert r.json() == [{"k": key, "v": "b"}]
    r = await client.put(
        "/rest/v1/kv", params={"k": f"eq.{key}"}, json={"k": "other", "v": "c"}, headers=user
    )
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST115"
    r = await client.put("/rest/v1/kv", params={"v": "eq.x"}, json={"k": key}, headers=user)
    assert r.status_code == 405
    assert r.json()["code"] == "PGRST105"
    r = await client.put(
        "/rest/v1/kv", params={"k": f"eq.{key}", "limit": "1"}, json={"k": key}, headers=user
    )
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST114"


async def test_anon_cannot_write(client: httpx.AsyncClient) -> None:
    r = await client.post("/rest/v1/items", json={"name": uniq()})
    assert r.status_code == 401
    assert r.json()["code"] == "42501"


async def test_form_urlencoded_insert(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    key = uniq("form")
    r = await client.post(
        "/rest/v1/kv",
        content=f"k={key}&v=hello+world".encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Prefer": "return=representation",
            **user,
        },
    )
    assert r.status_code == 201
    assert r.json() == [{"k": key, "v": "hello world"}]


async def test_limited_patch_is_reported_unsupported(
    client: httpx.AsyncClient, user: dict[str, str]
) -> None:
    r = await client.patch(
        "/rest/v1/items", params={"limit": "1", "order": "id"}, json={"qty": 1}, headers=user
    )
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST127"
    assert "limit/offset" in r.json()["details"]


async def test_unsupported_method(client: httpx.AsyncClient) -> None:
    r = await client.options("/rest/v1/items")
    assert r.status_code == 200
    assert "GET" in r.headers["allow"]


async def test_preference_applied_order_and_first_wins(
    client: httpx.AsyncClient, user: dict[str, str]
) -> None:
    r = await client.post(
        "/rest/v1/kv",
        json={"k": uniq("pa"), "v": "x"},
        headers={
            "Prefer": "count=exact, return=representation, return=minimal, "
            "resolution=merge-duplicates, missing=default, handling=lenient",
            **user,
        },
    )
    assert r.status_code == 201
    assert r.headers["preference-applied"] == (
        "resolution=merge-duplicates, missing=default, return=representation, count=exact, "
        "handling=lenient"
    )
    r = await client.get("/rest/v1/kv", headers={"Prefer": "return=representation", **user})
    assert "preference-applied" not in r.headers


async def test_location_only_for_a_single_row(
    client: httpx.AsyncClient, user: dict[str, str]
) -> None:
    r = await client.post(
        "/rest/v1/kv",
        json=[{"k": uniq("l1"), "v": "1"}, {"k": uniq("l2"), "v": "2"}],
        headers={"Prefer": "return=headers-only", **user},
    )
    assert r.status_code == 201
    assert "location" not in r.headers


async def test_post_filters_apply_to_the_representation(
    client: httpx.AsyncClient, user: dict[str, str]
) -> None:
    a, b = uniq("rep"), uniq("rep")
    r = await client.post(
        "/rest/v1/items",
        params={"select": "name", "qty": "gt.1"},
        json=[{"name": a, "qty": 1}, {"name": b, "qty": 2}],
        headers={"Prefer": "return=representation", **user},
    )
    assert r.status_code == 201
    assert r.json() == [{"name": b}]
    r = await client.get("/rest/v1/items", params={"name": f"in.({a},{b})", "select": "name"})
    assert len(r.json()) == 2  # both rows were inserted


async def test_csv_bulk_insert(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    a, b = uniq("csv"), uniq("csv")
    body = f'name,qty,note\n{a},2,"with, comma"\n{b},3,NULL\n'.encode()
    r = await client.post(
        "/rest/v1/items",
        params={"select": "name,qty,note"},
        content=body,
        headers={"Content-Type": "text/csv", "Prefer": "return=representation", **user},
    )
    assert r.status_code == 201, r.text
    assert r.json() == [
        {"name": a, "qty": 2, "note": "with, comma"},
        {"name": b, "qty": 3, "note": None},
    ]
    r = await client.post(
        "/rest/v1/items",
        content=b"name,qty\nx\n",
        headers={"Content-Type": "text/csv", **user},
    )
    assert r.status_code == 400
    assert r.json()["message"] == "All lines must have same number of fields"
    r = await client.post(
        "/rest/v1/items", content=b"<a/>", headers={"Content-Type": "application/xml", **user}
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Content-Type not acceptable: application/xml"
