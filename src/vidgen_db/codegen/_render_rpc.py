"""Render ``models/rpc.py``: parameter and result types of the API-callable functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._catalog import Function, Parameter
from ._naming import class_name, field_name, module_name, pascal
from ._plan import Plan
from ._pyfmt import assignment, comment, docstring, import_block, module_docstring
from ._results import result_columns
from ._types import Imports, PyType, python_type

__all__ = ["RpcPlan", "plan_rpc", "render_rpc"]


@dataclass
class RpcPlan:
    functions: list[Function] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (signature, reason)


def plan_rpc(functions: list[Function]) -> RpcPlan:
    """Which functions get models; overloaded or unnamed-argument ones are skipped."""
    plan = RpcPlan()
    counts: dict[str, int] = {}
    for function in functions:
        counts[function.name] = counts.get(function.name, 0) + 1
    for function in functions:
        if counts[function.name] > 1:
            plan.skipped.append(
                (function.signature, "overloaded: the registry has one entry per name")
            )
        elif function.unnamed_arguments:
            plan.skipped.append((function.signature, "has unnamed arguments"))
        else:
            plan.functions.append(function)
    return plan


def _argument(parameter: Parameter, pytype: PyType, *, optional: bool, default: str) -> str:
    attr = field_name(parameter.name)
    annotation = pytype.expression + (" | None" if optional else "")
    if attr != parameter.name:
        args = ([default] if default else []) + [f'alias="{parameter.name}"']
        return f"    {attr}: {annotation} = Field({', '.join(args)})"
    return f"    {attr}: {annotation}" + (f" = {default}" if default else "")


def _result(
    function: Function, plan: Plan, composites: dict[str, str], imports: Imports
) -> tuple[str, list[str]]:
    """The result annotation, and the lines of a row class when the function needs one."""
    base = pascal(function.name)
    returns = function.returns
    lines: list[str] = []
    columns = result_columns(function, plan)
    if columns:
        body = []
        for column in columns:
            expression, needs = column.python()
            imports.update(needs)
            optional = column.nullable
            pytype = PyType(expression)
            default = "None" if optional else ""
            body.append(_argument(column.parameter, pytype, optional=optional, default=default))
            if field_name(column.parameter.name) != column.parameter.name:
                imports.add(("pydantic", "Field"))
        doc = f"A row returned by public.{function.signature}."
        lines = ["", "", f"class {base}Row(RowModel):", *docstring(doc, "    "), "", *body]
        imports.add(("._base", "RowModel"))
        item = f"{base}Row"
    elif returns.name == "void":
        return "None", []
    elif returns.kind == "pseudo":
        imports.add(("pydantic", "JsonValue"))
        item = "JsonValue"
    else:
        pytype = python_type(returns, composites=composites)
        imports.update(pytype.imports)
        item = pytype.expression
    if function.returns_set:
        return f"list[{item}]", lines
    return f"{item} | None", lines


def render_rpc(plan: Plan, rpc: RpcPlan) -> str:
    """The source of ``models/rpc.py``."""
    by_table = {t.table.name: f".{module_name(t.table.name)}" for t in plan.tables}
    composite_names = {name: class_name(name) for name in by_table}
    imports: Imports = {("._base", "RpcFunction"), ("._base", "RpcParams")}
    imports |= {("collections.abc", "Mapping"), ("typing", "Final"), ("typing", "TypeAlias")}
    blocks: list[str] = []
    names: list[str] = []
    registry: list[str] = []
    for function in rpc.functions:
        base = pascal(function.name)
        body: list[str] = []
        for parameter in function.arguments:
            pytype = python_type(parameter.type, composites=composite_names)
            imports.update(pytype.imports)
            default = "DB_DEFAULT" if parameter.has_default else ""
            if parameter.has_default:
                imports.add(("._base", "DB_DEFAULT"))
            body.append(_argument(parameter, pytype, optional=False, default=default))
            if field_name(parameter.name) != parameter.name:
                imports.add(("pydantic", "Field"))
        doc = f"Arguments of public.{function.signature}."
        blocks += ["", "", f"class {base}Params(RpcParams):", *docstring(doc, "    ")]
        if body:
            blocks += ["", *body]
        result, row_lines = _result(function, plan, composite_names, imports)
        blocks += row_lines
        blocks += ["", "", *assignment(f"{base}Result: TypeAlias", result)]
        names += [f"{base}Params", f"{base}Result"] + ([f"{base}Row"] if row_lines else [])
        registry += [
            f'    "{function.name}": RpcFunction(',
            f'        name="{function.name}",',
            f"        params={base}Params,",
            f"        result={base}Result,",
            f"        returns_set={function.returns_set},",
            "    ),",
        ]
    imports = {_resolve(i, by_table) for i in imports}
    lines = module_docstring(
        "Typed arguments and results of the public SQL functions the API roles may call "
        "(POST /rpc/<name>).",
        "RPC_FUNCTIONS maps each function's name to its RpcFunction: the params model "
        "(to_postgrest() gives the request body) and the result type (parse_result() "
        "validates the response). Scalar results are Optional: SQL functions may return "
        "NULL.",
    )
    lines += ["", *import_block(imports), ""]
    all_names = ["RPC_FUNCTIONS", *sorted(names)]
    lines += ["__all__ = [", *(f'    "{n}",' for n in all_names), "]"]
    if rpc.skipped:
        lines.append("")
        lines += comment("Not modelled (call these with a hand-written body):")
        for signature, reason in rpc.skipped:
            lines += comment(f"{signature}: {reason}")
    lines += blocks
    head = "RPC_FUNCTIONS: Final[Mapping[str, RpcFunction]] = {"
    lines += ["", "", head, *registry, "}"] if registry else ["", "", head + "}"]
    return "\n".join(lines) + "\n"


def _resolve(item: tuple[str, str], by_table: dict[str, str]) -> tuple[str, str]:
    """Row classes of tables are imported from their own module."""
    module, name = item
    if module == ".":
        for table, table_module in by_table.items():
            if class_name(table) == name:
                return (table_module, name)
    return item
