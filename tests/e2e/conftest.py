"""End-to-end fixtures: the SDK over real HTTP, through the gateway, to real PostgreSQL.

Locally the stack is :class:`vidgen_db.testing.LocalStack` serving a copy of this suite's
migrated template database (on the embedded server, or ``DATABASE_URL`` /
``--database-url``). With ``VIDGEN_LIVE_SUPABASE_URL``, ``VIDGEN_LIVE_ANON_KEY`` and
``VIDGEN_LIVE_SERVICE_KEY`` set, the same tests run against that Supabase project instead;
tests that need users' tokens also need ``VIDGEN_LIVE_JWT_SECRET`` (else they skip), and
local-only tests skip. Every test makes its own users, so tests never share rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from uuid import UUID

import pytest

from vidgen_db import AnonDB, ServiceDB, UserDB
from vidgen_db.testing import LiveStack, LocalStack, Stack

NewUser = Callable[..., tuple[UUID, str]]


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    live = LiveStack.from_env()
    if live is not None:
        try:
            yield live
        finally:
            live.reset()
        return
    make_database = request.getfixturevalue("make_database")
    template = request.getfixturevalue("migrated_template")
    url = make_database(template=template)
    with LocalStack(database_url=url, migrate=False) as local:
        yield local


@pytest.fixture(scope="session")
def local_stack(stack: Stack) -> LocalStack:
    """The stack, for tests that only make sense locally (skipped in live mode)."""
    if not isinstance(stack, LocalStack):
        pytest.skip("local stack only")
    return stack


@pytest.fixture(scope="session")
def new_user(stack: Stack) -> NewUser:
    """``new_user(name=None) -> (user_id, access_token)``: a freshly signed-up user."""

    def make(name: str | None = None) -> tuple[UUID, str]:
        if isinstance(stack, LiveStack) and not stack.can_sign_tokens:
            pytest.skip("live mode without VIDGEN_LIVE_JWT_SECRET: cannot sign user tokens")
        email = f"e2e-{uuid.uuid4().hex[:12]}@example.com"
        return stack.create_user(email, name=name)

    return make


@pytest.fixture(scope="session")
def service(stack: Stack) -> Iterator[ServiceDB]:
    with stack.service_client() as db:
        yield db


@pytest.fixture(scope="session")
def anon(stack: Stack) -> Iterator[AnonDB]:
    with stack.anon_client() as db:
        yield db


@pytest.fixture
def user_factory(stack: Stack, new_user: NewUser) -> Iterator[Callable[..., UserDB]]:
    """``make(name=None) -> UserDB``: a new user's client, closed after the test."""
    clients: list[UserDB] = []

    def make(name: str | None = None) -> UserDB:
        _, token = new_user(name)
        client = stack.user_client(token)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
