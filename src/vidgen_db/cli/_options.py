"""What the command groups share: option parents, argument types, and the connections
they open (a database, or the data API with the service role)."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import ConfigurationError

if TYPE_CHECKING:
    from .._client import ServiceDB

__all__ = [
    "Parents",
    "Subparsers",
    "database_url",
    "int_arg",
    "migrations_dir",
    "open_database",
    "service_db",
    "uuid_arg",
]

if TYPE_CHECKING:
    #: What ``ArgumentParser.add_subparsers()`` returns: where a group adds its commands.
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction


class Parents:
    """The option groups commands take as argparse parents."""

    def __init__(self) -> None:
        #: ``--database-url``: the database a command works on, as it is.
        self.database = argparse.ArgumentParser(add_help=False)
        self.database.add_argument(
            "--database-url",
            help="URL of the PostgreSQL database to work on (default: DATABASE_URL, else the "
            "embedded PostgreSQL)",
        )
        #: ``--database-url`` of the commands that work in a throwaway database they create
        #: (and drop) on that server: the same option, another meaning, so another help.
        self.server = argparse.ArgumentParser(add_help=False)
        self.server.add_argument(
            "--database-url",
            help="superuser URL of the PostgreSQL server on which a throwaway database is "
            "created and dropped (default: DATABASE_URL, else the embedded PostgreSQL)",
        )
        #: ``--migrations-dir``: where the migration files are.
        self.migrations = argparse.ArgumentParser(add_help=False)
        self.migrations.add_argument(
            "--migrations-dir", help="folder of migration files (default: the packaged ones)"
        )
        #: ``--url`` and ``--service-key``: the data API, as the service role.
        self.service = argparse.ArgumentParser(add_help=False)
        self.service.add_argument("--url", help="the project's URL (default: SUPABASE_URL)")
        self.service.add_argument(
            "--service-key",
            metavar="KEY",
            help="the service-role key (default: SUPABASE_SERVICE_ROLE_KEY, which is safer: a "
            "key given here shows in the process list)",
        )


def uuid_arg(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a UUID: {text!r}") from None


def int_arg(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argument type: an integer from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be from {low} to {high}, got {value}")
        return value

    return parse


def database_url(args: argparse.Namespace) -> str | None:
    """``--database-url``, else ``DATABASE_URL``, else None."""
    url = getattr(args, "database_url", None) or os.environ.get("DATABASE_URL")
    return str(url) if url else None


def migrations_dir(args: argparse.Namespace) -> Path | None:
    folder = getattr(args, "migrations_dir", None)
    return Path(folder) if folder else None


@contextmanager
def open_database(args: argparse.Namespace) -> Iterator[str]:
    """The database URL to work on: ``--database-url``, else ``DATABASE_URL``, else the
    embedded PostgreSQL in the per-user data folder (started for the command)."""
    url = database_url(args)
    if url:
        yield url
        return
    from ..local import start_embedded

    server = start_embedded()
    print(f"using the embedded PostgreSQL: {server.url}", file=sys.stderr)
    try:
        yield server.url
    finally:
        server.stop()


def service_db(args: argparse.Namespace) -> ServiceDB:
    """The service client: ``--url``/``--service-key``, else the environment."""
    from .._client import VidgenDB
    from .._settings import SupabaseSettings

    env = SupabaseSettings()
    url = args.url or env.url
    key = args.service_key or (
        env.service_role_key.get_secret_value() if env.service_role_key else None
    )
    if not url:
        raise ConfigurationError("SUPABASE_URL is not set (or pass --url)")
    if not key:
        raise ConfigurationError(
            "no service-role key: set SUPABASE_SERVICE_ROLE_KEY (or pass --service-key)"
        )
    return VidgenDB.service(url, key)
