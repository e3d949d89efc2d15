"""Map PostgreSQL types (and a column's CHECK rules) to Python annotations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from ._catalog import TypeRef
from ._checks import ColumnRule, Number
from ._naming import pascal

__all__ = ["INT_RANGES", "Imports", "PyType", "python_type"]

#: An import: (module, name); modules starting with '.' are the models package's own.
Imports = set[tuple[str, str]]

INT_RANGES: dict[str, tuple[int, int]] = {
    "int2": (-(2**15), 2**15 - 1),
    "int4": (-(2**31), 2**31 - 1),
    "int8": (-(2**63), 2**63 - 1),
}
_TEXT = frozenset({"text", "varchar", "bpchar", "name", "citext", "char"})
#: Types without rules of their own (integers, text, JSON and numbers are handled apart).
_SIMPLE: dict[str, tuple[str, tuple[str, str] | None]] = {
    "oid": ("int", None),
    "bool": ("bool", None),
    "uuid": ("UUID", ("uuid", "UUID")),
    "timestamptz": ("AwareDatetime", ("pydantic", "AwareDatetime")),
    "timestamp": ("NaiveDatetime", ("pydantic", "NaiveDatetime")),
    "date": ("date", ("datetime", "date")),
    "time": ("time", ("datetime", "time")),
}
#: Types PostgREST returns as JSON strings (no closer Python type is worth the risk).
_AS_STRING = frozenset(
    {"bytea", "inet", "cidr", "macaddr", "macaddr8", "interval", "timetz", "money", "xml"}
    | {"tsvector", "tsquery", "bit", "varbit", "point", "line", "box", "path", "polygon"}
)
_JSON_KINDS = {
    "object": "dict[str, JsonValue]",
    "array": "list[JsonValue]",
    "string": "str",
    "number": "float",
    "boolean": "bool",
}


@dataclass
class PyType:
    """An annotation: ``base`` plus ``Annotated`` metadata, and what it needs imported."""

    base: str
    metadata: list[str] = field(default_factory=list)
    imports: Imports = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    @property
    def expression(self) -> str:
        if not self.metadata:
            return self.base
        return f"Annotated[{', '.join([self.base, *self.metadata])}]"


def _literal(value: object) -> str:
    if isinstance(value, Decimal):
        return f'Decimal("{value}")'
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def python_type(
    ref: TypeRef,
    rule: ColumnRule | None = None,
    *,
    enum_class: str | None = None,
    json_class: str | None = None,
    composites: dict[str, str] | None = None,
) -> PyType:
    """The annotation of a value of type ``ref`` that obeys ``rule``.

    ``enum_class`` names the StrEnum generated for the rule's allowed values,
    ``json_class`` a typed model of a JSON object column, ``composites`` maps table
    names to row classes (for functions returning a table's rows).
    """
    rule = rule or ColumnRule()
    if ref.kind == "domain" and ref.element is not None:
        ref = ref.element
    if ref.kind == "array" and ref.element is not None:
        inner = python_type(ref.element, None, composites=composites)
        result = PyType(f"list[{inner.expression}]", imports=inner.imports)
        _refuse_rule(result, rule, "array")
        return result
    if ref.kind == "enum":
        result = PyType(pascal(ref.name), imports={(".enums", pascal(ref.name))})
        _refuse_rule(result, rule, "enum", allow_refused=True)
        return result
    if ref.kind == "composite":
        row_class = (composites or {}).get(ref.name)
        if row_class is not None:
            return PyType(row_class, imports={(".", row_class)})
        return PyType("dict[str, JsonValue]", imports={("pydantic", "JsonValue")})
    name = ref.name
    if name in INT_RANGES:
        return _integer(name, rule, enum_class)
    if name in _TEXT:
        return _text(ref, rule, enum_class)
    if name in ("json", "jsonb"):
        return _json(rule, json_class)
    if name in ("numeric", "float4", "float8"):
        return _decimal(name, rule)
    if name in _SIMPLE:
        base, imported = _SIMPLE[name]
        result = PyType(base, imports={imported} if imported else set())
        _refuse_rule(result, rule, name)
        return result
    result = PyType("str")
    if name not in _AS_STRING:
        result = PyType("JsonValue", imports={("pydantic", "JsonValue")})
        result.problems.append(f"type {ref.display} has no Python mapping: any JSON accepted")
    _refuse_rule(result, rule, name)
    return result


def _refused(result: PyType, rule: ColumnRule) -> None:
    if rule.refused:
        result.metadata.append(f"not_in({', '.join(_literal(v) for v in rule.refused)})")
        result.imports.add(("._base", "not_in"))
        if any(isinstance(v, Decimal) for v in rule.refused):
            result.imports.add(("decimal", "Decimal"))


def _refuse_rule(result: PyType, rule: ColumnRule, what: str, allow_refused: bool = False) -> None:
    """Report every part of ``rule`` that does not apply to a ``what`` value."""
    unsupported = rule.as_dict()
    unsupported.pop("not_null", None)
    if allow_refused and "refused" in unsupported:
        unsupported.pop("refused")
        _refused(result, rule)
    for key in sorted(unsupported):
        result.problems.append(f"{key} rule on a {what} column is not supported")


def _bounds(rule: ColumnRule) -> str:
    parts = [
        f"{key}={_literal(getattr(rule, key))}"
        for key in ("ge", "gt", "le", "lt")
        if getattr(rule, key) is not None
    ]
    return ", ".join(parts)


def _integer(name: str, rule: ColumnRule, enum_class: str | None) -> PyType:
    low, high = INT_RANGES[name]
    problems: list[str] = []
    for key, value in (("ge", rule.ge), ("gt", rule.gt), ("le", rule.le), ("lt", rule.lt)):
        if value is None:
            continue
        bound = _int_bound(key, value)
        if key in ("ge", "gt"):
            low = max(low, bound)
        else:
            high = min(high, bound)
    if rule.values is not None:
        if not all(isinstance(v, int) for v in rule.values):
            problems.append("non-integer values listed for an integer column")
        values = [v for v in rule.values if isinstance(v, int) and low <= v <= high]
        result = PyType(f"Literal[{', '.join(repr(v) for v in values)}]")
        result.imports.add(("typing", "Literal"))
    elif (low, high) == INT_RANGES[name]:
        result = PyType(pascal(name), imports={("._base", pascal(name))})
    else:
        result = PyType("int", [f"Field(ge={low}, le={high})"], {("pydantic", "Field")})
    if rule.min_length is not None or rule.max_length is not None or rule.json_kind:
        problems.append("length or JSON rule on an integer column is not supported")
    if rule.max_bytes is not None:
        problems.append("byte length rule on an integer column is not supported")
    _refused(result, rule)
    result.problems.extend(problems)
    return result


def _int_bound(key: str, value: Number) -> int:
    """The inclusive integer bound of ``col <key> value``."""
    if key == "ge":
        return math.ceil(value)
    if key == "gt":
        return math.floor(value) + 1
    if key == "le":
        return math.floor(value)
    return math.ceil(value) - 1


def _text(ref: TypeRef, rule: ColumnRule, enum_class: str | None) -> PyType:
    if rule.values is not None:
        if enum_class is None or not all(isinstance(v, str) for v in rule.values):
            result = PyType("str")
            result.problems.append("value list on a text column could not be made an enum")
        else:
            result = PyType(enum_class, imports={(".enums", enum_class)})
        _refused(result, rule)
        return result
    max_length = rule.max_length
    if ref.length is not None:
        max_length = ref.length if max_length is None else min(max_length, ref.length)
    result = PyType("str")
    limits = []
    if rule.min_length is not None and rule.min_length > 0:
        limits.append(f"min_length={rule.min_length}")
    if max_length is not None:
        limits.append(f"max_length={max(max_length, 0)}")
    if limits:
        result.metadata.append(f"Field({', '.join(limits)})")
        result.imports.add(("pydantic", "Field"))
    _refused(result, rule)
    if _bounds(rule) or rule.json_kind:
        result.problems.append("range or JSON rule on a text column is not supported")
    if rule.max_bytes is not None:
        result.problems.append("byte length rule on a text column is not supported")
    return result


def _json(rule: ColumnRule, json_class: str | None) -> PyType:
    kind = rule.json_kind
    if kind == "object" and json_class is not None:
        result = PyType(json_class)
    elif kind in _JSON_KINDS:
        result = PyType(_JSON_KINDS[kind], imports={("pydantic", "JsonValue")})
    elif kind is None and json_class is not None:
        result = PyType(json_class)
    else:
        result = PyType("JsonValue", imports={("pydantic", "JsonValue")})
        if kind is not None:
            result.problems.append(f"JSON kind {kind!r} is not supported")
    if rule.max_bytes is not None:
        # CHECK (octet_length(col::text) <= n): the JSON text, as PostgreSQL writes it.
        result.metadata.append(f"json_max_bytes({rule.max_bytes})")
        result.imports.add(("._base", "json_max_bytes"))
    if rule.values is not None or rule.refused or _bounds(rule) or rule.max_length is not None:
        result.problems.append("value, range or length rule on a JSON column is not supported")
    return result


def _decimal(name: str, rule: ColumnRule) -> PyType:
    base = "Decimal" if name == "numeric" else "float"
    result = PyType(base, imports={("decimal", "Decimal")} if base == "Decimal" else set())
    bounds = _bounds(rule)
    if bounds:
        result.metadata.append(f"Field({bounds})")
        result.imports.add(("pydantic", "Field"))
        if "Decimal(" in bounds:
            result.imports.add(("decimal", "Decimal"))
    _refused(result, rule)
    if rule.values is not None or rule.min_length is not None or rule.json_kind:
        result.problems.append("value, length or JSON rule on a numeric column is not supported")
    if rule.max_bytes is not None:
        result.problems.append("byte length rule on a numeric column is not supported")
    return result
