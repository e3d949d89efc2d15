"""HTTP contract of db.projects, sync and async: the exact requests, and response parsing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import respx

from jwts import anon_key, service_key, user_token
from vidgen_db import AsyncVidgenDB, Cursor, NotFoundError, VidgenDB
from vidgen_db.models import Project, ProjectInsert, ProjectUpdate
from vidgen_db.models.enums import NichePreset

URL = "https://ref.supabase.co"
REST = f"{URL}/rest/v1"
USER = uuid.UUID("00000000-0000-4000-8000-000000000001")
PROJECT = uuid.UUID("00000000-0000-4000-8000-0000000000aa")


def project_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": str(PROJECT),
        "user_id": str(USER),
        "title": "Roman roads",
        "prompt_text": "p",
        "niche_preset": "history",
        "target_minutes": 2,
        "voice_profile_id": None,
        "transcript_mode": "auto",
        "transcript_text": None,
        "settings": {},
        "created_at": "2026-11-28T10:00:00.123456+00:00",
        "updated_at": "2026-11-28T10:00:00.123456+00:00",
    }
    row.update(overrides)
    return row


@pytest.fixture
def keys() -> dict[str, str]:
    return {"anon": anon_key(), "service": service_key(), "token": user_token(USER)}


def test_create_sends_an_idempotent_insert(keys: dict[str, str]) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{REST}/projects").mock(
            return_value=httpx.Response(201, json=[project_row()])
        )
        with VidgenDB.for_user(URL, keys["anon"], keys["token"]) as db:
            created = db.projects.create(
                ProjectInsert(
                    id=PROJECT,
                    user_id=USER,
                    title="Roman roads",
                    prompt_text="p",
                    niche_preset=NichePreset.HISTORY,
                    target_minutes=2,
                )
            )
    assert isinstance(created, Project) and created.id == PROJECT
    request = route.calls.last.request
    assert request.url.params["on_conflict"] == "id"
    prefer = request.headers["prefer"]
    assert "resolution=ignore-duplicates" in prefer and "return=representation" in prefer
    assert request.headers["apikey"] == keys["anon"]
    assert request.headers["authorization"] == f"Bearer {keys['token']}"
    assert json.loads(request.content) == {
        "id": str(PROJECT),
        "user_id": str(USER),
        "title": "Roman roads",
        "prompt_text": "p",
        "niche_preset": "history",
        "target_minutes": 2,
    }


def test_create_generates_an_id_when_none_is_given(keys: dict[str, str]) -> None:
    with respx.mock() as mock:
        route = mock.post(f"{REST}/projects").mock(
            return_value=httpx.Response(201, json=[project_row()])
        )
        with VidgenDB.service(URL, keys["service"]) as db:
            db.projects.create(
                ProjectInsert(user_id=USER, title="t", prompt_text="p", niche_preset="facts")
            )
    sent = json.loads(route.calls.last.request.content)
    assert uuid.UUID(sent["id"])  # chosen client-side: a retry inserts nothing twice
    assert route.calls.last.request.headers["authorization"] == f"Bearer {keys['service']}"


def test_get_asks_for_a_single_object(keys: dict[str, str]) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{REST}/projects").mock(
            return_value=httpx.Response(200, json=project_row())
        )
        with VidgenDB.for_user(URL, keys["anon"], keys["token"]) as db:
            project = db.projects.get(PROJECT)
    request = route.calls.last.request
    assert request.url.params["select"] == "*"
    assert request.url.params["id"] == f"eq.{PROJECT}"
    assert request.headers["accept"] == "application/vnd.pgrst.object+json"
    assert project.created_at == datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=UTC)


def test_get_of_a_missing_project_is_not_found(keys: dict[str, str]) -> None:
    with respx.mock() as mock:
        mock.get(f"{REST}/projects").mock(
            return_value=httpx.Response(
                406,
                json={
                    "code": "PGRST116",
                    "message": "JSON object requested, multiple (or no) rows returned",
                    "details": "The result contains 0 rows",
                    "hint": None,
                },
            )
        )
        with (
            VidgenDB.for_user(URL, keys["anon"], keys["token"]) as db,
            pytest.raises(NotFoundError) as info,
        ):
            db.projects.get(PROJECT)
    assert info.value.status_code == 406 and info.value.code == "PGRST116"


def test_list_pages_newest_first(keys: dict[str, str]) -> None:
    rows = [
        project_row(id=str(uuid.uuid4()), created_at=f"2026-11-28T10:00:0{9 - i}+00:00")
        for i in range(3)
    ]
    with respx.mock() as mock:
        route = mock.get(f"{REST}/projects").mock(return_value=httpx.Response(200, json=rows))
        with VidgenDB.for_user(URL, keys["anon"], keys["token"]) as db:
            page = db.projects.list(limit=2)
            assert len(page) == 2 and page.next_cursor is not None
            assert page.next_cursor.id == uuid.UUID(rows[1]["id"])  # type: ignore[arg-type]
            first = route.calls.last.request
            db.projects.list(limit=2, before=page.next_cursor)
            second = route.calls.last.request
            db.projects.list(limit=2, before=str(page.next_cursor))
            third = route.calls.last.request
    assert first.url.params["user_id"] == f"eq.{USER}"
    assert first.url.params["order"] == "created_at.desc,id.desc"
    assert first.url.params["limit"] == "3"
    assert "or" not in first.url.params
    cursor = page.next_cursor
    # An index range up to the cursor's timestamp, and the tie-break on id inside it.
    assert second.url.params["created_at"] == f"lte.{cursor.created_at.isoformat()}"
    assert second.url.params["or"] == (
        f'(created_at.lt."{cursor.created_at.isoformat()}",id.lt.{cursor.id})'
    )
    assert third.url == second.url  # the cursor's string pages the same


def test_list_validates_the_limit(keys: dict[str, str]) -> None:
    with VidgenDB.service(URL, keys["service"]) as db:
        with pytest.raises(ValueError, match="limit"):
            db.projects.list(limit=0)
        with pytest.raises(ValueError, match="timezone"):
            db.projects.list(before=Cursor(datetime(2026, 1, 1), uuid.uuid4()))


def test_update_sends_only_the_set_fields(keys: dict[str, str]) -> None:
    with respx.mock() as mock:
        route = mock.patch(f"{REST}/projects").mock(
            return_value=httpx.Response(200, json=[project_row(title="New")])
        )
        with VidgenDB.for_user(URL, keys["anon"], keys["token"]) as db:
            updated = db.projects.update(PROJECT, ProjectUpdate(title="New"))
            with pytest.raises(ValueError, match="no changes"):
                db.projects.update(PROJECT, ProjectUpdate())
    assert updated.title == "New"
    request = route.calls.last.request
    assert request.url.params["id"] == f"eq.{PROJECT}"
    assert json.loads(request.content) == {"title": "New"}
    assert "return=representation" in request.headers["prefer"]


def test_delete_and_not_found(keys: dict[str, str]) -> None:
    with respx.mock() as mock:
        route = mock.delete(f"{REST}/projects").mock(
            side_effect=[httpx.Response(200, json=[project_row()]), httpx.Response(200, json=[])]
        )
        with VidgenDB.for_user(URL, keys["anon"], keys["token"]) as db:
            db.projects.delete(PROJECT)
            with pytest.raises(NotFoundError):
                db.projects.delete(PROJECT)
    assert route.calls.last.request.url.params["id"] == f"eq.{PROJECT}"


async def test_async_client_sends_the_same_requests(keys: dict[str, str]) -> None:
    with respx.mock() as mock:
        get = mock.get(f"{REST}/projects").mock(
            side_effect=[
                httpx.Response(200, json=project_row()),
                httpx.Response(200, json=[project_row()]),
            ]
        )
        async with AsyncVidgenDB.for_user(URL, keys["anon"], keys["token"]) as db:
            project = await db.projects.get(PROJECT)
            page = await db.projects.list(limit=5)
    assert project.id == PROJECT
    assert get.calls[0].request.url.params["id"] == f"eq.{PROJECT}"
    assert get.calls[1].request.url.params["order"] == "created_at.desc,id.desc"
    assert page.next_cursor is None
