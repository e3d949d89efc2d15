"""SQL of writes and calls: INSERT/upsert, UPDATE, DELETE, RETURNING, function calls."""

from __future__ import annotations

from typing import Literal

from psycopg import sql

from ._schema_cache import Function, Relation
from ._sql import BodyMode, Builder, ReadNode, body_sql, ident, qualified, type_sql
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

_INSERTED = sql.SQL("nullif(current_setting('pgrst.inserted', true), '')::int")


def wrap_mutation(
    mutation: sql.Composable, read: sql.Composable | None, mode: BodyMode
) -> sql.Composed:
    """``WITH pgrst_source AS (mutation) SELECT page_total, body, inserted``."""
    if read is None:
        return sql.SQL(
            "WITH pgrst_source AS ({}) SELECT count(*)::bigint, NULL::text, {} FROM pgrst_source"
        ).format(mutation, _INSERTED)
    return sql.SQL(
        "WITH pgrst_source AS ({}) SELECT count(*)::bigint, {}, {} FROM ({}) AS {}"
    ).format(mutation, body_sql(mode), _INSERTED, read, ident("pgrst_t"))


def _count_inserted(delta: int) -> sql.Composable:
    """A predicate that is always true and adds ``delta`` to the ``pgrst.inserted`` setting."""
    return sql.SQL(
        "set_config('pgrst.inserted', (coalesce({}, 0) + {})::text, true) IS NOT NULL"
    ).format(_INSERTED, sql.SQL(str(int(delta))))


def returning_sql(alias: str, kind: Literal["all", "none"] | tuple[str, ...]) -> sql.Composable:
    """``RETURNING alias.*``, ``RETURNING 1`` or the named columns."""
    if kind == "all":
        return sql.SQL(" RETURNING {}.*").format(ident(alias))
    if kind == "none":
        return sql.SQL(" RETURNING 1")
    return sql.SQL(" RETURNING {}").format(
        sql.SQL(", ").join(sql.SQL("{}.{}").format(ident(alias), ident(c)) for c in kind)
    )


def _missing_default_rows(
    b: Builder,
    relation: Relation,
    body_param: sql.Composable,
    is_array: bool,
    columns: list[str],
    row_keys: list[set[str]],
) -> sql.Composable:
    """``VALUES (...)`` with ``DEFAULT`` for every key a row of the payload does not have."""
    rowtype = sql.SQL("NULL::{}").format(qualified(relation.schema, relation.name))
    cols = columns or list(relation.columns)[:1]
    rows: list[sql.Composable] = []
    for i, keys in enumerate(row_keys):
        element = (
            sql.SQL("({}::json -> {}::int)").format(body_param, b.param(i))
            if is_array
            else sql.SQL("{}::json").format(body_param)
        )
        cells = [
            sql.SQL("(json_populate_record({}, {})).{}").format(rowtype, element, ident(c))
            if c in keys
            else sql.SQL("DEFAULT")
            for c in cols
        ]
        rows.append(sql.SQL("({})").format(sql.SQL(", ").join(cells)))
    return sql.SQL("VALUES {}").format(sql.SQL(", ").join(rows))


def _recordset_rows(
    relation: Relation,
    body_param: sql.Composable,
    is_array: bool,
    columns: list[str],
    count_inserts: bool,
) -> sql.Composable:
    """``SELECT cols FROM json_populate_recordset(...)``; upserts count the rows inserted."""
    array = body_param if is_array else sql.SQL("json_build_array({}::json)").format(body_param)
    counter = sql.SQL(" WHERE {}").format(_count_inserted(1)) if count_inserts else sql.SQL("")
    return sql.SQL("SELECT {} FROM json_populate_recordset({}, {}::json) AS {}{}").format(
        sql.SQL(", ").join(sql.SQL("{}.{}").format(ident("pgrst_body"), ident(c)) for c in columns),
        sql.SQL("NULL::{}").format(qualified(relation.schema, relation.name)),
        array,
        ident("pgrst_body"),
        counter,
    )


def _on_conflict_sql(conflict: Conflict, columns: list[str]) -> sql.Composable:
    """``ON CONFLICT (target) DO NOTHING | DO UPDATE SET ...`` (merges uncount the insert)."""
    resolution, targets = conflict
    target = sql.SQL(", ").join(ident(c) for c in targets)
    if resolution == "ignore" or not columns:
        return sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(target)
    sets = sql.SQL(", ").join(
        sql.SQL("{} = EXCLUDED.{}").format(ident(c), ident(c)) for c in columns
    )
    return sql.SQL(" ON CONFLICT ({}) DO UPDATE SET {} WHERE {}").format(
        target, sets, _count_inserted(-1)
    )


