"""Building clients: keys of the wrong kind are refused, secrets never shown."""

from __future__ import annotations

import uuid

import pytest

from jwts import anon_key, make_jwt, service_key, user_token
from vidgen_db import AsyncVidgenDB, ConfigurationError, VidgenDB
from vidgen_db._client import AnonDB, ServiceDB, UserDB

URL = "https://project.supabase.co"


@pytest.mark.parametrize("factory", [VidgenDB, AsyncVidgenDB])
def test_each_constructor_checks_its_key(factory: type) -> None:
    with pytest.raises(
        ConfigurationError, match=r"service_key must be a service-role .* but it is an anon"
    ):
        factory.service(URL, anon_key())
    with pytest.raises(
        ConfigurationError, match=r"anon_key must be an anon .* but it is a service-role"
    ):
        factory.for_user(URL, service_key(), user_token())
    with pytest.raises(
        ConfigurationError,
        match="access_token must be a user's access token, but it is a service-role",
    ):
        factory.for_user(URL, anon_key(), service_key())
    with pytest.raises(
        ConfigurationError, match=r"anon_key must be an anon .* but it is a user.s access token"
    ):
        factory.anonymous(URL, user_token())
    with pytest.raises(ConfigurationError, match="neither"):
        factory.service(URL, "not-a-key")


def test_new_style_api_keys_are_recognised() -> None:
    db = VidgenDB.service(URL, "sb_secret_" + "x" * 20)
    assert isinstance(db, ServiceDB)
    db.close()
    with pytest.raises(ConfigurationError, match="but it is an anon"):
        VidgenDB.service(URL, "sb_publishable_" + "x" * 20)


def test_user_client_knows_its_user_and_hides_secrets() -> None:
    user_id = uuid.uuid4()
    key, token = anon_key(), user_token(user_id)
    with VidgenDB.for_user(URL, key, token) as db:
        assert isinstance(db, UserDB)
        assert db.user_id == user_id
        text = repr(db) + str(db)
        assert key not in text and token not in text
        assert str(user_id) in text


def test_user_clients_share_the_anonymous_clients_pool() -> None:
    with VidgenDB.anonymous(URL, anon_key()) as visitor:
        assert isinstance(visitor, AnonDB)
        user = visitor.as_user(user_token())
        assert user._http is visitor._http
        user.close()  # does not close the shared pool
        assert not visitor._http.is_closed


@pytest.mark.parametrize("factory", [VidgenDB, AsyncVidgenDB])
def test_as_user_builds_what_the_constructor_builds(factory: type) -> None:
    """as_user assembles its client from the anonymous client's parts (it runs once per
    request): the same attributes, with values, as a user client built the long way, and
    a PostgREST client of its own that sends the user's token."""
    user_id = uuid.uuid4()
    key, token = anon_key(), user_token(user_id)
    visitor = factory.anonymous(URL, key)
    derived = visitor.as_user(f"Bearer {token}")
    built = type(derived)(URL, key, token, settings=visitor._settings, http_client=visitor._http)
    built._pool, built._router = visitor._pool, visitor._router
    assert type(derived).__name__.endswith("UserDB")
    assert vars(derived).keys() == vars(built).keys()
    for name, value in vars(built).items():
        if name != "_rest":
            assert getattr(derived, name) == value, name
    assert derived.user_id == user_id
    assert vars(derived._rest).keys() == vars(built._rest).keys()
    assert dict(derived._rest.headers) == dict(built._rest.headers)
    assert derived._rest.headers["authorization"] == f"Bearer {token}"
    assert derived._rest.session is visitor._http
    # The anonymous client still sends its own key, not the user's token.
    assert visitor._rest.headers["authorization"] == f"Bearer {key}"
    assert derived._rest.headers is not visitor._rest.headers


def test_token_claims_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="role 'authenticated'"):
        VidgenDB.for_user(URL, anon_key(), make_jwt({"role": "authenticated"}))  # no sub
    with pytest.raises(ConfigurationError, match="not a JWT"):
        VidgenDB.for_user(URL, anon_key(), "opaque-token")
    not_a_user = make_jwt({"role": "authenticated", "sub": "admin"})
    with pytest.raises(ConfigurationError, match="'sub' is not a user id"):
        VidgenDB.for_user(URL, anon_key(), not_a_user)
    with VidgenDB.anonymous(URL, anon_key()) as visitor, pytest.raises(ConfigurationError):
        visitor.as_user(not_a_user)


def test_bad_urls_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        VidgenDB.service("project.supabase.co", service_key())


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPABASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="SUPABASE_URL"):
        VidgenDB.from_env()
    monkeypatch.setenv("SUPABASE_URL", URL)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", service_key())
    monkeypatch.setenv("SUPABASE_ANON_KEY", anon_key())
    monkeypatch.setenv("VIDGEN_DB_TIMEOUT", "3.5")
    with VidgenDB.from_env() as db:
        assert isinstance(db, ServiceDB)
        assert db._http.timeout.read == 3.5
    with VidgenDB.from_env(access_token=user_token()) as db:
        assert isinstance(db, UserDB)


def test_from_supabase_reuses_url_and_key() -> None:
    from supabase import create_client

    client = create_client(URL, service_key())
    with VidgenDB.from_supabase(client) as db:
        assert isinstance(db, ServiceDB)
    anon_client = create_client(URL, anon_key())
    with VidgenDB.from_supabase(anon_client, access_token=user_token()) as db:
        assert isinstance(db, UserDB)
    with VidgenDB.from_supabase(anon_client) as db:
        assert isinstance(db, AnonDB)


async def test_from_supabase_async_client_brings_its_realtime() -> None:
    from supabase import acreate_client

    from vidgen_db import AsyncServiceDB

    client = await acreate_client(URL, service_key())
    async with AsyncVidgenDB.from_supabase(client) as db:
        assert isinstance(db, AsyncServiceDB)
        assert db.jobs._realtime is client.realtime
