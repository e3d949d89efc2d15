"""LiveStack's requests to Supabase Auth's admin API (mocked: no live project here)."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import respx

from vidgen_db import ConfigurationError
from vidgen_db.local.gateway import decode_jwt
from vidgen_db.testing import LiveStack, make_api_key, new_jwt_secret

URL = "https://project-ref.supabase.co"


def test_from_env_needs_url_and_both_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VIDGEN_LIVE_SUPABASE_URL", "VIDGEN_LIVE_ANON_KEY", "VIDGEN_LIVE_SERVICE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("VIDGEN_LIVE_JWT_SECRET", raising=False)
    assert LiveStack.from_env() is None
    monkeypatch.setenv("VIDGEN_LIVE_SUPABASE_URL", URL + "/")
    monkeypatch.setenv("VIDGEN_LIVE_ANON_KEY", "anon")
    assert LiveStack.from_env() is None
    monkeypatch.setenv("VIDGEN_LIVE_SERVICE_KEY", "service")
    stack = LiveStack.from_env()
    assert stack is not None and stack.url == URL and not stack.can_sign_tokens
    with pytest.raises(ConfigurationError):
        stack.create_user("x@example.com")


@respx.mock
def test_users_are_made_and_removed_through_the_admin_api() -> None:
    secret = new_jwt_secret()
    service_key = make_api_key("service_role", secret)
    stack = LiveStack(URL, make_api_key("anon", secret), service_key, jwt_secret=secret)
    user_id = uuid.uuid4()
    created = respx.post(f"{URL}/auth/v1/admin/users").mock(
        return_value=httpx.Response(200, json={"id": str(user_id)})
    )
    deleted = respx.delete(f"{URL}/auth/v1/admin/users/{user_id}").mock(
        return_value=httpx.Response(200, json={})
    )
    got_id, token = stack.create_user("ada@example.com", name="Ada")
    assert got_id == user_id
    request = created.calls.last.request
    assert request.headers["apikey"] == service_key
    assert request.headers["authorization"] == f"Bearer {service_key}"
    assert json.loads(request.content) == {
        "email": "ada@example.com",
        "email_confirm": True,
        "user_metadata": {"name": "Ada"},
    }
    claims = decode_jwt(token, secret, audience="authenticated")
    assert (claims["sub"], claims["role"], claims["email"]) == (
        str(user_id),
        "authenticated",
        "ada@example.com",
    )
    with stack.user_client(token) as db:
        assert db.user_id == user_id
    stack.reset()
    assert deleted.called
    stack.reset()  # nothing left to delete
    assert deleted.call_count == 1
