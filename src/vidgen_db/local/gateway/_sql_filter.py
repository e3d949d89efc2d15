"""SQL of fields and filters: JSON paths, operators, logic trees, tests on embeds."""

from __future__ import annotations

import re

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
    "nxr": "&<",  # does not extend to the right of
    "nxl": "&>",  # does not extend to the left of
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
) -> str:
    """``"alias"."col"->'a'->>'b'`` with the keys as parameters; computed columns are calls."""
    fn = computed.get(fld.name) if computed else None
    expr: str
    if fn is not None and fn.row_param_of is not None:
        expr = f"{qualified(fn.schema, fn.name)}({ident(alias)}::{qualified(*fn.row_param_of)})"
    else:
        expr = f"{ident(alias)}.{ident(fld.name)}"
    for step in fld.json_path:
        if _INDEX_RE.match(step.key):
            key = f"{b.param(int(step.key))}::int"
        else:
            key = f"{b.param(step.key)}::text"
        expr = f"({expr} {step.arrow} {key})"
    return expr


def _column_type(relation: Relation | None, fld: Field) -> str | None:
    if relation is None or fld.json_path:
        return None
    column = relation.columns.get(fld.name)
    return column.type if column else None


def _fts_sql(b: Builder, f: Filter, lhs: str, relation: Relation | None) -> str:
    """``vector @@ to_tsquery(...)``; a column that is not a tsvector goes through to_tsvector."""
    assert isinstance(f.value, str)
    func = _FTS_FUNCS[f.op]
    is_vector = _column_type(relation, f.field) == "tsvector"
    if f.fts_config is not None:
        cfg = f"{b.param(f.fts_config)}::regconfig"
        query = f"{func}({cfg}, {b.param(f.value)})"
        vector = lhs if is_vector else f"to_tsvector({cfg}, {lhs})"
    else:
        query = f"{func}({b.param(f.value)})"
        vector = lhs if is_vector else f"to_tsvector({lhs})"
    return f"{vector} @@ {query}"


def _binary_sql(b: Builder, f: Filter, lhs: str) -> str:
    """``lhs op value``, or ``lhs op ANY|ALL(value)`` with a modifier."""
    assert isinstance(f.value, str)
    value = f.value
    if f.op in ("like", "ilike"):
        value = value.replace("*", "%")
    op = _BINARY_OPS[f.op]
    if f.modifier is not None:
        quant = "ANY" if f.modifier == "any" else "ALL"
        return f"{lhs} {op} {quant}({b.param(value)})"
    return f"{lhs} {op} {b.param(value)}"


def filter_sql(
    b: Builder,
    alias: str,
    f: Filter,
    relation: Relation | None,
    computed: dict[str, Function] | None = None,
) -> str:
    """One filter as a boolean expression."""
    lhs = field_sql(b, alias, f.field, computed)
    expr: str
    if f.op == "is":
        assert isinstance(f.value, str)
        expr = f"{lhs} {_IS_VALUES[f.value]}"
    elif f.op == "in":
        assert isinstance(f.value, tuple)
        if not f.value:
            expr = "FALSE"
        else:
            values = ", ".join(b.param(v) for v in f.value)
            expr = f"{lhs} IN ({values})"
    elif f.op in _FTS_FUNCS:
        expr = _fts_sql(b, f, lhs, relation)
    else:
        expr = _binary_sql(b, f, lhs)
    if f.negated:
        expr = f"NOT ({expr})"
    return expr


def condition_sql(b: Builder, node: ReadNode, cond: Condition) -> str:
    """A filter or logic tree of a node; filters naming an embed test its presence."""
    if isinstance(cond, LogicTree):
        parts = [condition_sql(b, node, c) for c in cond.children]
        joiner = " AND " if cond.op == "and" else " OR "
        expr: str = f"({joiner.join(parts)})" if parts else "TRUE"
        return f"NOT {expr}" if cond.negated else expr
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
        test = "IS NULL" if is_null else "IS NOT NULL"
        return f"{embed_value(emb)} {test}"
    return filter_sql(b, node.alias, cond, node.relation, node.computed)


def embed_value(emb: EmbedNode) -> str:
    """An expression that is NULL exactly when the embedded resource is empty."""
    if emb.rel.to_one:
        return f"row_to_json({ident(emb.lateral)}.*)"
    if emb.item.spread:
        return f"nullif({ident(emb.lateral)}.pgrst_n, 0)"
    return f"{ident(emb.lateral)}.{ident('body')}"
