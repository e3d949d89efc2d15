"""Decide, from the catalog, every class, field and enum the generated code will contain.

A column with constraints a plain type cannot carry (bounds, lengths, a JSON size) gets a
public ``Annotated`` alias named by its row class and the column (``projects.title`` ->
``ProjectTitle``), so request schemas reuse the bounds; a name another generated name
already has gets a number (``ProjectTitle2``).

The never-changes rule (columns absent from Update models): primary-key columns,
identity and generated columns, ``created_at``, and owner columns, i.e. NOT NULL columns
whose foreign key references ``auth.users`` (a nullable one, like a draft's ``user_id``,
is set later, so it stays updatable).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ._catalog import Catalog, Check, Column, Table
from ._checks import ColumnRule, Untranslated, translate_checks
from ._naming import class_name, enum_member, enum_name, field_name, module_name, pascal
from ._shapes import JSON_SHAPES, JsonShape
from ._types import PyType, python_type

__all__ = ["EnumPlan", "FieldPlan", "JsonModelPlan", "Plan", "TablePlan", "make_plan"]

_TEXT_TYPES = frozenset({"text", "varchar", "bpchar", "name", "citext", "char"})


@dataclass
class EnumPlan:
    class_name: str
    values: tuple[str, ...]
    members: tuple[str, ...]
    doc: str
    pg_type: str | None = None  # set for PostgreSQL enums
    columns: list[str] = field(default_factory=list)  # table.column, for CHECK enums


@dataclass
class JsonModelPlan:
    class_name: str
    doc: str
    #: (key, python type, default literal or None when required)
    fields: list[tuple[str, str, str | None]]


@dataclass
class FieldPlan:
    column: Column
    attr: str
    type: PyType
    alias_name: str | None  # a module-level alias holding the annotation
    nullable: bool
    in_insert: bool
    never_changes: bool
    rule: ColumnRule | None

    @property
    def annotation(self) -> str:
        return self.alias_name or self.type.expression


@dataclass
class TablePlan:
    table: Table
    module: str
    class_name: str
    fields: list[FieldPlan]
    json_models: list[JsonModelPlan]
    untranslated: list[Untranslated]


@dataclass
class Plan:
    tables: list[TablePlan]
    enums: list[EnumPlan]
    warnings: list[str]


def never_changes(column: Column) -> bool:
    """Whether a column is left out of Update models (see the module docstring)."""
    return (
        column.primary_key
        or column.identity != ""
        or column.generated
        or column.name == "created_at"
        or (column.owner and column.not_null)
    )


def _domain_checks(table: Table) -> tuple[Check, ...]:
    """The CHECKs of the domains columns are declared with, applied to those columns."""
    return tuple(
        Check(f"{column.type.name}.{name}", expression, (column.name,), column.name)
        for column in table.columns
        if column.type.kind == "domain"
        for name, expression in column.type.checks
    )


def _members(values: tuple[str, ...]) -> tuple[str, ...]:
    used: set[str] = set()
    return tuple(enum_member(v, used) for v in values)


def _check_enums(
    catalog: Catalog, rules: dict[str, dict[str, ColumnRule]], taken: set[str]
) -> tuple[list[EnumPlan], dict[tuple[str, str], str]]:
    """StrEnums for text columns restricted by ``CHECK (col IN (...))``."""
    plans: dict[str, EnumPlan] = {}
    by_column: dict[tuple[str, str], str] = {}
    for table in catalog.tables:
        for column in table.columns:
            rule = rules[table.name].get(column.name)
            ref = column.type.element if column.type.kind == "domain" else column.type
            if rule is None or rule.values is None or ref is None or ref.name not in _TEXT_TYPES:
                continue
            if not all(isinstance(v, str) for v in rule.values) or not rule.values:
                continue
            values = tuple(str(v) for v in rule.values)
            name = enum_name(table.name, column.name)
            existing = plans.get(name)
            if (existing is None and name in taken) or (existing and existing.values != values):
                name = class_name(table.name) + pascal(column.name)
                counter = 2
                stem = name
                while name in taken or (name in plans and plans[name].values != values):
                    name, counter = f"{stem}{counter}", counter + 1
            plan = plans.get(name)
            if plan is None:
                plan = EnumPlan(name, values, _members(values), "")
                plans[name] = plan
                taken.add(name)
            plan.columns.append(f"{table.name}.{column.name}")
            by_column[(table.name, column.name)] = name
    for plan in plans.values():
        plan.doc = f"Values allowed by the CHECK constraint of {', '.join(plan.columns)}."
    return list(plans.values()), by_column


def _json_default(column: Column) -> dict[str, object]:
    match = re.fullmatch(r"'(.*)'::jsonb?", column.default or "", re.DOTALL)
    if not match:
        return {}
    try:
        value = json.loads(match.group(1).replace("''", "'"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _json_model(shape: JsonShape, column: Column) -> JsonModelPlan:
    from ._pyfmt import py_literal

    defaults = _json_default(column)
    fields: list[tuple[str, str, str | None]] = []
    for key, type_name in shape.fields:
        fields.append((key, type_name, py_literal(defaults[key]) if key in defaults else None))
    return JsonModelPlan(shape.class_name, shape.doc, fields)


def _other_names(catalog: Catalog) -> set[str]:
    """The rest of the package's names an alias must not take: the Insert and Update
    classes, the JSON sub-models, the RPC classes and the base's exports."""
    names = {"RPC_FUNCTIONS", "RowModel", "InsertModel", "UpdateModel", "WriteModel"}
    names |= {"JsonObject", "RpcFunction", "RpcParams", "DB_DEFAULT", "UNCHANGED"}
    for table in catalog.tables:
        names |= {class_name(table.name) + suffix for suffix in ("Insert", "Update")}
    names |= {shape.class_name for shape in JSON_SHAPES.values()}
    for function in catalog.functions:
        names |= {pascal(function.name) + suffix for suffix in ("Params", "Result", "Row")}
    return names


