"""SQL generation: every value a bound parameter, every identifier quoted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from psycopg import sql

from ._errors import ApiError, not_implemented, query_param_error
from ._query import (
    AggregateItem,
    ColumnItem,
    Condition,
    EmbedItem,
    Field,
    Filter,
    LogicTree,
    NodeParams,
    SelectItem,
    StarItem,
)
from ._relationships import Relationship, find_relationship
from ._schema_cache import Function, Relation, SchemaCache

__all__ = [
    "Builder",
    "EmbedNode",
    "ReadNode",
    "build_read_node",
    "delete_sql",
    "ident",
    "insert_sql",
    "node_output_names",
    "qualified",
    "rpc_call_sql",
    "update_sql",
    "wrap_mutation",
    "wrap_read",
]

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


def _raw(text: str) -> sql.SQL:
    """Trusted SQL text, with ``%`` escaped for the parameterized execution."""
    return sql.SQL(text.replace("%", "%%"))


def ident(name: str) -> sql.Composable:
    """A quoted identifier."""
    if "\x00" in name:
        raise query_param_error("Invalid identifier", "identifiers cannot contain NUL")
    return _raw('"' + name.replace('"', '""') + '"')


def qualified(schema: str, name: str) -> sql.Composable:
    return sql.SQL("{}.{}").format(ident(schema), ident(name))


def type_sql(type_name: str) -> sql.Composable:
    """A type name as the catalog formats it (already quoted where needed)."""
    return _raw(type_name)


class Builder:
    """Collects named parameters and hands out unique aliases."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._aliases = 0

    def param(self, value: Any) -> sql.Composable:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def alias(self) -> str:
        self._aliases += 1
        return f"pgrst_{self._aliases}"


@dataclass
class EmbedNode:
    """An embedded resource resolved to a relationship."""

    item: EmbedItem
    rel: Relationship
    node: ReadNode
    lateral: str


@dataclass
class ReadNode:
    """A resource to read: the root, or an embedded resource."""

    schema: str
    name: str
    relation: Relation | None
    from_sql: sql.Composable
    alias: str
    items: list[SelectItem]
    params: NodeParams
    children: dict[str, EmbedNode] = field(default_factory=dict)
    computed: dict[str, Function] = field(default_factory=dict)


def build_read_node(
    b: Builder,
    cache: SchemaCache,
    schema: str,
    name: str,
    relation: Relation | None,
    from_sql: sql.Composable,
    alias: str,
    items: list[SelectItem],
    params_by_path: dict[tuple[str, ...], NodeParams],
    path: tuple[str, ...] = (),
) -> ReadNode:
    """Resolve the embeds of a select list into a tree of nodes."""
    node = ReadNode(
        schema, name, relation, from_sql, alias, items, params_by_path.pop(path, NodeParams())
    )
    if relation is not None:
        node.computed = {
            k: fn for k, fn in cache.computed_fields(relation).items() if k not in relation.columns
        }
    for item in items:
        if not isinstance(item, EmbedItem):
            continue
        if relation is None:
            raise ApiError(
                400,
                "PGRST200",
                f"Could not find a relationship between '{name}' and '{item.target}' in the "
                "schema cache",
                f"Searched for a foreign key relationship between '{name}' and '{item.target}' "
                f"in the schema '{schema}', but no matches were found.",
            )
        rel = find_relationship(cache, relation, item.target, item.hint)
        out = item.output_name()
        if out in node.children:
            raise query_param_error(
                f"The embedded resource '{out}' appears twice in the select parameter",
                "Use an alias to embed a resource more than once",
            )
        if rel.function is not None:  # computed relationship: call it with the parent row
            row_type = rel.function.row_param_of or (relation.schema, relation.name)
            child_from: sql.Composable = sql.SQL("{}({}::{})").format(
                qualified(rel.function.schema, rel.function.name),
                ident(alias),
                qualified(*row_type),
            )
        else:
            child_from = qualified(rel.target.schema, rel.target.name)
        child = build_read_node(
            b,
            cache,
            schema,
            item.target,
            rel.target,
            child_from,
            b.alias(),
            item.items,
            params_by_path,
            (*path, out),
        )
        node.children[out] = EmbedNode(item, rel, child, b.alias())
    return node


