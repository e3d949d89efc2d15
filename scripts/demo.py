#!/usr/bin/env python3
"""Run the vidgen_db demo on a fresh machine with only Python installed.

Creates ./.venv (if missing), installs the package with its development extras, then
runs the demo: an embedded PostgreSQL 16 with vidgen's migrations behind the local
Supabase-style REST gateway, and the product walked through the SDK over HTTP (a
visitor's draft, sign-up, a job through every stage, a failed job refunded, RLS).

    python3 scripts/demo.py                      # on an embedded PostgreSQL 16
    python3 scripts/demo.py --database-url URL   # a throwaway database on that server
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*cmd: str | Path) -> int:
    printable = " ".join(str(c) for c in cmd)
    print(f"+ {printable}", flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", help="superuser URL of a PostgreSQL 15+ server to run the demo on"
    )
    parser.add_argument("--no-install", action="store_true", help="use .venv as it is")
    args = parser.parse_args()

    if not (BIN / "python").exists():
        print(f"+ creating {VENV.name}", flush=True)
        venv.create(VENV, with_pip=True)
    python = BIN / "python"
    if not args.no_install:
        code = run(
            python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[dev]"
        )
        if code != 0:
            sys.exit(code)
    demo = ["-m", "vidgen_db", "demo"]
    if args.database_url:
        demo += ["--database-url", args.database_url]
    sys.exit(run(python, *demo))


if __name__ == "__main__":
    main()
