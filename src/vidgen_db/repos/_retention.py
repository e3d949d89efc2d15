"""The arguments of the retention calls (``db.logs.prune``, ``db.workers.prune``): what the
SQL functions accept, refused before any request otherwise."""

from __future__ import annotations

from .._errors import InvalidArgumentError

__all__ = ["MAX_PRUNE_BATCH", "MAX_RETENTION_DAYS", "check_batch", "check_days"]

#: The longest retention period the SQL functions accept (100 years).
MAX_RETENTION_DAYS = 36500
#: The most rows one prune_job_logs call may delete.
MAX_PRUNE_BATCH = 1_000_000


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_days(value: int | None) -> int | None:
    """``older_than_days``: None (the database's setting) or 0 to 36500."""
    if value is not None and (not _is_int(value) or not 0 <= value <= MAX_RETENTION_DAYS):
        raise InvalidArgumentError(
            f"older_than_days must be an integer from 0 to {MAX_RETENTION_DAYS}, got {value!r}"
        )
    return value


def check_batch(name: str, value: int) -> int:
    """A row count: 1 to MAX_PRUNE_BATCH."""
    if not _is_int(value) or not 1 <= value <= MAX_PRUNE_BATCH:
        raise InvalidArgumentError(
            f"{name} must be an integer from 1 to {MAX_PRUNE_BATCH:,}, got {value!r}"
        )
    return value