def insert_sql(
    b: Builder,
    relation: Relation,
    body: str,
    is_array: bool,
    columns: list[str],
    row_keys: list[set[str]] | None,
    conflict: Conflict | None,
    returning: sql.Composable,
) -> sql.Composable:
    """INSERT from a JSON body; ``row_keys`` (for ``missing=default``) marks present keys."""
    table = qualified(relation.schema, relation.name)
    alias = ident(relation.name)
    body_param = b.param(body)
    upsert = conflict is not None and bool(conflict[1])
    query: sql.Composable
    if row_keys is not None:
        source = _missing_default_rows(b, relation, body_param, is_array, columns, row_keys)
    elif columns:
        source = _recordset_rows(relation, body_param, is_array, columns, upsert)
    else:
        source = sql.SQL("DEFAULT VALUES")
    if row_keys is None and not columns:
        query = sql.SQL("INSERT INTO {} AS {} {}").format(table, alias, source)
    else:
        cols = columns or list(relation.columns)[:1]
        query = sql.SQL("INSERT INTO {} AS {} ({}) {}").format(
            table, alias, sql.SQL(", ").join(ident(c) for c in cols), source
        )
    if conflict is not None and upsert:
        query = sql.SQL("{}{}").format(query, _on_conflict_sql(conflict, columns))
    return sql.SQL("{}{}").format(query, returning)


def _where_sql(b: Builder, node: ReadNode, query: sql.Composable) -> sql.Composable:
    where = [condition_sql(b, node, c) for c in node.params.conditions]
    if not where:
        return query
    return sql.SQL("{} WHERE {}").format(query, sql.SQL(" AND ").join(where))


def update_sql(
    b: Builder,
    node: ReadNode,
    relation: Relation,
    body: str,
    columns: list[str],
    returning: sql.Composable,
) -> sql.Composable:
    """UPDATE the rows the node's filters select with the body's values."""
    table = qualified(relation.schema, relation.name)
    sets = sql.SQL(", ").join(
        sql.SQL("{} = {}.{}").format(ident(c), ident("pgrst_body"), ident(c)) for c in columns
    )
    query = sql.SQL(
        "UPDATE {} AS {} SET {} FROM (SELECT * FROM json_populate_record(NULL::{}, {}::json)) AS {}"
    ).format(table, ident(node.alias), sets, table, b.param(body), ident("pgrst_body"))
    return sql.SQL("{}{}").format(_where_sql(b, node, query), returning)


def delete_sql(
    b: Builder, node: ReadNode, relation: Relation, returning: sql.Composable
) -> sql.Composable:
    """DELETE the rows the node's filters select."""
    query = sql.SQL("DELETE FROM {} AS {}").format(
        qualified(relation.schema, relation.name), ident(node.alias)
    )
    return sql.SQL("{}{}").format(_where_sql(b, node, query), returning)


def rpc_call_sql(
    b: Builder, fn: Function, args_json: str | None, arg_names: set[str], single_json: bool
) -> sql.Composable:
    """``"schema"."fn"(a := ..., ...)`` with arguments decoded from a JSON object."""
    name = qualified(fn.schema, fn.name)
    if single_json:
        return sql.SQL("{}({}::{})").format(
            name, b.param(args_json or "{}"), type_sql(fn.params[0].type)
        )
    if not arg_names:
        return sql.SQL("{}()").format(name)
    args_param = b.param(args_json or "{}")
    parts: list[sql.Composable] = []
    for p in fn.params:
        if p.name not in arg_names:
            continue
        value = sql.SQL("(SELECT {a}.{c} FROM json_to_record({j}::json) AS {a}({c} {t}))").format(
            a=ident("pgrst_args"), c=ident(p.name), j=args_param, t=type_sql(p.type)
        )
        prefix = sql.SQL("VARIADIC ") if p.variadic else sql.SQL("")
        parts.append(sql.SQL("{}{} := {}").format(prefix, ident(p.name), value))
    return sql.SQL("{}({})").format(name, sql.SQL(", ").join(parts))
