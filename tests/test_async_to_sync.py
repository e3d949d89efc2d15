"""The sync code is generated from the async code and must be current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sync_twins_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "async_to_sync.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_async_module_has_a_marked_twin() -> None:
    sources = sorted((ROOT / "src" / "vidgen_db").rglob("*_async.py"))
    assert sources
    for source in sources:
        twin = source.with_name(source.name.removesuffix("_async.py") + ".py")
        assert twin.exists(), twin
        assert "do not edit" in twin.read_text().splitlines()[0]
        assert "async def" not in twin.read_text() and "await " not in twin.read_text()
