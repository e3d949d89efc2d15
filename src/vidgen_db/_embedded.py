"""An embedded PostgreSQL server (the optional ``pgserver`` wheel) for local use and tests."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from ._errors import ConfigurationError

__all__ = ["EmbeddedPostgres", "default_data_dir", "start_embedded"]


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
    directory = data_dir or default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pgserver's platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI).
        warnings.simplefilter("ignore")
        try:
            import pgserver
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ConfigurationError(
                "no database given and the embedded server is not installed: pass "
                "--database-url, set DATABASE_URL, or install the 'vidgen-db[embedded]' extra"
            ) from exc
        mode = None if keep_running else "stop"
        server = pgserver.get_server(directory, cleanup_mode=mode)  # type: ignore[attr-defined]
    return EmbeddedPostgres(url=str(server.get_uri()), data_dir=directory, _server=server)
