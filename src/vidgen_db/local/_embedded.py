"""An embedded PostgreSQL server (the optional ``pgserver`` wheel) for local use and tests."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from ._extras import require_extra

__all__ = ["EmbeddedPostgres", "default_data_dir", "start_embedded", "temporary_embedded"]


def default_data_dir() -> Path:
    """The per-user data directory of the embedded server (``VIDGEN_DB_DATA_DIR`` overrides)."""
    override = os.environ.get("VIDGEN_DB_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("vidgen-db")) / "pgdata"


@dataclass
class EmbeddedPostgres:
    """A running embedded server; ``url`` connects as its superuser to the ``postgres`` database."""

    url: str
    data_dir: Path
    _server: Any

    def stop(self) -> None:
        """Stop the server unless another process still uses it."""
        self._server.cleanup()


def start_embedded(data_dir: Path | None = None, *, keep_running: bool = False) -> EmbeddedPostgres:
    """Start (or attach to) an embedded PostgreSQL 16 server whose data lives in ``data_dir``."""
    require_extra("embedded", "the embedded PostgreSQL (used when no database URL is given)")
    directory = data_dir or default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pgserver's platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI).
        warnings.simplefilter("ignore")
        import pgserver

        mode = None if keep_running else "stop"
        server = pgserver.get_server(directory, cleanup_mode=mode)  # type: ignore[attr-defined]
    return EmbeddedPostgres(url=str(server.get_uri()), data_dir=directory, _server=server)


@contextmanager
def temporary_embedded() -> Iterator[EmbeddedPostgres]:
    """An embedded server in a new temporary folder, stopped and deleted afterwards (tests,
    benchmarks, a throwaway local stack)."""
    # Not under another tool's data folder: the server's socket path must stay short.
    folder = Path(tempfile.mkdtemp(prefix="vidgen-db-pg-"))
    try:
        server = start_embedded(folder)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
