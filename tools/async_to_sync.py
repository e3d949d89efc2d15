#!/usr/bin/env python3
"""Generate vidgen_db's sync code from its async code: async is the single source.

Every ``src/vidgen_db/**/*_async.py`` is the source of a twin without the suffix
(``_client_async.py`` -> ``_client.py``), written by renaming (``AsyncVidgenDB`` ->
``VidgenDB``, ``httpx.AsyncClient`` -> ``httpx.Client``, ...) and dropping
``async``/``await``, then formatted with ruff. The twins are marked "do not edit".

    python tools/async_to_sync.py            # write the sync twins
    python tools/async_to_sync.py --check    # exit 1, naming the stale files, if any differ
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "vidgen_db"

#: Names whose sync twin is not simply the name without "Async" (applied first).
SPECIAL = {
    "AsyncPostgrestClient": "SyncPostgrestClient",
    "AsyncSelectRequestBuilder": "SyncSelectRequestBuilder",
    "AsyncRequestBuilder": "SyncRequestBuilder",
    "AsyncRPCFilterRequestBuilder": "SyncRPCFilterRequestBuilder",
    "AsyncByteStream": "SyncByteStream",
    "handle_async_request": "handle_request",
    "create_async_http_client": "create_http_client",
    "pooled_async_transport": "pooled_transport",
    "asynccontextmanager": "contextmanager",
    "AbstractAsyncContextManager": "AbstractContextManager",
    "StopAsyncIteration": "StopIteration",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "aclose": "close",
    "aread": "read",
    "aiter": "iter",
    "anext": "next",
    "asyncio.sleep": "time.sleep",
    "asyncio.get_running_loop().time": "time.monotonic",
    # The worker runner's concurrency: asyncio tasks in async code, threads in sync code.
    "_aio": "_threads",
}

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\basync def\b"), "def"),
    (re.compile(r"\basync with\b"), "with"),
    (re.compile(r"\basync for\b"), "for"),
    (re.compile(r"\bawait\s+"), ""),
    # What is awaited in async code is the value itself in sync code.
    (re.compile(r"\bAwaitable\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"), r"\1"),
    *((re.compile(rf"(?<!\w){re.escape(old)}\b"), new) for old, new in SPECIAL.items()),
    (re.compile(r"\bimport asyncio\b"), "import time"),
    (re.compile(r"\bAsync([A-Z]\w*)"), r"\1"),
    (re.compile(r"\b(\w+)_async\b"), r"\1"),
    (re.compile(r"\basync_(\w+)"), r"sync_\1"),
]


def header(source: Path) -> str:
    rel = source.relative_to(ROOT).as_posix()
    return (
        f"# Generated from {rel} by tools/async_to_sync.py: do not edit.\n"
        "# Change the async source and run `python tools/async_to_sync.py`.\n"
    )


def transform(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def ruff(text: str, path: Path) -> str:
    fixed = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--fix-only",
            "--select",
            "I,F401",
            "--stdin-filename",
            str(path),
            "-",
        ],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    return subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
        input=fixed,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout


def twins() -> list[tuple[Path, Path]]:
    return [
        (source, source.with_name(source.name.removesuffix("_async.py") + ".py"))
        for source in sorted(PACKAGE.rglob("*_async.py"))
    ]


def generate(source: Path, target: Path) -> str:
    return ruff(header(source) + transform(source.read_text(encoding="utf-8")), target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; report stale twins")
    args = parser.parse_args()
    stale = []
    for source, target in twins():
        text = generate(source, target)
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if text == current:
            continue
        if args.check:
            stale.append(target)
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), str(target), "generated", lineterm="", n=1
            )
            print("\n".join(list(diff)[:40]))
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        print(f"stale sync code: {names}: run `python tools/async_to_sync.py`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
