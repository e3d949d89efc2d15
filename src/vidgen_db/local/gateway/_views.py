"""Where view columns come from, read from the views' query trees (``pg_rewrite``).

PostgREST infers relationships of views from the foreign keys of their base tables; this
module does the same: each top-level target entry of a view's ``_RETURN`` rule records the
relation and column it was selected from (``resorigtbl``/``resorigcol``).
"""

from __future__ import annotations

import re
from typing import Any

from psycopg import AsyncConnection

__all__ = ["load_view_origins", "top_target_entries"]

_FIELD_RE = {
    "resname": re.compile(r":resname ((?:\\.|[^\s\\])+)"),
    "resorigtbl": re.compile(r":resorigtbl (\d+)"),
    "resorigcol": re.compile(r":resorigcol (\d+)"),
    "resjunk": re.compile(r":resjunk (\w+)"),
}


def _skip_quoted(tree: str, i: int) -> int:
    """Index just past the string literal starting at ``tree[i] == '"'``."""
    i += 1
    while i < len(tree):
        if tree[i] == "\\":
            i += 2
            continue
        if tree[i] == '"':
            return i + 1
        i += 1
    return i


def _shallow(entry: str) -> str:
    """The text of a node with every nested node removed."""
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(entry):
        ch = entry[i]
        if ch == "\\":
            if depth <= 1:
                out.append(entry[i : i + 2])
            i += 2
            continue
        if ch == '"':
            end = _skip_quoted(entry, i)
            if depth <= 1:
                out.append(entry[i:end])
            i = end
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if depth <= 1 and ch not in "{}":
            out.append(ch)
        i += 1
    return "".join(out)


def _unescape(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token)


def top_target_entries(tree: str) -> list[tuple[str, int, int]]:
    """(column name, origin relation oid, origin attnum) of a view query's output columns."""
    depth = 0
    i = 0
    start = -1
    while i < len(tree):
        ch = tree[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            i = _skip_quoted(tree, i)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == ":" and depth == 1 and tree.startswith(":targetList ", i):
            start = i + len(":targetList ")
            break
        i += 1
    if start < 0:
        return []
    entries: list[tuple[str, int, int]] = []
    i = start
    depth = 0
    entry_start = -1
    while i < len(tree):
        ch = tree[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            i = _skip_quoted(tree, i)
            continue
        if ch == "{":
            if depth == 0:
                entry_start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and entry_start >= 0:
                entries.append(_entry(tree[entry_start : i + 1]))
        elif ch == ")" and depth == 0:
            break
        i += 1
    return [e for e in entries if e[0]]


def _entry(text: str) -> tuple[str, int, int]:
    flat = _shallow(text)
    found = {k: rx.search(flat) for k, rx in _FIELD_RE.items()}
    if not flat.startswith("TARGETENTRY") or any(v is None for v in found.values()):
        return ("", 0, 0)
    name, tbl, col, junk = (m.group(1) for m in found.values() if m is not None)
    if junk == "true" or name == "<>":
        return ("", 0, 0)
    return (_unescape(name), int(tbl), int(col))


_VIEWS_SQL = """
select c.oid, n.nspname, c.relname, r.ev_action::text
from pg_rewrite r
join pg_class c on c.oid = r.ev_class
join pg_namespace n on n.oid = c.relnamespace
where r.rulename = '_RETURN' and c.relkind in ('v', 'm')
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
"""

_ATTRS_SQL = """
select c.oid, n.nspname, c.relname, a.attnum, a.attname
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
where c.oid = any(%s)
"""

Origin = tuple[str, str, str]
"""(schema, relation, column)."""


async def load_view_origins(conn: AsyncConnection[Any]) -> dict[tuple[str, str], dict[str, Origin]]:
    """For every view: its column names mapped to the base table column they show, if any."""
    cur = await conn.execute(_VIEWS_SQL)
    views = await cur.fetchall()
    raw: dict[int, tuple[str, str, list[tuple[str, int, int]]]] = {}
    oids: set[int] = set()
    for oid, schema, name, tree in views:
        entries = top_target_entries(tree or "")
        raw[oid] = (schema, name, entries)
        oids.update(t for _, t, _ in entries if t)
    if not raw:
        return {}
    cur = await conn.execute(_ATTRS_SQL, [sorted(oids | set(raw))])
    names: dict[int, tuple[str, str]] = {}
    attnames: dict[tuple[int, int], str] = {}
    for oid, schema, rel, attnum, attname in await cur.fetchall():
        names[oid] = (schema, rel)
        attnames[(oid, attnum)] = attname

    def resolve(oid: int, column: str, depth: int) -> Origin | None:
        if oid not in raw:
            rel = names.get(oid)
            return (rel[0], rel[1], column) if rel else None
        if depth > 16:
            return None
        for name, tbl, col in raw[oid][2]:
            if name == column and tbl:
                origin_col = attnames.get((tbl, col))
                return resolve(tbl, origin_col, depth + 1) if origin_col else None
        return None

    out: dict[tuple[str, str], dict[str, Origin]] = {}
    for oid, (schema, name, entries) in raw.items():
        mapping: dict[str, Origin] = {}
        for column, _tbl, _col in entries:
            origin = resolve(oid, column, 0)
            if origin is not None and column not in mapping:
                mapping[column] = origin
        out[(schema, name)] = mapping
    return out