def node_output_names(node: ReadNode) -> list[str]:
    """The keys of the objects a node produces (for spreads and CSV)."""
    names: list[str] = []
    for item in node.items:
        if isinstance(item, StarItem):
            if node.relation is not None:
                names.extend(node.relation.columns)
        elif isinstance(item, ColumnItem | AggregateItem):
            names.append(item.output_name())
        else:
            emb = node.children[item.output_name()]
            if item.spread:
                names.extend(node_output_names(emb.node))
            elif item.items:
                names.append(item.output_name())
    return names


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
        expr = sql.SQL("{} @@ {}").format(vector, query)
    else:
        assert isinstance(f.value, str)
        value = f.value
        if f.op in ("like", "ilike"):
            value = value.replace("*", "%")
        op = sql.SQL(_BINARY_OPS[f.op])
        if f.modifier is not None:
            quant = sql.SQL("ANY" if f.modifier == "any" else "ALL")
            expr = sql.SQL("{} {} {}({})").format(lhs, op, quant, b.param(value))
        else:
            expr = sql.SQL("{} {} {}").format(lhs, op, b.param(value))
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
        return sql.SQL("{} {}").format(_embed_value(emb), test)
    return filter_sql(b, node.alias, cond, node.relation, node.computed)


def _embed_value(emb: EmbedNode) -> sql.Composable:
    """An expression that is NULL exactly when the embedded resource is empty."""
    if emb.rel.to_one:
        return sql.SQL("row_to_json({}.*)").format(ident(emb.lateral))
    if emb.item.spread:
        return sql.SQL("nullif({}.pgrst_n, 0)").format(ident(emb.lateral))
    return sql.SQL("{}.{}").format(ident(emb.lateral), ident("body"))


def _join_conditions(
    child: ReadNode, parent_alias: str, rel: Relationship
) -> tuple[list[sql.Composable], list[sql.Composable]]:
    """(extra FROM joins, WHERE conditions) linking ``child`` to its parent."""
    joins: list[sql.Composable] = []
    where: list[sql.Composable] = []
    if rel.function is not None:
        return joins, where
    if rel.junction is None:
        for src, tgt in rel.pairs:
            where.append(
                sql.SQL("{}.{} = {}.{}").format(
                    ident(child.alias), ident(tgt), ident(parent_alias), ident(src)
                )
            )
        return joins, where
    jalias = child.alias + "_j"
    on = sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(ident(jalias), ident(jcol), ident(child.alias), ident(tcol))
        for jcol, tcol in rel.target_pairs
    )
    joins.append(
        sql.SQL(" JOIN {} AS {} ON {}").format(
            qualified(rel.junction.schema, rel.junction.name), ident(jalias), on
        )
    )
    for jcol, scol in rel.pairs:
        where.append(
            sql.SQL("{}.{} = {}.{}").format(
                ident(jalias), ident(jcol), ident(parent_alias), ident(scol)
            )
        )
    return joins, where


