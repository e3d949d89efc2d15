"""``vidgen-db gen typescript`` and ``vidgen-db gen docs``: one file each, generated from
the catalog of a throwaway database with the migrations applied."""

from __future__ import annotations

import sys
from pathlib import Path

from ._docs import describe_docs_drift, render_docs
from ._output import default_output, read_schema_details, write_or_check
from ._ts_drift import describe_ts_drift
from ._typescript import render_typescript

__all__ = [
    "DEFAULT_DOCS",
    "DEFAULT_TYPESCRIPT",
    "generate_docs_command",
    "generate_typescript_command",
]

#: Where the generated files live in the repository.
DEFAULT_TYPESCRIPT = "typescript/src/database.ts"
DEFAULT_DOCS = "docs/schema.md"


def generate_typescript_command(
    server_url: str, output: Path | None, migrations_dir: Path | None, check: bool
) -> int:
    """Write (or with ``check``, verify) ``database.ts``; returns the exit status."""
    catalog, details = read_schema_details(server_url, migrations_dir)
    text, warnings = render_typescript(catalog, details)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return write_or_check(
        text,
        output or default_output(DEFAULT_TYPESCRIPT),
        check=check,
        command="gen typescript",
        describe=describe_ts_drift,
    )


def generate_docs_command(
    server_url: str, output: Path | None, migrations_dir: Path | None, check: bool
) -> int:
    """Write (or with ``check``, verify) the schema reference; returns the exit status."""
    catalog, details = read_schema_details(server_url, migrations_dir)
    return write_or_check(
        render_docs(catalog, details),
        output or default_output(DEFAULT_DOCS),
        check=check,
        command="gen docs",
        describe=describe_docs_drift,
    )
