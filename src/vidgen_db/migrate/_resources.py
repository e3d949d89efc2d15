"""Where the SQL shipped with vidgen_db lives: in the wheel, or in a source checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["bootstrap_dir", "migrations_dir", "seed_file", "source_checkout_sql_dir", "sql_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def source_checkout_sql_dir() -> Path | None:
    """The repository's ``sql/`` folder when running from a source checkout, else None."""
    candidate = _PACKAGE_DIR.parent.parent / "sql"
    if (candidate / "migrations").is_dir() and (
        _PACKAGE_DIR.parent.parent / "pyproject.toml"
    ).exists():
        return candidate
    return None


def sql_dir() -> Path:
    """The SQL folder: ``vidgen_db/_sql`` in an installed wheel, ``sql/`` in a checkout."""
    packaged = _PACKAGE_DIR / "_sql"
    if (packaged / "migrations").is_dir():
        return packaged
    checkout = source_checkout_sql_dir()
    if checkout is not None:
        return checkout
    raise FileNotFoundError("vidgen_db's SQL files are missing from this installation")


def migrations_dir() -> Path:
    return sql_dir() / "migrations"


def bootstrap_dir() -> Path:
    return sql_dir() / "bootstrap"


def seed_file() -> Path:
    return sql_dir() / "seed.sql"
