"""SQL of fields and filters: JSON paths, operators, logic trees, tests on embeds."""

from __future__ import annotations

import re

from psycopg import sql

from ._errors import ApiError
from ._query import Condition, Field, Filter, LogicTree
from ._schema_cache import Function, Relation
from ._sql import Builder, EmbedNode, ReadNode, ident, qualified

__all__ = ["condition_sql", "embed_value", "field_sql", "filter_sql"]

_BINARY_OPS = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "like": "LIKE",
    "ilike": "ILIKE",
    "match": "~",
    "imatch": "~*",
    "isdistinct": "IS DISTINCT FROM",
    "cs": "@>",
    "cd": "<@",
    "ov": "&&",
    "sl": "<<",
    "sr": ">>",
    "nxl": "&<",
    "nxr": "&>",
    "adj": "-|-",
}
_FTS_FUNCS = {
    "fts": "to_tsquery",
    "plfts": "plainto_tsquery",
    "phfts": "phraseto_tsquery",
    "wfts": "websearch_to_tsquery",
}
_IS_VALUES = {
    "null": "IS NULL",
    "not_null": "IS NOT NULL",
    "true": "IS TRUE",
    "false": "IS FALSE",
    "unknown": "IS UNKNOWN",
}
_INDEX_RE = re.compile(r"^-?\d+$")


def field_sql(
    b: Builder, alias: str, fld: Field, computed: dict[str, Function] | None = None
) -> sql.Composable:
    """``"alias"."col"->'a'->>'b'`` with the keys as parameters; computed columns are calls."""
    fn = computed.get(fld.name) if computed else None
    expr: sql.Composable
    if fn is not None and fn.row_param_of is not None:
        expr = sql.SQL("{}({}::{})").format(
            qualified(fn.schema, fn.name), ident(alias), qualified(*fn.row_param_of)
        )
    else:
        expr = sql.SQL("{}.{}").format(ident(alias), ident(fld.name))
    for step in fld.json_path:
        if _INDEX_RE.match(step.key):
            key = sql.SQL("{}::int").format(b.param(int(step.key)))
        else:
            key = sql.SQL("{}::text").format(b.param(step.key))
        expr = sql.SQL("({} {} {})").format(expr, sql.SQL(step.arrow), key)
    return expr


def _column_type(relation: Relation | None, fld: Field) -> str | None:
    if relation is None or fld.json_path:
        return None
    column = relation.columns.get(fld.name)
    return column.type if column else None


def _fts_sql(
    b: Builder, f: Filter, lhs: sql.Composable, relation: Relation | None
) -> sql.Composable:
    """``vector @@ to_tsquery(...)``; a column that is not a tsvector goes through to_tsvector."""
    assert isinstance(f.value, str)
    func = sql.SQL(_FTS_FUNCS[f.op])
    is_vector = _column_type(relation, f.field) == "tsvector"
    if f.fts_config is not None:
        cfg = sql.SQL("{}::regconfig").format(b.param(f.fts_config))
        query = sql.SQL("{}({}, {})").format(func, cfg, b.param(f.value))
        vector = lhs if is_vector else sql.SQL("to_tsvector({}, {})").format(cfg, lhs)
    else:
        query = sql.SQL("{}({})").format(func, b.param(f.value))
        vector = lhs if is_vector else sql.SQL("to_tsvector({})").format(lhs)
    return sql.SQL("{} @@ {}").format(vector, query)


def _binary_sql(b: Builder, f: Filter, lhs: sql.Composable) -> sql.Composable:
    """``lhs op value``, or ``lhs op ANY|ALL(value)`` with a modifier."""
    assert isinstance(f.value, str)
    value = f.value
    if f.op in ("like", "ilike"):
        value = value.replace("*", "%")
    op = sql.SQL(_BINARY_OPS[f.op])
    if f.modifier is not None:
        quant = sql.SQL("ANY" if f.modifier == "any" else "ALL")
        return sql.SQL("{} {} {}({})").format(lhs, op, quant, b.param(value))
    return sql.SQL("{} {} {}").format(lhs, op, b.param(value))


def filter_sql(
    b: Builder,
    alias: str,
    f: Filter,
    relation: Relation | None,
    computed: dict[str, Function] | None = None,
) -> sql.Composable:
    """One filter as a boolean expression."""
    lhs = field_sql(b, alias, f.field, computed)
    expr: sql.Composable
    if f.op == "is":
        assert isinstance(f.value, str)
        expr = sql.SQL("{} {}").format(lhs, sql.SQL(_IS_VALUES[f.value]))
    elif f.op == "in":
        assert isinstance(f.value, tuple)
        if not f.value:
            expr = sql.SQL("FALSE")
        else:
            expr = sql.SQL("{} IN ({})").format(
                lhs, sql.SQL(", ").join(b.param(v) for v in f.value)
            )
    elif f.op in _FTS_FUNCS:
        expr = _fts_sql(b, f, lhs, relation)
    else:
        expr = _binary_sql(b, f, lhs)
    if f.negated:
        expr = sql.SQL("NOT ({})").format(expr)
    return expr


def condition_sql(b: Builder, node: ReadNode, cond: Condition) -> sql.Composable:
    """A filter or logic tree of a node; filters naming an embed test its presence."""
    if isinstance(cond, LogicTree):
        parts = [condition_sql(b, node, c) for c in cond.children]
        joiner = sql.SQL(" AND " if cond.op == "and" else " OR ")
        expr: sql.Composable = (
            sql.SQL("({})").format(joiner.join(parts)) if parts else sql.SQL("TRUE")
        )
        return sql.SQL("NOT {}").format(expr) if cond.negated else expr
    emb = node.children.get(cond.field.name) if not cond.field.json_path else None
    if emb is not None:
        if cond.op != "is" or cond.value not in ("null", "not_null"):
            raise ApiError(
                400,
                "PGRST120",
                f"Bad operator on the '{cond.field.name}' embedded resource",
                "Only is null or not is null filters are allowed on embedded resources",
            )
        is_null = (cond.value == "null") != cond.negated
        test = sql.SQL("IS NULL" if is_null else "IS NOT NULL")
        return sql.SQL("{} {}").format(embed_value(emb), test)
    return filter_sql(b, node.alias, cond, node.relation, node.computed)


def embed_value(emb: EmbedNode) -> sql.Composable:
    """An expression that is NULL exactly when the embedded resource is empty."""
    if emb.rel.to_one:
        return sql.SQL("row_to_json({}.*)").format(ident(emb.lateral))
    if emb.item.spread:
        return sql.SQL("nullif({}.pgrst_n, 0)").format(ident(emb.lateral))
    return sql.SQL("{}.{}").format(ident(emb.lateral), ident("body"))
