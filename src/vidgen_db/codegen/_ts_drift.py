"""Name what differs between two versions of ``database.ts`` (``gen typescript --check``).

Both texts are read back as an outline: the path of every entry of the ``Database`` type
and of ``Constants`` (``public.Tables.projects.Row.title``) with its type or value. This
reads the generator's own layout (one entry per line, nested objects indented), so a
difference is named by table and column, as ``gen models --check`` does.
"""

from __future__ import annotations

import re

__all__ = ["describe_ts_drift", "outline"]

_BLOCKS = {"export type Database = {": "", "export const Constants = {": "Constants"}
_ENTRY = re.compile(
    r"^(?P<key>\"[^\"]*\"|[\w$]+|\[_ in never\])(?P<optional>\??):\s*(?P<value>.*)$"
)


def outline(text: str) -> tuple[dict[str, str], list[str]]:
    """The entries of the ``Database`` and ``Constants`` blocks (path -> value), and the
    other lines of the file (the header and the helper types)."""
    entries: dict[str, str] = {}
    others: list[str] = []
    path: list[str] = []
    counters: list[int] = []
    base = 0
    unions: list[int] = []  # path lengths of open unions (an overloaded function)
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not inside:
            if line in _BLOCKS:
                inside = True
                path = [_BLOCKS[line]] if _BLOCKS[line] else []
                base = len(path)
                counters = [0]
            else:
                others.append(raw)
            continue
        if not line or line.startswith(("/**", "//")):
            continue
        if unions and unions[-1] == len(path) and line != "| {":
            unions.pop()  # the end of an overloaded function's alternatives
            path.pop()
            counters.pop()
        if line[0] in "}]":
            if len(path) == base:  # the block's own closing brace
                inside = False
                continue
            suffix = line[1:].rstrip(",").strip()
            if suffix:
                closed = ".".join(path)
                entries[closed] = f"{entries[closed]}{'' if suffix[0] == '[' else ' '}{suffix}"
            path.pop()
            counters.pop()
            continue
        if line in ("{", "| {"):
            index = counters[-1]
            counters[-1] += 1
            path.append(f"[{index}]")
            counters.append(0)
            entries[".".join(path)] = "{ … }"
            continue
        match = _ENTRY.match(line)
        if match is None:
            entries[".".join([*path, line])] = ""
            continue
        key = match["key"]
        value = match["value"].rstrip(",").strip()
        opens = value in ("{", "[")
        if opens:
            value = "{ … }" if value == "{" else "[ … ]"
        if match["optional"]:
            value += " (optional)"
        if opens or not value:
            path.append(key)
            counters.append(0)
            entries[".".join(path)] = value or "overloaded"
            if not value:
                unions.append(len(path))
        else:
            entries[".".join([*path, key])] = value
    return entries, others


def _label(path: str) -> str:
    return path.replace(".[", "[")


def describe_ts_drift(schema_text: str, file_text: str) -> list[str]:
    """What differs, from the schema's point of view: entries added, removed or changed."""
    new, new_other = outline(schema_text)
    old, old_other = outline(file_text)
    problems: list[str] = []
    for path in new:
        if path not in old:
            problems.append(f"{_label(path)}: in the schema but not in database.ts")
    for path in old:
        if path not in new:
            problems.append(f"{_label(path)}: in database.ts but not in the schema")
    for path in new:
        if path in old and new[path] != old[path]:
            problems.append(
                f"{_label(path)}: is `{new[path]}` in the schema but `{old[path]}` in database.ts"
            )
    if new_other != old_other:
        problems.append(
            "database.ts: the header or the helper types differ from the generated text"
        )
    return problems
