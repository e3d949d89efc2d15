"""The package as users get it: public names, the wheel's contents, the console script."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import vidgen_db

ROOT = Path(__file__).resolve().parent.parent


def test_public_api_is_pinned() -> None:
    assert sorted(vidgen_db.__all__) == sorted(
        [
            "APIError",
            "ActiveJobError",
            "AnonDB",
            "AsyncAnonDB",
            "AsyncRunningStep",
            "AsyncServiceDB",
            "AsyncUserDB",
            "AsyncVidgenDB",
            "AuthenticationError",
            "BadRequestError",
            "CheckViolationError",
            "ClientSettings",
            "ConfigurationError",
            "ConflictError",
            "CreditStateError",
            "Cursor",
            "ForeignKeyViolationError",
            "IdempotencyKeyReusedError",
            "IllegalJobTransitionError",
            "InsufficientCreditsError",
            "InvalidArgumentError",
            "JobCancelledError",
            "LeaseLostError",
            "MigrationEditedError",
            "MigrationError",
            "MigrationFailedError",
            "MissingExtraError",
            "NetworkError",
            "NotFoundError",
            "Page",
            "PermissionDeniedError",
            "RateLimitError",
            "RequestTimeoutError",
            "RetryPolicy",
            "RunningStep",
            "SerializationFailureError",
            "ServerError",
            "ServiceDB",
            "ServiceUnavailableError",
            "SupabaseSettings",
            "TransientError",
            "UniqueViolationError",
            "UnknownWorkerError",
            "UserDB",
            "VidgenDB",
            "VidgenDBError",
            "WatchTimeoutError",
            "__version__",
            "retry_options",
        ]
    )
    for name in vidgen_db.__all__:
        assert hasattr(vidgen_db, name)


def test_errors_share_one_root() -> None:
    for name in vidgen_db.__all__:
        obj = getattr(vidgen_db, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, vidgen_db.VidgenDBError)


def test_wheel_ships_the_sql_and_py_typed(tmp_path: Path) -> None:
    from hatchling.build import build_wheel

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        name = build_wheel(str(tmp_path))
    finally:
        os.chdir(cwd)
    with zipfile.ZipFile(tmp_path / name) as wheel:
        names = set(wheel.namelist())
    migrations = sorted(p.name for p in (ROOT / "sql" / "migrations").glob("*.sql"))
    assert migrations
    for migration in migrations:
        assert f"vidgen_db/_sql/migrations/{migration}" in names
    assert "vidgen_db/_sql/bootstrap/00_supabase_compat.sql" in names
    assert "vidgen_db/_sql/seed.sql" in names
    assert "vidgen_db/py.typed" in names
    assert not any(n.startswith("tests/") for n in names)


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vidgen_db", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("migrate", "status", "new", "reset", "seed"):
        assert command in result.stdout
