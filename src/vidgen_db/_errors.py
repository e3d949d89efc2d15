"""The exceptions vidgen_db raises.

Every error the SDK raises derives from one root, so callers can catch it in one place::

    VidgenDBError
     ├── ConfigurationError     bad settings: missing database URL, unusable option
     └── MigrationError         a migration could not be applied or the history disagrees
          ├── MigrationEditedError   an applied migration file was changed afterwards
          └── MigrationFailedError   a statement failed; the database is left as it was
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "MigrationEditedError",
    "MigrationError",
    "MigrationFailedError",
    "VidgenDBError",
]


class VidgenDBError(Exception):
    """Root of every error raised by vidgen_db."""


class ConfigurationError(VidgenDBError):
    """The SDK was configured in a way it cannot work with."""


class MigrationError(VidgenDBError):
    """A migration could not be applied, or the recorded history disagrees with the files."""


class MigrationEditedError(MigrationError):
    """A migration file was changed after it had been applied."""

    def __init__(self, version: str, filename: str) -> None:
        self.version = version
        self.filename = filename
        super().__init__(
            f"migration {filename} was edited after it was applied (version {version}); "
            "never change an applied migration: add a new one with 'vidgen-db new NAME'"
        )


class MigrationFailedError(MigrationError):
    """A statement of a migration failed; its transaction was rolled back."""

    def __init__(
        self, filename: str, index: int, statement: str, sqlstate: str | None, message: str
    ) -> None:
        self.filename = filename
        self.statement_index = index
        self.statement = statement
        self.sqlstate = sqlstate
        preview = " ".join(statement.split())
        if len(preview) > 200:
            preview = preview[:197] + "..."
        super().__init__(
            f"migration {filename} failed at statement {index + 1} "
            f"[{sqlstate or 'no SQLSTATE'}] {message.strip()}\n  statement: {preview}\n"
            "  the migration was rolled back; the database is as it was before it"
        )