def _order_sql(b: Builder, node: ReadNode) -> list[sql.Composable]:
    out: list[sql.Composable] = []
    for term in node.params.order or []:
        if term.relation is not None:
            emb = node.children.get(term.relation)
            if emb is None:
                raise ApiError(
                    400,
                    "PGRST108",
                    f"'{term.relation}' is not an embedded resource in this request",
                    None,
                    f"Verify that '{term.relation}' is included in the 'select' query parameter.",
                )
            if not emb.rel.to_one:
                raise ApiError(
                    400,
                    "PGRST118",
                    f"A related order on '{term.relation}' is not possible",
                    f"'{node.name}' and '{term.relation}' do not form a many-to-one or "
                    "one-to-one relationship",
                )
            inner_alias = b.alias()
            probe = ReadNode(
                node.schema,
                emb.node.name,
                emb.node.relation,
                emb.node.from_sql,
                inner_alias,
                [],
                NodeParams(),
            )
            joins, where = _join_conditions(probe, node.alias, emb.rel)
            expr: sql.Composable = sql.SQL("(SELECT {} FROM {} AS {}{} WHERE {} LIMIT 1)").format(
                field_sql(b, inner_alias, term.field, emb.node.computed),
                emb.node.from_sql,
                ident(inner_alias),
                sql.Composed(joins),
                sql.SQL(" AND ").join(where) if where else sql.SQL("TRUE"),
            )
        else:
            expr = field_sql(b, node.alias, term.field, node.computed)
        part = sql.SQL("{} {}").format(expr, sql.SQL("DESC" if term.desc else "ASC"))
        if term.nulls:
            part = sql.SQL("{} NULLS {}").format(part, sql.SQL(term.nulls.upper()))
        out.append(part)
    return out


def node_sql(
    b: Builder,
    node: ReadNode,
    *,
    parent: ReadNode | None = None,
    rel: Relationship | None = None,
    limit: int | None = None,
    offset: int | None = None,
    for_count: bool = False,
) -> sql.Composable:
    """The SELECT of one node, its embeds as lateral joins."""
    select: list[sql.Composable] = []
    joins: list[sql.Composable] = []
    where: list[sql.Composable] = []
    group_by: list[sql.Composable] = []
    aggregated = any(isinstance(i, AggregateItem) for i in node.items)
    if aggregated and any(isinstance(i, StarItem | EmbedItem) for i in node.items):
        raise not_implemented("aggregates next to '*' or an embedded resource in one select list")
    for item in node.items:
        if isinstance(item, AggregateItem):
            if item.field is None:
                agg: sql.Composable = sql.SQL("count(*)")
            else:
                arg = field_sql(b, node.alias, item.field, node.computed)
                if item.cast_in:
                    arg = sql.SQL("CAST({} AS {})").format(arg, type_sql(item.cast_in))
                agg = sql.SQL("{}({})").format(sql.SQL(item.func), arg)
            if item.cast_out:
                agg = sql.SQL("CAST({} AS {})").format(agg, type_sql(item.cast_out))
            select.append(sql.SQL("{} AS {}").format(agg, ident(item.output_name())))
        elif isinstance(item, StarItem):
            select.append(sql.SQL("{}.*").format(ident(node.alias)))
        elif isinstance(item, ColumnItem):
            expr = field_sql(b, node.alias, item.field, node.computed)
            if item.cast:
                expr = sql.SQL("CAST({} AS {})").format(expr, type_sql(item.cast))
            select.append(sql.SQL("{} AS {}").format(expr, ident(item.output_name())))
            if aggregated:
                group_by.append(expr)
        else:
            emb = node.children[item.output_name()]
            child = node_sql(b, emb.node, parent=node, rel=emb.rel)
            lat = ident(emb.lateral)
            if emb.rel.to_one:
                kind = "INNER" if item.join == "inner" else "LEFT"
                joins.append(
                    sql.SQL(" {} JOIN LATERAL ({}) AS {} ON TRUE").format(sql.SQL(kind), child, lat)
                )
                if item.spread:
                    select.extend(
                        sql.SQL("{}.{} AS {}").format(lat, ident(n), ident(n))
                        for n in node_output_names(emb.node)
                    )
                elif item.items:
                    select.append(
                        sql.SQL("row_to_json({}.*)::jsonb AS {}").format(
                            lat, ident(item.output_name())
                        )
                    )
            elif item.spread:
                # to-many spread: every column becomes an array, correlated by position
                names = node_output_names(emb.node)
                aggs: list[sql.Composable] = [
                    sql.SQL("json_agg({}.{})::jsonb AS {}").format(
                        ident("pgrst_t"), ident(n), ident(n)
                    )
                    for n in names
                ]
                aggs.append(sql.SQL("count(*) AS pgrst_n"))
                joins.append(
                    sql.SQL(
                        " LEFT JOIN LATERAL (SELECT {a} FROM ({c}) AS {t}) AS {lat} ON TRUE"
                    ).format(a=sql.SQL(", ").join(aggs), c=child, t=ident("pgrst_t"), lat=lat)
                )
                if item.join == "inner":
                    where.append(sql.SQL("{}.pgrst_n > 0").format(lat))
                select.extend(
                    sql.SQL("coalesce({}.{}, '[]'::jsonb) AS {}").format(lat, ident(n), ident(n))
                    for n in names
                )
            else:
                joins.append(
                    sql.SQL(
                        " LEFT JOIN LATERAL (SELECT json_agg({t})::jsonb AS body"
                        " FROM ({c}) AS {t}) AS {lat} ON TRUE"
                    ).format(t=ident("pgrst_t"), c=child, lat=lat)
                )
                if item.join == "inner":
                    where.append(sql.SQL("{}.body IS NOT NULL").format(lat))
                if item.items:
                    select.append(
                        sql.SQL("coalesce({}.body, '[]'::jsonb) AS {}").format(
                            lat, ident(item.output_name())
                        )
                    )
    extra_from: list[sql.Composable] = []
    if parent is not None and rel is not None:
        extra_from, link = _join_conditions(node, parent.alias, rel)
        where.extend(link)
    where.extend(condition_sql(b, node, c) for c in node.params.conditions)
    if for_count:
        select = [sql.SQL("1")]
    query = sql.SQL("SELECT {} FROM {} AS {}{}{}").format(
        sql.SQL(", ").join(select),
        node.from_sql,
        ident(node.alias),
        sql.Composed(extra_from),
        sql.Composed(joins),
    )
    if where:
        query = sql.SQL("{} WHERE {}").format(query, sql.SQL(" AND ").join(where))
    if group_by:
        query = sql.SQL("{} GROUP BY {}").format(query, sql.SQL(", ").join(group_by))
    if not for_count:
        order = _order_sql(b, node)
        if order:
            query = sql.SQL("{} ORDER BY {}").format(query, sql.SQL(", ").join(order))
        if parent is not None:
            limit, offset = node.params.limit, node.params.offset
        if limit is not None:
            query = sql.SQL("{} LIMIT {}").format(query, b.param(limit))
        if offset:
            query = sql.SQL("{} OFFSET {}").format(query, b.param(offset))
    return query


