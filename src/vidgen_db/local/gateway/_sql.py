"""What every SQL builder shares: quoting, parameters, the node tree, response bodies.

The builders write plain SQL text: every identifier quoted, every value a ``%(pN)s``
placeholder that psycopg binds (never text of ours spliced with a value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ._errors import query_param_error
from ._query import EmbedItem, NodeParams, SelectItem
from ._relationships import Relationship
from ._schema_cache import Function, Relation

__all__ = [
    "RESPONSE_GUCS",
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

#: The last two columns of a request's main statement: what its SQL set in
#: ``response.headers`` and ``response.status``, read after the rows (as PostgREST does).
RESPONSE_GUCS = (
    "current_setting('response.headers', true), current_setting('response.status', true)"
)


def raw(text: str) -> str:
    """Trusted SQL text, with ``%`` escaped for the parameterized execution."""
    return text.replace("%", "%%")


def ident(name: str) -> str:
    """A quoted identifier."""
    if "\x00" in name:
        raise query_param_error("Invalid identifier", "identifiers cannot contain NUL")
    return raw('"' + name.replace('"', '""') + '"')


def qualified(schema: str, name: str) -> str:
    """``"schema"."name"``."""
    return f"{ident(schema)}.{ident(name)}"


def type_sql(type_name: str) -> str:
    """A type name as the catalog formats it (already quoted where needed)."""
    return raw(type_name)


class Builder:
    """Collects named parameters and hands out unique aliases."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._aliases = 0

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

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
    from_sql: str
    alias: str
    items: list[SelectItem]
    params: NodeParams
    children: dict[str, EmbedNode] = field(default_factory=dict)
    computed: dict[str, Function] = field(default_factory=dict)


def body_sql(mode: BodyMode, names: list[str] | None = None) -> str:
    """The response body aggregated from the rows of ``pgrst_t`` (PostgREST builds it in SQL)."""
    t = ident("pgrst_t")
    if mode == "json":
        return f"coalesce(json_agg({t}), '[]')::text"
    if mode == "stripped":
        return f"coalesce(json_agg(json_strip_nulls(row_to_json({t}))), '[]')::text"
    if mode == "scalar":
        assert names
        return f"coalesce(json_agg({t}.{ident(names[0])}), '[]')::text"
    if mode == "csv":
        return (
            f"coalesce((SELECT string_agg(k, ',') FROM json_object_keys(json_agg({t}) -> 0) AS k), "
            f"'') || E'\\n' || coalesce(string_agg(substring({t}::text, 2, length({t}::text) - 2),"
            " E'\\n'), '')"
        )
    return "NULL::text"
