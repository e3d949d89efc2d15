"""Shared fixtures: a real PostgreSQL server and throwaway databases on it.

The server is the embedded PostgreSQL 16 (pgserver) unless ``DATABASE_URL`` or
``--database-url`` names another; that URL must connect as a superuser (tests create
databases and switch roles the way PostgREST does).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

import psycopg
import pytest

from vidgen_db.migrate import throwaway_database


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-url",
        default=None,
        help="superuser URL of the PostgreSQL server to test on (default: DATABASE_URL, "
        "else an embedded PostgreSQL 16)",
    )


def _configured_url(config: pytest.Config) -> str | None:
    """The server the run was pointed at, if any (else the embedded one is started)."""
    url: str | None = config.getoption("--database-url") or os.environ.get("DATABASE_URL")
    return url


@pytest.fixture(scope="session")
def admin_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A superuser connection string to the server under test."""
    url = _configured_url(request.config)
    if url:
        yield url
        return
    from vidgen_db.local import temporary_embedded

    # Not in pytest's tmp_path: its rotation of old run folders may delete a live data
    # folder when several pytest sessions run at once.
    with temporary_embedded() as server:
        # A server thrown away with the session need not survive a power cut: no fsync.
        # (Without this, CREATE DATABASE and the checkpoint at shutdown wait on the disk for
        # every database the session made.) A restart, a killed backend: unchanged.
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET fsync = off")
            conn.execute("ALTER SYSTEM SET full_page_writes = off")
            conn.execute("SELECT pg_reload_conf()")
        yield server.url


@pytest.fixture(scope="session")
def server_version(admin_url: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.info.server_version


MakeDatabase = Callable[..., str]


@pytest.fixture(scope="session")
def make_database(admin_url: str, request: pytest.FixtureRequest) -> Iterator[MakeDatabase]:
    """A factory of new, empty databases (dropped at the end of the session, unless the
    server is the session's own embedded one: it goes with all of them, and hundreds of
    DROP DATABASE would take half a minute).

    ``make_database()`` returns the URL of a fresh database; ``make_database(template=name)``
    copies an existing one.
    """
    drop = bool(_configured_url(request.config))
    with contextlib.ExitStack() as databases:

        def factory(template: str | None = None) -> str:
            return databases.enter_context(
                throwaway_database(admin_url, prefix="vidgen_test", template=template, drop=drop)
            )

        yield factory


@pytest.fixture(scope="session")
def migrated_template(make_database: MakeDatabase) -> str:
    """The name of a database with every migration applied, to copy per test or module."""
    from psycopg.conninfo import conninfo_to_dict

    from vidgen_db.migrate import Migrator

    url = make_database()
    Migrator(url).migrate()
    return str(conninfo_to_dict(url)["dbname"])


@pytest.fixture
def migrated_url(make_database: MakeDatabase, migrated_template: str) -> str:
    """A fresh, fully migrated database for one test."""
    return make_database(template=migrated_template)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the shared repository contract tests (repo_contract_tests.py) over the CASES and
    INVALID tables of the module that imports them."""
    for argument, table in (("contract_case", "CASES"), ("invalid_case", "INVALID")):
        if argument in metafunc.fixturenames:
            cases = getattr(metafunc.module, table)
            metafunc.parametrize(argument, cases, ids=[case.id for case in cases])
