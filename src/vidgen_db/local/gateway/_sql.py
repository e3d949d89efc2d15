"""What every SQL builder shares: quoting, bound parameters, the node tree, response bodies.

Every identifier is quoted and every value is a bound parameter, never spliced into text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from psycopg import sql

from ._errors import query_param_error
from ._query import EmbedItem, NodeParams, SelectItem
from ._relationships import Relationship
from ._schema_cache import Function, Relation

__all__ = [
    "BodyMode",
    "Builder",
    "EmbedNode",
    "ReadNode",
    "body_sql",
    "ident",
    "qualified",
    "raw",
    "type_sql",
]

BodyMode = Literal["json", "stripped", "csv", "scalar", "none"]


def raw(text: str) -> sql.SQL:
    """Trusted SQL text, with ``%`` escaped for the parameterized execution."""
    return sql.SQL(text.replace("%", "%%"))


def ident(name: str) -> sql.Composable:
    """A quoted identifier."""
    if "\x00" in name:
        raise query_param_error("Invalid identifier", "identifiers cannot contain NUL")
    return raw('"' + name.replace('"', '""') + '"')


def qualified(schema: str, name: str) -> sql.Composable:
    """``"schema"."name"``."""
    return sql.SQL("{}.{}").format(ident(schema), ident(name))


def type_sql(type_name: str) -> sql.Composable:
    """A type name as the catalog formats it (already quoted where needed)."""
    return raw(type_name)


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


def body_sql(mode: BodyMode, names: list[str] | None = None) -> sql.Composable:
    """The response body aggregated from the rows of ``pgrst_t`` (PostgREST builds it in SQL)."""
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
