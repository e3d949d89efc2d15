"""Map PostgreSQL types (and a column's CHECK rules and JSON shape) to TypeScript types.

The base mapping is the one supabase-js expects (``supabase gen types typescript``):
numbers for integer and floating types, strings for text, uuid, dates, times and the
types PostgREST returns as text, ``Json`` for json/jsonb, ``Database[...]["Enums"]`` for
enums. On top of it, a ``CHECK (col IN (...))`` list becomes a literal union and a JSON
column with a known shape (:mod:`._shapes`) an object type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

from ._catalog import SCHEMA, TypeRef
from ._checks import ColumnRule
from ._shapes import JsonShape

__all__ = ["TsType", "literal", "ts_type"]

_NUMBER = frozenset({"int2", "int4", "int8", "float4", "float8", "numeric", "oid"})
#: Types PostgREST sends as JSON strings.
_STRING = frozenset(
    {"text", "varchar", "bpchar", "name", "citext", "char", "uuid", "date", "time", "timetz"}
    | {"timestamp", "timestamptz", "interval", "bytea", "inet", "cidr", "macaddr", "macaddr8"}
    | {"money", "xml", "tsvector", "tsquery", "bit", "varbit", "point", "line", "box", "path"}
    | {"polygon", "circle", "lseg", "jsonpath", "pg_lsn"}
)
_JSON_KINDS = {
    "object": "{ [key: string]: Json | undefined }",
    "array": "Json[]",
    "string": "string",
    "number": "number",
    "boolean": "boolean",
}
#: The Python types :mod:`._shapes` uses, in TypeScript.
_SHAPE_TYPES = {"bool": "boolean", "str": "string", "int": "number", "float": "number"}


@dataclass
class TsType:
    """A TypeScript type: one line, or an object type (``fields``) when a shape applies."""

    text: str
    #: For an object type: (key, type, optional, doc comment or '').
    fields: list[tuple[str, str, bool, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def is_object(self) -> bool:
        return bool(self.fields)


def literal(value: object) -> str:
    """A TypeScript literal of a string or number."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _union(values: tuple[object, ...]) -> str:
    return " | ".join(literal(v) for v in values) if values else "never"


def ts_type(
    ref: TypeRef,
    rule: ColumnRule | None = None,
    *,
    shape: JsonShape | None = None,
    defaults: dict[str, object] | None = None,
    tables: frozenset[str] = frozenset(),
    composites: frozenset[str] = frozenset(),
) -> TsType:
    """The TypeScript type of a value of ``ref`` obeying ``rule`` (never ``| null``).

    ``shape`` gives a JSON column's keys (optional when ``defaults`` holds them: an absent
    key reads as its default); ``tables`` and ``composites`` name the row and composite
    types of the schema, referenced rather than repeated.
    """
    if ref.kind == "domain" and ref.element is not None:
        ref = ref.element
    if ref.kind == "array" and ref.element is not None:
        inner = ts_type(ref.element, tables=tables, composites=composites)
        text = f"({inner.text})[]" if " " in inner.text else f"{inner.text}[]"
        return TsType(text, problems=inner.problems)
    values = rule.values if rule is not None else None
    if ref.kind == "enum":
        if ref.schema != SCHEMA:
            return TsType("string")
        if values is not None:
            return TsType(_union(values))
        return TsType(f'Database["{SCHEMA}"]["Enums"]["{ref.name}"]')
    if ref.kind == "composite":
        if ref.schema == SCHEMA and ref.name in tables:
            return TsType(f'Database["{SCHEMA}"]["Tables"]["{ref.name}"]["Row"]')
        if ref.schema == SCHEMA and ref.name in composites:
            return TsType(f'Database["{SCHEMA}"]["CompositeTypes"]["{ref.name}"]')
        return TsType("Record<string, unknown>")
    name = ref.name
    if name in _NUMBER:
        if values is not None and all(isinstance(v, int | Decimal) for v in values):
            return TsType(_union(values))
        return TsType("number")
    if name in _STRING:
        if values is not None and all(isinstance(v, str) for v in values):
            return TsType(_union(values))
        return TsType("string")
    if name == "bool":
        return TsType("boolean")
    if name in ("json", "jsonb"):
        return _json(rule, shape, defaults or {})
    if name == "void":
        return TsType("undefined")
    if name == "record":
        return TsType("Record<string, unknown>")
    return TsType("unknown", problems=[f"type {ref.display} has no TypeScript mapping"])


def _json(rule: ColumnRule | None, shape: JsonShape | None, defaults: dict[str, object]) -> TsType:
    kind = rule.json_kind if rule is not None else None
    if shape is not None and kind in (None, "object"):
        fields = []
        for key, python in shape.fields:
            doc = ""
            if key in defaults:
                doc = f"Absent reads as {json.dumps(defaults[key])} (the column's default)."
            fields.append((key, _SHAPE_TYPES.get(python, "Json"), key in defaults, doc))
        return TsType("{", fields=fields)
    if kind is not None and kind in _JSON_KINDS:
        return TsType(_JSON_KINDS[kind])
    return TsType("Json")
