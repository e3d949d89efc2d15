"""SQL of reads: the node tree of a select list, each node a SELECT, embeds lateral joins."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._errors import ApiError, not_implemented, query_param_error
from ._query import (
    AggregateItem,
    ColumnItem,
    EmbedItem,
    Field,
    NodeParams,
    SelectItem,
    StarItem,
)
from ._relationships import Relationship, find_relationship
from ._schema_cache import Relation, SchemaCache
from ._sql import (
    RESPONSE_GUCS,
    BodyMode,
    Builder,
    EmbedNode,
    ReadNode,
    body_sql,
    ident,
    qualified,
    type_sql,
)
from ._sql_filter import condition_sql, field_sql

__all__ = ["build_read_node", "node_output_names", "node_sql", "wrap_read"]


def build_read_node(
    b: Builder,
    cache: SchemaCache,
    schema: str,
    name: str,
    relation: Relation | None,
    from_sql: str,
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
        child = build_read_node(
            b,
            cache,
            schema,
            item.target,
            rel.target,
            _child_from(rel, relation, alias),
            b.alias(),
            item.items,
            params_by_path,
            (*path, out),
        )
        node.children[out] = EmbedNode(item, rel, child, b.alias())
    return node


def _child_from(rel: Relationship, parent: Relation, parent_alias: str) -> str:
    """What an embedded node reads: a table, or a computed relationship called on the row."""
    if rel.function is None:
        return qualified(rel.target.schema, rel.target.name)
    row_type = qualified(*(rel.function.row_param_of or (parent.schema, parent.name)))
    return f"{qualified(rel.function.schema, rel.function.name)}({ident(parent_alias)}::{row_type})"


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


def _join_conditions(
    child: ReadNode, parent_alias: str, rel: Relationship
) -> tuple[list[str], list[str]]:
    """(extra FROM joins, WHERE conditions) linking ``child`` to its parent."""
    joins: list[str] = []
    where: list[str] = []
    if rel.function is not None:
        return joins, where
    if rel.junction is None:
        for src, tgt in rel.pairs:
            where.append(f"{ident(child.alias)}.{ident(tgt)} = {ident(parent_alias)}.{ident(src)}")
        return joins, where
    jalias = child.alias + "_j"
    on = " AND ".join(
        f"{ident(jalias)}.{ident(jcol)} = {ident(child.alias)}.{ident(tcol)}"
        for jcol, tcol in rel.target_pairs
    )
    joins.append(
        f" JOIN {qualified(rel.junction.schema, rel.junction.name)} AS {ident(jalias)} ON {on}"
    )
    for jcol, scol in rel.pairs:
        where.append(f"{ident(jalias)}.{ident(jcol)} = {ident(parent_alias)}.{ident(scol)}")
    return joins, where


def _related_order_expr(b: Builder, node: ReadNode, relation: str, term_field: Field) -> str:
    """``order=rel(col)``: the column of the to-one embed, read by a correlated subquery."""
    emb = node.children.get(relation)
    if emb is None:
        raise ApiError(
            400,
            "PGRST108",
            f"'{relation}' is not an embedded resource in this request",
            None,
            f"Verify that '{relation}' is included in the 'select' query parameter.",
        )
    if not emb.rel.to_one:
        raise ApiError(
            400,
            "PGRST118",
            f"A related order on '{relation}' is not possible",
            f"'{node.name}' and '{relation}' do not form a many-to-one or one-to-one relationship",
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
    column = field_sql(b, inner_alias, term_field, emb.node.computed)
    condition = " AND ".join(where) if where else "TRUE"
    return (
        f"(SELECT {column} FROM {emb.node.from_sql} AS {ident(inner_alias)}{''.join(joins)}"
        f" WHERE {condition} LIMIT 1)"
    )


def _order_sql(b: Builder, node: ReadNode) -> list[str]:
    out: list[str] = []
    for term in node.params.order or []:
        if term.relation is not None:
            expr = _related_order_expr(b, node, term.relation, term.field)
        else:
            expr = field_sql(b, node.alias, term.field, node.computed)
        part = f"{expr} {'DESC' if term.desc else 'ASC'}"
        if term.nulls:
            part = f"{part} NULLS {term.nulls.upper()}"
        out.append(part)
    return out


@dataclass
class _Clauses:
    """The pieces of one node's SELECT, filled item by item."""

    select: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)


def _aggregate_sql(b: Builder, node: ReadNode, item: AggregateItem) -> str:
    """``count(*)``, ``sum(CAST(col AS type))``, with the output cast and the alias."""
    if item.field is None:
        agg: str = "count(*)"
    else:
        arg = field_sql(b, node.alias, item.field, node.computed)
        if item.cast_in:
            arg = f"CAST({arg} AS {type_sql(item.cast_in)})"
        agg = f"{item.func}({arg})"
    if item.cast_out:
        agg = f"CAST({agg} AS {type_sql(item.cast_out)})"
    return f"{agg} AS {ident(item.output_name())}"


