"""Render one table's module: its Row, Insert and Update models (a view: Row only)."""

from __future__ import annotations

from ._plan import FieldPlan, TablePlan
from ._pyfmt import assignment, comment, docstring, import_block, module_docstring
from ._types import Imports

__all__ = ["render_table"]


def _field(field: FieldPlan, annotation: str, default: str | None) -> str:
    """``attr: annotation [= default]``, with an alias when the attribute is renamed."""
    name = field.column.name
    if field.attr != name:
        args = [default] if default is not None else []
        args.append(f'alias="{name}"')
        return f"    {field.attr}: {annotation} = Field({', '.join(args)})"
    if default is None:
        return f"    {field.attr}: {annotation}"
    return f"    {field.attr}: {annotation} = {default}"


def _row_field(field: FieldPlan) -> str:
    hidden = field.column.hidden_from
    if hidden:
        # A role that reads the table may not select this column: its rows lack it.
        note = f"    # Not readable by {', '.join(hidden)}: absent from the rows they read.\n"
        return note + _field(field, f"{field.annotation} | None", "None")
    if field.nullable:
        return _field(field, f"{field.annotation} | None", "None")
    return _field(field, field.annotation, None)


def _insert_field(field: FieldPlan) -> str:
    annotation = f"{field.annotation} | None" if field.nullable else field.annotation
    if field.column.has_default:
        return _field(field, annotation, "DB_DEFAULT")
    if field.nullable:
        return _field(field, annotation, "None")
    return _field(field, annotation, None)


def _update_field(field: FieldPlan) -> str:
    annotation = f"{field.annotation} | None" if field.nullable else field.annotation
    return _field(field, annotation, "UNCHANGED")


def _class(name: str, base: str, doc: str, lines: list[str]) -> list[str]:
    body = docstring(doc, "    ")
    if lines:
        body += ["", *lines]
    return ["", "", f"class {name}({base}):", *body]


def render_table(plan: TablePlan) -> str:
    """The source of ``models/<table>.py``."""
    table = plan.table
    cls = plan.class_name
    is_table = table.kind == "table"
    imports: Imports = {("._base", "RowModel")}
    for field in plan.fields:
        imports |= field.type.imports
        if field.alias_name:
            imports.add(("typing", "Annotated"))
        if field.attr != field.column.name:
            imports.add(("pydantic", "Field"))
    inserts = [f for f in plan.fields if f.in_insert]
    updates = [f for f in plan.fields if not f.never_changes]
    if is_table:
        imports |= {("._base", "InsertModel"), ("._base", "UpdateModel")}
        if any(f.column.has_default for f in inserts):
            imports.add(("._base", "DB_DEFAULT"))
        if updates:
            imports.add(("._base", "UNCHANGED"))
    if plan.json_models:
        imports.add(("._base", "JsonObject"))
    names = [m.class_name for m in plan.json_models] + [cls]
    names += [f.alias_name for f in plan.fields if f.alias_name]
    if is_table:
        names += [f"{cls}Insert", f"{cls}Update"]
    what = "table" if is_table else "view"
    lines = module_docstring(f"Models of the public.{table.name} {what}.")
    lines += ["", *import_block(imports), ""]
    lines += [
        "__all__ = [",
        *(f'    "{n}",' for n in sorted(names, key=lambda n: (n.upper() != n, n))),
        "]",
    ]
    if plan.untranslated:
        lines.append("")
        lines += comment("Not enforced by these models (the database still checks it):")
        for item in plan.untranslated:
            lines += comment(f"{item.constraint}: {item.expression} ({item.reason})")
    # JSON sub-models first: an alias may constrain one (a byte bound on its JSON text).
    for model in plan.json_models:
        body = []
        for key, type_name, default in model.fields:
            body.append(f"    {key}: {type_name}" + (f" = {default}" if default else ""))
        lines += _class(model.class_name, "JsonObject", model.doc, body)
    aliases = [f for f in plan.fields if f.alias_name]
    if aliases:
        lines.append("")
        if plan.json_models:
            lines.append("")
    for field in aliases:
        if field.rule is not None and field.rule.sources:
            lines += comment(f"{table.name}.{field.column.name}: {', '.join(field.rule.sources)}")
        assert field.alias_name is not None
        lines += assignment(field.alias_name, field.type.expression)
    lines += _class(
        cls,
        "RowModel",
        f"A row of public.{table.name}, as selected.",
        [_row_field(f) for f in plan.fields],
    )
    if is_table:
        lines += _class(
            f"{cls}Insert",
            "InsertModel",
            f"The columns of an INSERT into public.{table.name}; unset fields take their default.",
            [_insert_field(f) for f in inserts],
        )
        lines += _class(
            f"{cls}Update",
            "UpdateModel",
            f"The columns of an UPDATE of public.{table.name}; unset fields keep their value.",
            [_update_field(f) for f in updates],
        )
    return "\n".join(lines) + "\n"
