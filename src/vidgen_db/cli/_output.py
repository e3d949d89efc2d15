"""Plain-text output of the commands: aligned tables and field lists, one line per value."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

__all__ = ["cell", "one_line", "print_fields", "print_table"]


def one_line(text: object) -> str:
    """``text`` with its runs of whitespace (newlines included) as single spaces."""
    return " ".join(str(text).split())


def cell(value: object) -> str:
    """A value as table text: ``-`` for nothing, times in UTC to the second."""
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return one_line(value)


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()
) -> None:
    """Aligned columns, two spaces apart; the columns numbered in ``right`` (from 0) are
    right-aligned (numbers); the last column is never padded."""
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    last = len(headers) - 1
    for row in [list(headers), *cells]:
        out = []
        for i, text in enumerate(row):
            if i in right:
                out.append(text.rjust(widths[i]))
            elif i == last:
                out.append(text)
            else:
                out.append(text.ljust(widths[i]))
        print("  ".join(out).rstrip())


def print_fields(fields: Sequence[tuple[str, object]]) -> None:
    """``name  value`` lines, the names padded to the longest."""
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        print(f"{name:<{width}}  {cell(value)}")