BodyMode = Literal["json", "stripped", "csv", "scalar", "none"]


def _body_sql(mode: BodyMode, names: list[str] | None = None) -> sql.Composable:
    t = ident("pgrst_t")
    if mode == "json":
        return sql.SQL("coalesce(json_agg({}), '[]')::text").format(t)
    if mode == "stripped":
        return sql.SQL("coalesce(json_agg(json_strip_nulls(row_to_json({}))), '[]')::text").format(
            t
        )
    if mode == "scalar":
        assert names
        return sql.SQL("coalesce(json_agg({}.{}), '[]')::text").format(t, ident(names[0]))
    if mode == "csv":
        return sql.SQL(
            "coalesce((SELECT string_agg(k, ',') FROM json_object_keys(json_agg({t}) -> 0) AS k), "
            "'') || E'\\n' || coalesce(string_agg(substring({t}::text, 2, length({t}::text) - 2),"
            " E'\\n'), '')"
        ).format(t=t)
    return sql.SQL("NULL::text")


def wrap_read(
    inner: sql.Composable, mode: BodyMode, names: list[str] | None = None
) -> sql.Composed:
    """``SELECT page_total, body FROM (inner)``."""
    return sql.SQL("SELECT count(*)::bigint, {} FROM ({}) AS {}").format(
        _body_sql(mode, names), inner, ident("pgrst_t")
    )


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
    ).format(mutation, _body_sql(mode), _INSERTED, read, ident("pgrst_t"))


