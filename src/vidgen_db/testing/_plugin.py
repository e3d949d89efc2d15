"""The pytest plugin (entry point ``pytest11: vidgen_db``): a local stack for test suites.

Fixtures:

* ``vidgen_stack`` (session): a started :class:`~vidgen_db.testing.LocalStack`, on an
  embedded PostgreSQL 16, or in a throwaway database it creates (and drops) on the server
  named by ``--vidgen-server-url`` (a superuser URL; ``--vidgen-database-url`` is its
  deprecated old name).
* ``vidgen_db_isolated``: the same stack, emptied before the test (``reset()``).
* ``vidgen_service``: a service-role client of an emptied stack.
* ``vidgen_user_factory``: ``make_user(email=None, *, name=None)`` signs a user up (welcome
  credits included) and returns a user client (``.user_id``) on an emptied stack.

Clients the fixtures make are closed after the test. Imports are lazy so the plugin costs
nothing to test suites that do not use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .._client import ServiceDB, UserDB
    from ..local import LocalStack

__all__ = [
    "UserFactory",
    "pytest_addoption",
    "pytest_configure",
    "vidgen_db_isolated",
    "vidgen_service",
    "vidgen_stack",
    "vidgen_user_factory",
]

UserFactory = Callable[..., "UserDB"]


#: The option's old name: it named a server, not a database the stack would serve.
_DEPRECATED_OPTION = "--vidgen-database-url"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vidgen_db", "vidgen_db local stack")
    group.addoption(
        "--vidgen-server-url",
        default=None,
        help="superuser URL of a PostgreSQL 15+ server on which the vidgen_stack fixture "
        "creates (and drops) a throwaway database; the server's own databases are never "
        "touched (default: an embedded PostgreSQL 16)",
    )
    group.addoption(
        _DEPRECATED_OPTION,
        dest="vidgen_database_url",
        default=None,
        help="deprecated: the old name of --vidgen-server-url",
    )


def pytest_configure(config: pytest.Config) -> None:
    old = config.getoption("vidgen_database_url", None)
    if old is None:
        return
    new = config.getoption("vidgen_server_url", None)
    if new is not None and new != old:
        raise pytest.UsageError(
            f"{_DEPRECATED_OPTION} and --vidgen-server-url name different servers: "
            "pass --vidgen-server-url alone"
        )
    config.issue_config_time_warning(
        pytest.PytestDeprecationWarning(
            f"{_DEPRECATED_OPTION} is deprecated: use --vidgen-server-url (the server on "
            "which the vidgen_stack fixture creates its throwaway database)"
        ),
        stacklevel=2,
    )


def server_url(config: pytest.Config) -> str | None:
    """The server of ``--vidgen-server-url`` (or its deprecated old name), if any."""
    url = config.getoption("vidgen_server_url", None) or config.getoption(
        "vidgen_database_url", None
    )
    return str(url) if url else None


@pytest.fixture(scope="session")
def vidgen_stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """The local stack (PostgreSQL + migrations + gateway), started once per session, in a
    throwaway database of ``--vidgen-server-url``'s server (else an embedded PostgreSQL)."""
    from ..local import LocalStack

    with LocalStack(server_url=server_url(request.config)) as stack:
        yield stack


@pytest.fixture
def vidgen_db_isolated(vidgen_stack: LocalStack) -> LocalStack:
    """The local stack with every user and row deleted before the test."""
    vidgen_stack.reset()
    return vidgen_stack


@pytest.fixture
def vidgen_service(vidgen_db_isolated: LocalStack) -> Iterator[ServiceDB]:
    """A service-role client (RLS bypassed) of an emptied stack."""
    with vidgen_db_isolated.service_client() as db:
        yield db


@pytest.fixture
def vidgen_user_factory(vidgen_db_isolated: LocalStack) -> Iterator[UserFactory]:
    """``make_user(email=None, *, name=None) -> UserDB``: a new user's client."""
    clients: list[UserDB] = []

    def make_user(email: str | None = None, *, name: str | None = None) -> UserDB:
        address = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        _, token = vidgen_db_isolated.create_user(address, name=name)
        client = vidgen_db_isolated.user_client(token)
        clients.append(client)
        return client

    yield make_user
    for client in clients:
        client.close()
