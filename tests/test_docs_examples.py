"""The Python examples of README.md and docs/ type-check with ``mypy --strict``.

Each ```python block is a program of its own, unless its first line is
``# (continues the example above)``: then it is appended to the block before it, so a
walk-through can show one program a piece at a time. (The README's usage examples also run
against the local stack: tests/e2e/test_readme_examples.py.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTINUES = "# (continues the example above)"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def example_programs() -> dict[str, str]:
    """``<doc>_<n>`` -> the source of each example program of the docs."""
    programs: dict[str, str] = {}
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        stem = doc.stem.lower().replace("-", "_")
        current: str | None = None
        for block in _BLOCK.findall(doc.read_text(encoding="utf-8")):
            if block.startswith(CONTINUES):
                assert current is not None, f"{doc.name}: the first example cannot continue"
                programs[current] += "\n\n" + block
                continue
            current = f"{stem}_{len([k for k in programs if k.startswith(stem + '_')])}"
            programs[current] = block
    return programs


def test_the_examples_are_found() -> None:
    programs = example_programs()
    assert {"readme_0", "readme_1", "readme_2", "readme_3", "usage_0"} <= set(programs)
    assert all(CONTINUES not in source.split("\n", 1)[0] for source in programs.values())


def test_every_example_type_checks_with_mypy_strict(tmp_path: Path) -> None:
    for name, source in example_programs().items():
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