def _count_inserted(delta: int) -> sql.Composable:
    """A predicate that is always true and adds ``delta`` to the ``pgrst.inserted`` setting."""
    return sql.SQL(
        "set_config('pgrst.inserted', (coalesce({}, 0) + {})::text, true) IS NOT NULL"
    ).format(_INSERTED, sql.SQL(str(int(delta))))


def returning_sql(alias: str, kind: Literal["all", "none"] | tuple[str, ...]) -> sql.Composable:
    if kind == "all":
        return sql.SQL(" RETURNING {}.*").format(ident(alias))
    if kind == "none":
        return sql.SQL(" RETURNING 1")
    return sql.SQL(" RETURNING {}").format(
        sql.SQL(", ").join(sql.SQL("{}.{}").format(ident(alias), ident(c)) for c in kind)
    )


def insert_sql(
    b: Builder,
    relation: Relation,
    body: str,
    is_array: bool,
    columns: list[str],
    row_keys: list[set[str]] | None,
    conflict: tuple[Literal["merge", "ignore"], list[str]] | None,
    returning: sql.Composable,
) -> sql.Composable:
    """INSERT from a JSON body; ``row_keys`` (for ``missing=default``) marks present keys."""
    table = qualified(relation.schema, relation.name)
    alias = ident(relation.name)
    body_param = b.param(body)
    rowtype = sql.SQL("NULL::{}").format(table)
    if row_keys is not None:
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
        source: sql.Composable = sql.SQL("VALUES {}").format(sql.SQL(", ").join(rows))
    elif not columns:
        source = sql.SQL("DEFAULT VALUES")
    else:
        array = body_param if is_array else sql.SQL("json_build_array({}::json)").format(body_param)
        counter = (
            sql.SQL(" WHERE {}").format(_count_inserted(1))
            if conflict and conflict[1]
            else sql.SQL("")
        )
        source = sql.SQL("SELECT {} FROM json_populate_recordset({}, {}::json) AS {}{}").format(
            sql.SQL(", ").join(
                sql.SQL("{}.{}").format(ident("pgrst_body"), ident(c)) for c in columns
            ),
            rowtype,
            array,
            ident("pgrst_body"),
            counter,
        )
    if row_keys is None and not columns:
        query = sql.SQL("INSERT INTO {} AS {} {}").format(table, alias, source)
    else:
        cols = columns or list(relation.columns)[:1]
        query = sql.SQL("INSERT INTO {} AS {} ({}) {}").format(
            table, alias, sql.SQL(", ").join(ident(c) for c in cols), source
        )
    if conflict is not None and conflict[1]:
        resolution, targets = conflict
        target = sql.SQL(", ").join(ident(c) for c in targets)
        if resolution == "ignore" or not columns:
            query = sql.SQL("{} ON CONFLICT ({}) DO NOTHING").format(query, target)
        else:
            sets = sql.SQL(", ").join(
                sql.SQL("{} = EXCLUDED.{}").format(ident(c), ident(c)) for c in columns
            )
            query = sql.SQL("{} ON CONFLICT ({}) DO UPDATE SET {} WHERE {}").format(
                query, target, sets, _count_inserted(-1)
            )
    return sql.SQL("{}{}").format(query, returning)


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
    where = [condition_sql(b, node, c) for c in node.params.conditions]
    if where:
        query = sql.SQL("{} WHERE {}").format(query, sql.SQL(" AND ").join(where))
    return sql.SQL("{}{}").format(query, returning)


def delete_sql(
    b: Builder, node: ReadNode, relation: Relation, returning: sql.Composable
) -> sql.Composable:
    """DELETE the rows the node's filters select."""
    query = sql.SQL("DELETE FROM {} AS {}").format(
        qualified(relation.schema, relation.name), ident(node.alias)
    )
    where = [condition_sql(b, node, c) for c in node.params.conditions]
    if where:
        query = sql.SQL("{} WHERE {}").format(query, sql.SQL(" AND ").join(where))
    return sql.SQL("{}{}").format(query, returning)


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
