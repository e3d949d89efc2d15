"""Shared fixtures: a real PostgreSQL server and throwaway databases on it.

The server is the embedded PostgreSQL 16 (pgserver) unless ``DATABASE_URL`` or
``--database-url`` names another; that URL must connect as a superuser (tests create
databases and switch roles the way PostgREST does).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from vidgen_db._dsn import with_dbname


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-url",
        default=None,
        help="superuser URL of the PostgreSQL server to test on (default: DATABASE_URL, "
        "else an embedded PostgreSQL 16)",
    )


@pytest.fixture(scope="session")
def admin_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A superuser connection string to the server under test."""
    url = request.config.getoption("--database-url") or os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from vidgen_db._embedded import start_embedded

    # Not pytest's tmp_path: its rotation of old run folders may delete a live data folder
    # when several pytest sessions run at once.
    data_dir = Path(tempfile.mkdtemp(prefix="vidgen-db-test-pg-"))
    server = start_embedded(data_dir)
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server_version(admin_url: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.info.server_version


MakeDatabase = Callable[..., str]


@pytest.fixture(scope="session")
def make_database(admin_url: str) -> Iterator[MakeDatabase]:
    """A factory of new, empty databases (dropped at the end of the session).

    ``make_database()`` returns the URL of a fresh database; ``make_database(template=name)``
    copies an existing one.
    """
    created: list[str] = []

    def factory(template: str | None = None) -> str:
        name = f"vidgen_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            sql = f'CREATE DATABASE "{name}"'
            if template:
                sql += f' TEMPLATE "{template}"'
            conn.execute(sql)
        created.append(name)
        return with_dbname(admin_url, name)

    yield factory
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_template(make_database: MakeDatabase) -> str:
    """The name of a database with every migration applied, to copy per test or module."""
    from psycopg.conninfo import conninfo_to_dict

    from vidgen_db._migrate import Migrator

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
