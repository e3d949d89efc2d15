"""The schema manifest (``models/_schema.json``) and the drift report built from it.

The manifest records what the models were generated from: every table's columns with
their type, nullability, default, identity and translated CHECK rules, the enums and the
functions (with the types their comments give their result columns). Comparing the
committed manifest with a fresh one names what drifted ("projects.color: column is in the
schema but not in the models").
"""

from __future__ import annotations

import json
from typing import Any

from ._catalog import Catalog, Function
from ._plan import Plan
from ._pyfmt import HEADER
from ._results import result_columns

__all__ = ["build_manifest", "diff_manifests", "dump_manifest"]


def _function(function: Function, plan: Plan) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "signature": function.signature,
        "arguments": {
            p.name: {"type": p.type.display, "default": p.has_default} for p in function.arguments
        },
        "returns": function.returns.display,
        "returns_set": function.returns_set,
        "outputs": {p.name: p.type.display for p in function.outputs},
    }
    columns = result_columns(function, plan)
    if columns:
        # The row model's fields, as its comment's annotations type them.
        entry["result_columns"] = {
            c.parameter.name: c.python()[0] + (" | None" if c.nullable else "") for c in columns
        }
    return entry


def build_manifest(catalog: Catalog, plan: Plan) -> dict[str, Any]:
    """The manifest of the models generated as ``plan`` from ``catalog``."""
    tables: dict[str, Any] = {}
    for table_plan in plan.tables:
        columns: dict[str, Any] = {}
        for field in table_plan.fields:
            column = field.column
            columns[column.name] = {
                "type": column.type.display,
                "python": field.type.expression,
                "nullable": field.nullable,
                "default": column.has_default,
                "identity": column.identity,
                "generated": column.generated,
                "primary_key": column.primary_key,
                "never_changes": field.never_changes,
                "check": field.rule.as_dict() if field.rule else {},
            }
            if field.alias_name:
                columns[column.name]["alias"] = field.alias_name
            if column.hidden_from:
                columns[column.name]["hidden_from"] = list(column.hidden_from)
        tables[table_plan.table.name] = {
            "kind": table_plan.table.kind,
            "class": table_plan.class_name,
            "columns": columns,
            "untranslated_checks": sorted(
                f"{u.constraint}: {u.expression}" for u in table_plan.untranslated
            ),
        }
    return {
        "_generated": HEADER,
        "tables": tables,
        "enums": {e.name: list(e.values) for e in catalog.enums},
        "functions": {f.signature: _function(f, plan) for f in catalog.functions},
    }


def dump_manifest(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def _describe(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def diff_manifests(schema: dict[str, Any], models: dict[str, Any]) -> list[str]:
    """What differs between the schema (fresh manifest) and the models (committed one)."""
    out: list[str] = []
    new_tables: dict[str, Any] = schema.get("tables", {})
    old_tables: dict[str, Any] = models.get("tables", {})
    for name in sorted(set(new_tables) | set(old_tables)):
        if name not in old_tables:
            out.append(f"{name}: table is in the schema but not in the models")
            continue
        if name not in new_tables:
            out.append(f"{name}: table is in the models but not in the schema")
            continue
        new, old = new_tables[name], old_tables[name]
        new_columns: dict[str, Any] = new.get("columns", {})
        old_columns: dict[str, Any] = old.get("columns", {})
        for column in new_columns:
            if column not in old_columns:
                out.append(f"{name}.{column}: column is in the schema but not in the models")
        for column in old_columns:
            if column not in new_columns:
                out.append(f"{name}.{column}: column is in the models but not in the schema")
        for column in new_columns:
            if column not in old_columns:
                continue
            for key in sorted(set(new_columns[column]) | set(old_columns[column])):
                a, b = new_columns[column].get(key), old_columns[column].get(key)
                if a != b:
                    out.append(
                        f"{name}.{column}: {key} is {_describe(a)} in the schema but "
                        f"{_describe(b)} in the models"
                    )
        if list(new_columns) != list(old_columns) and set(new_columns) == set(old_columns):
            out.append(f"{name}: column order differs")
        for key in ("kind", "class", "untranslated_checks"):
            if new.get(key) != old.get(key):
                out.append(
                    f"{name}: {key} is {_describe(new.get(key))} in the schema but "
                    f"{_describe(old.get(key))} in the models"
                )
    for section, label in (("enums", "enum"), ("functions", "function")):
        new_items: dict[str, Any] = schema.get(section, {})
        old_items: dict[str, Any] = models.get(section, {})
        for name in sorted(set(new_items) | set(old_items)):
            if name not in old_items:
                out.append(f"{label} {name}: in the schema but not in the models")
            elif name not in new_items:
                out.append(f"{label} {name}: in the models but not in the schema")
            elif new_items[name] != old_items[name]:
                out.append(
                    f"{label} {name}: is {_describe(new_items[name])} in the schema but "
                    f"{_describe(old_items[name])} in the models"
                )
    return out
