#!/usr/bin/env python3
"""Run vidgen_db's checks on a fresh machine with only Python installed.

Creates ./.venv (if missing), installs the package with its development extras, then
runs ruff, mypy --strict and pytest, then the frontend's TypeScript suite when node and npm
are installed (typescript/run_e2e.py; it runs npm ci itself). Arguments after the options
go to pytest.

    python3 scripts/test.py                      # everything, on an embedded PostgreSQL 16
    python3 scripts/test.py --database-url URL   # pytest against another server (superuser URL)
    python3 scripts/test.py --tests-only -k credits
    python3 scripts/test.py --lowest-deps        # the tests on the lowest versions pyproject allows

``--lowest-deps`` builds ./.venv-lowest with every direct dependency at its floor (uv's
``--resolution lowest-direct``), so the floors in pyproject.toml are known to hold.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LOWEST_VENV = ROOT / ".venv-lowest"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
LINTED = ("src", "tests", "benchmarks", "scripts", "tools", "examples")
#: Example applications, type-checked on their own (mypy's files are the package's).
EXAMPLES = ("examples/fastapi_app",)


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    printable = " ".join(str(c) for c in cmd)
    print(f"+ {printable}", flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def lowest_deps_python(python: Path) -> Path:
    """.venv-lowest's interpreter, with vidgen-db and every direct dependency at its floor."""
    lowest_bin = LOWEST_VENV / BIN.name
    uv = BIN / "uv"
    if not (lowest_bin / "python").exists():
        run(uv, "venv", "--quiet", "--python", python, LOWEST_VENV)
    run(
        uv, "pip", "install", "--quiet", "--python", lowest_bin / "python",
        "--resolution", "lowest-direct", "-e", ".[dev]",
    )  # fmt: skip
    return lowest_bin / "python"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="superuser URL of the PostgreSQL to test on")
    parser.add_argument("--tests-only", action="store_true", help="skip ruff and mypy")
    parser.add_argument("--no-install", action="store_true", help="use .venv as it is")
    parser.add_argument("--skip-typescript", action="store_true", help="skip the TypeScript suite")
    parser.add_argument(
        "--lowest-deps",
        action="store_true",
        help="run the tests in .venv-lowest, on the lowest dependency versions allowed",
    )
    args, pytest_args = parser.parse_known_args()

    if not (BIN / "python").exists():
        print(f"+ creating {VENV.name}", flush=True)
        venv.create(VENV, with_pip=True)
    python = BIN / "python"
    if not args.no_install:
        run(
            python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[dev]"
        )
    if args.lowest_deps:
        python = lowest_deps_python(python)
    elif not args.tests_only:
        run(python, "-m", "ruff", "check", *LINTED)
        run(python, "-m", "ruff", "format", "--check", *LINTED)
        run(python, "tools/async_to_sync.py", "--check")
        run(python, "-m", "mypy")
        run(python, "-m", "mypy", "--strict", *EXAMPLES)
    env = dict(os.environ)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    run(python, "-m", "pytest", "-q", *pytest_args, env=env)
    typescript_suite(python, env, skip=args.skip_typescript)


def typescript_suite(python: Path, env: dict[str, str], *, skip: bool) -> None:
    """The frontend's TypeScript suite (supabase-js against a local stack), if node is here."""
    if skip:
        print("SKIPPED: the TypeScript suite (--skip-typescript)", flush=True)
    elif shutil.which("node") is None or shutil.which("npm") is None:
        print(
            "SKIPPED: the TypeScript suite (typescript/): node and npm are not installed",
            flush=True,
        )
    else:
        run(python, "typescript/run_e2e.py", env=env)


if __name__ == "__main__":
    main()