def _to_one_embed(emb: EmbedNode, child: str, out: _Clauses) -> None:
    """A many-to-one or one-to-one embed: an object (or its columns, for a spread)."""
    item, lat = emb.item, ident(emb.lateral)
    kind = "INNER" if item.join == "inner" else "LEFT"
    out.joins.append(f" {kind} JOIN LATERAL ({child}) AS {lat} ON TRUE")
    if item.spread:
        out.select.extend(f"{lat}.{ident(n)} AS {ident(n)}" for n in node_output_names(emb.node))
    elif item.items:
        out.select.append(f"row_to_json({lat}.*)::jsonb AS {ident(item.output_name())}")


def _to_many_spread(emb: EmbedNode, child: str, out: _Clauses) -> None:
    """A to-many spread: every column becomes an array, correlated by position."""
    item, lat, t = emb.item, ident(emb.lateral), ident("pgrst_t")
    names = node_output_names(emb.node)
    aggs: list[str] = [f"json_agg({t}.{ident(n)})::jsonb AS {ident(n)}" for n in names]
    aggs.append("count(*) AS pgrst_n")
    out.joins.append(
        f" LEFT JOIN LATERAL (SELECT {', '.join(aggs)} FROM ({child}) AS {t}) AS {lat} ON TRUE"
    )
    if item.join == "inner":
        out.where.append(f"{lat}.pgrst_n > 0")
    out.select.extend(f"coalesce({lat}.{ident(n)}, '[]'::jsonb) AS {ident(n)}" for n in names)


def _to_many_embed(emb: EmbedNode, child: str, out: _Clauses) -> None:
    """A one-to-many or many-to-many embed: an array of objects."""
    item, lat, t = emb.item, ident(emb.lateral), ident("pgrst_t")
    out.joins.append(
        f" LEFT JOIN LATERAL (SELECT json_agg({t})::jsonb AS body FROM ({child}) AS {t})"
        f" AS {lat} ON TRUE"
    )
    if item.join == "inner":
        out.where.append(f"{lat}.body IS NOT NULL")
    if item.items:
        out.select.append(f"coalesce({lat}.body, '[]'::jsonb) AS {ident(item.output_name())}")


def _add_item(
    b: Builder, node: ReadNode, item: SelectItem, aggregated: bool, out: _Clauses
) -> None:
    """Add one select item (a column, ``*``, an aggregate or an embed) to the clauses."""
    if isinstance(item, AggregateItem):
        out.select.append(_aggregate_sql(b, node, item))
    elif isinstance(item, StarItem):
        out.select.append(f"{ident(node.alias)}.*")
    elif isinstance(item, ColumnItem):
        expr = field_sql(b, node.alias, item.field, node.computed)
        if item.cast:
            expr = f"CAST({expr} AS {type_sql(item.cast)})"
        out.select.append(f"{expr} AS {ident(item.output_name())}")
        if aggregated:
            out.group_by.append(expr)
    else:
        emb = node.children[item.output_name()]
        child = node_sql(b, emb.node, parent=node, rel=emb.rel)
        if emb.rel.to_one:
            _to_one_embed(emb, child, out)
        elif item.spread:
            _to_many_spread(emb, child, out)
        else:
            _to_many_embed(emb, child, out)


def _tail_sql(b: Builder, node: ReadNode, query: str, limit: int | None, offset: int | None) -> str:
    """ORDER BY, LIMIT and OFFSET."""
    order = _order_sql(b, node)
    if order:
        query = f"{query} ORDER BY {', '.join(order)}"
    if limit is not None:
        query = f"{query} LIMIT {b.param(limit)}"
    if offset:
        query = f"{query} OFFSET {b.param(offset)}"
    return query


def node_sql(
    b: Builder,
    node: ReadNode,
    *,
    parent: ReadNode | None = None,
    rel: Relationship | None = None,
    limit: int | None = None,
    offset: int | None = None,
    for_count: bool = False,
) -> str:
    """The SELECT of one node, its embeds as lateral joins (``for_count``: rows only)."""
    aggregated = any(isinstance(i, AggregateItem) for i in node.items)
    if aggregated and any(isinstance(i, StarItem | EmbedItem) for i in node.items):
        raise not_implemented("aggregates next to '*' or an embedded resource in one select list")
    out = _Clauses()
    for item in node.items:
        _add_item(b, node, item, aggregated, out)
    extra_from: list[str] = []
    if parent is not None and rel is not None:
        extra_from, link = _join_conditions(node, parent.alias, rel)
        out.where.extend(link)
    out.where.extend(condition_sql(b, node, c) for c in node.params.conditions)
    columns = "1" if for_count else ", ".join(out.select)
    query = (
        f"SELECT {columns} FROM {node.from_sql} AS {ident(node.alias)}"
        f"{''.join(extra_from)}{''.join(out.joins)}"
    )
    if out.where:
        query = f"{query} WHERE {' AND '.join(out.where)}"
    if out.group_by:
        query = f"{query} GROUP BY {', '.join(out.group_by)}"
    if for_count:
        return query
    if parent is not None:
        limit, offset = node.params.limit, node.params.offset
    return _tail_sql(b, node, query, limit, offset)


def wrap_read(inner: str, mode: BodyMode, names: list[str] | None = None) -> str:
    """``SELECT page_total, body, response GUCs FROM (inner)``."""
    body = body_sql(mode, names)
    return f"SELECT count(*)::bigint, {body}, {RESPONSE_GUCS} FROM ({inner}) AS {ident('pgrst_t')}"