def _alias_name(cls: str, column: str, taken: set[str]) -> str:
    """The public alias of a constrained column: row class + column, unique."""
    stem = name = cls + pascal(column)
    counter = 2
    while name in taken:
        name, counter = f"{stem}{counter}", counter + 1
    taken.add(name)
    return name


def make_plan(catalog: Catalog) -> Plan:
    """Every generated class and enum, and the warnings to print."""
    warnings: list[str] = []
    rules: dict[str, dict[str, ColumnRule]] = {}
    untranslated: dict[str, list[Untranslated]] = {}
    for table in catalog.tables:
        rules[table.name], untranslated[table.name] = translate_checks(
            table.checks + _domain_checks(table)
        )
    taken = {class_name(t.name) for t in catalog.tables}
    pg_enums = [
        EnumPlan(
            pascal(e.name),
            e.values,
            _members(e.values),
            f"The PostgreSQL enum public.{e.name}.",
            pg_type=e.name,
        )
        for e in catalog.enums
    ]
    taken |= {e.class_name for e in pg_enums}
    check_enums, enum_of = _check_enums(catalog, rules, taken)
    taken |= _other_names(catalog)
    tables: list[TablePlan] = []
    for table in catalog.tables:
        cls = class_name(table.name)
        plan = TablePlan(table, module_name(table.name), cls, [], [], untranslated[table.name])
        for column in table.columns:
            rule = rules[table.name].get(column.name)
            json_class = None
            shape = JSON_SHAPES.get((table.name, column.name))
            if shape is not None and column.type.name in ("json", "jsonb"):
                plan.json_models.append(_json_model(shape, column))
                json_class = shape.class_name
            pytype = python_type(
                column.type,
                rule,
                enum_class=enum_of.get((table.name, column.name)),
                json_class=json_class,
            )
            for problem in pytype.problems:
                plan.untranslated.append(
                    Untranslated(
                        ", ".join(rule.sources) if rule else "type",
                        f"{table.name}.{column.name}",
                        problem,
                    )
                )
            attr = field_name(column.name)
            alias = _alias_name(cls, column.name, taken) if pytype.metadata else None
            nullable = not (
                column.not_null or column.type.not_null or (rule is not None and rule.not_null)
            )
            plan.fields.append(
                FieldPlan(
                    column=column,
                    attr=attr,
                    type=pytype,
                    alias_name=alias,
                    nullable=nullable,
                    in_insert=table.kind == "table"
                    and not column.generated
                    and column.identity != "always",
                    never_changes=never_changes(column),
                    rule=rule,
                )
            )
        for item in plan.untranslated:
            warnings.append(
                f"{table.name}: CHECK {item.constraint} not enforced by the models "
                f"({item.reason}): {item.expression}"
            )
        tables.append(plan)
    enums = sorted([*pg_enums, *check_enums], key=lambda e: e.class_name)
    return Plan(tables, enums, warnings)
