"""Fixtures: the service in front of the local stack of vidgen_db's pytest plugin
(``vidgen_stack``: PostgreSQL, the migrations and a PostgREST-compatible gateway), and
signed-up users to call it as.

The plugin's stack runs on an embedded PostgreSQL, or in a throwaway database on the
server ``--vidgen-server-url`` names; ``DATABASE_URL``, when set, is taken as that server.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.support import NewUser, User
from vidgen_db.testing import LocalStack
from vidgen_fastapi_example.main import create_app
from vidgen_fastapi_example.settings import Settings


def pytest_configure(config: pytest.Config) -> None:
    url = os.environ.get("DATABASE_URL")
    if url and not config.getoption("vidgen_server_url", None):
        config.option.vidgen_server_url = url


@pytest.fixture(scope="session")
def settings(vidgen_stack: LocalStack) -> Settings:
    return Settings(
        supabase_url=vidgen_stack.url,
        supabase_anon_key=SecretStr(vidgen_stack.anon_key),
        supabase_service_role_key=SecretStr(vidgen_stack.service_key),
        payment_webhook_secret=SecretStr(secrets.token_urlsafe(32)),
    )


@pytest.fixture(scope="session")
def api(settings: Settings) -> Iterator[TestClient]:
    """The service, its lifespan run: its clients are open until the session ends."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def new_user(vidgen_db_isolated: LocalStack) -> NewUser:
    """``new_user()``: a user signed up on an emptied stack (with the welcome credits)."""

    def make() -> User:
        email = f"user-{uuid.uuid4().hex[:10]}@example.com"
        user_id, token = vidgen_db_isolated.create_user(email)
        return User(user_id, token)

    return make
