"""SQL of writes and calls: INSERT/upsert, UPDATE, DELETE, RETURNING, function calls."""

from __future__ import annotations

from typing import Literal

from ._schema_cache import Function, Relation
from ._sql import RESPONSE_GUCS, BodyMode, Builder, ReadNode, body_sql, ident, qualified, type_sql
from ._sql_filter import condition_sql

__all__ = [
    "Conflict",
    "delete_sql",
    "insert_sql",
    "returning_sql",
    "rpc_call_sql",
    "update_sql",
    "wrap_mutation",
]

Conflict = tuple[Literal["merge", "ignore"], list[str]]
"""An upsert: its resolution and the conflict target columns."""

_INSERTED = "nullif(current_setting('pgrst.inserted', true), '')::int"


def wrap_mutation(mutation: str, read: str | None, mode: BodyMode) -> str:
    """``WITH pgrst_source AS (mutation) SELECT page_total, body, inserted, response GUCs``."""
    source = f"WITH pgrst_source AS ({mutation}) SELECT count(*)::bigint"
    if read is None:
        return f"{source}, NULL::text, {_INSERTED}, {RESPONSE_GUCS} FROM pgrst_source"
    body = body_sql(mode)
    return f"{source}, {body}, {_INSERTED}, {RESPONSE_GUCS} FROM ({read}) AS {ident('pgrst_t')}"


def _count_inserted(delta: int) -> str:
    """A predicate that is always true and adds ``delta`` to the ``pgrst.inserted`` setting."""
    total = f"(coalesce({_INSERTED}, 0) + {int(delta)})::text"
    return f"set_config('pgrst.inserted', {total}, true) IS NOT NULL"


def returning_sql(alias: str, kind: Literal["all", "none"] | tuple[str, ...]) -> str:
    """``RETURNING alias.*``, ``RETURNING 1`` or the named columns."""
    if kind == "all":
        return f" RETURNING {ident(alias)}.*"
    if kind == "none":
        return " RETURNING 1"
    return " RETURNING " + ", ".join(f"{ident(alias)}.{ident(c)}" for c in kind)


def _missing_default_rows(
    b: Builder,
    relation: Relation,
    body_param: str,
    is_array: bool,
    columns: list[str],
    row_keys: list[set[str]],
) -> str:
    """``VALUES (...)`` with ``DEFAULT`` for every key a row of the payload does not have."""
    rowtype = f"NULL::{qualified(relation.schema, relation.name)}"
    cols = columns or list(relation.columns)[:1]
    rows: list[str] = []
    for i, keys in enumerate(row_keys):
        element = (
            f"({body_param}::json -> {b.param(i)}::int)" if is_array else f"{body_param}::json"
        )
        cells = [
            f"(json_populate_record({rowtype}, {element})).{ident(c)}" if c in keys else "DEFAULT"
            for c in cols
        ]
        rows.append(f"({', '.join(cells)})")
    return "VALUES " + ", ".join(rows)


def _recordset_rows(
    relation: Relation,
    body_param: str,
    is_array: bool,
    columns: list[str],
    count_inserts: bool,
) -> str:
    """``SELECT cols FROM json_populate_recordset(...)``; upserts count the rows inserted."""
    array = body_param if is_array else f"json_build_array({body_param}::json)"
    counter = f" WHERE {_count_inserted(1)}" if count_inserts else ""
    body = ident("pgrst_body")
    cols = ", ".join(f"{body}.{ident(c)}" for c in columns)
    rowtype = f"NULL::{qualified(relation.schema, relation.name)}"
    return (
        f"SELECT {cols} FROM json_populate_recordset({rowtype}, {array}::json) AS {body}{counter}"
    )


def _on_conflict_sql(conflict: Conflict, columns: list[str]) -> str:
    """``ON CONFLICT (target) DO NOTHING | DO UPDATE SET ...`` (merges uncount the insert)."""
    resolution, targets = conflict
    target = ", ".join(ident(c) for c in targets)
    if resolution == "ignore" or not columns:
        return f" ON CONFLICT ({target}) DO NOTHING"
    sets = ", ".join(f"{ident(c)} = EXCLUDED.{ident(c)}" for c in columns)
    return f" ON CONFLICT ({target}) DO UPDATE SET {sets} WHERE {_count_inserted(-1)}"


def insert_sql(
    b: Builder,
    relation: Relation,
    body: str,
    is_array: bool,
    columns: list[str],
    row_keys: list[set[str]] | None,
    conflict: Conflict | None,
    returning: str,
) -> str:
    """INSERT from a JSON body; ``row_keys`` (for ``missing=default``) marks present keys."""
    table = qualified(relation.schema, relation.name)
    alias = ident(relation.name)
    body_param = b.param(body)
    upsert = conflict is not None and bool(conflict[1])
    query: str
    if row_keys is not None:
        source = _missing_default_rows(b, relation, body_param, is_array, columns, row_keys)
    elif columns:
        source = _recordset_rows(relation, body_param, is_array, columns, upsert)
    else:
        source = "DEFAULT VALUES"
    if row_keys is None and not columns:
        query = f"INSERT INTO {table} AS {alias} {source}"
    else:
        cols = columns or list(relation.columns)[:1]
        names = ", ".join(ident(c) for c in cols)
        query = f"INSERT INTO {table} AS {alias} ({names}) {source}"
    if conflict is not None and upsert:
        query = f"{query}{_on_conflict_sql(conflict, columns)}"
    return f"{query}{returning}"


def _where_sql(b: Builder, node: ReadNode, query: str) -> str:
    where = [condition_sql(b, node, c) for c in node.params.conditions]
    if not where:
        return query
    return f"{query} WHERE {' AND '.join(where)}"


def update_sql(
    b: Builder,
    node: ReadNode,
    relation: Relation,
    body: str,
    columns: list[str],
    returning: str,
) -> str:
    """UPDATE the rows the node's filters select with the body's values."""
    table = qualified(relation.schema, relation.name)
    body_alias = ident("pgrst_body")
    sets = ", ".join(f"{ident(c)} = {body_alias}.{ident(c)}" for c in columns)
    query = (
        f"UPDATE {table} AS {ident(node.alias)} SET {sets} FROM (SELECT * FROM"
        f" json_populate_record(NULL::{table}, {b.param(body)}::json)) AS {body_alias}"
    )
    return f"{_where_sql(b, node, query)}{returning}"


def delete_sql(b: Builder, node: ReadNode, relation: Relation, returning: str) -> str:
    """DELETE the rows the node's filters select."""
    query = f"DELETE FROM {qualified(relation.schema, relation.name)} AS {ident(node.alias)}"
    return f"{_where_sql(b, node, query)}{returning}"


def rpc_call_sql(
    b: Builder, fn: Function, args_json: str | None, arg_names: set[str], single_json: bool
) -> str:
    """``"schema"."fn"(a := ..., ...)`` with arguments decoded from a JSON object."""
    name = qualified(fn.schema, fn.name)
    if single_json:
        return f"{name}({b.param(args_json or '{}')}::{type_sql(fn.params[0].type)})"
    if not arg_names:
        return f"{name}()"
    args_param = b.param(args_json or "{}")
    parts: list[str] = []
    for p in fn.params:
        if p.name not in arg_names:
            continue
        a, c, t = ident("pgrst_args"), ident(p.name), type_sql(p.type)
        value = f"(SELECT {a}.{c} FROM json_to_record({args_param}::json) AS {a}({c} {t}))"
        prefix = "VARIADIC " if p.variadic else ""
        parts.append(f"{prefix}{ident(p.name)} := {value}")
    return f"{name}({', '.join(parts)})"
