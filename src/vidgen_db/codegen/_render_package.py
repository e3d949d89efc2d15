"""Render ``models/__init__.py`` and assemble every generated file."""

from __future__ import annotations

from ._catalog import Catalog
from ._manifest import build_manifest, dump_manifest
from ._plan import Plan
from ._pyfmt import import_block, module_docstring
from ._render_enums import render_enums
from ._render_rpc import RpcPlan, render_rpc
from ._render_tables import render_table
from ._types import Imports

__all__ = ["MANIFEST", "render_all"]

MANIFEST = "_schema.json"
_BASE_EXPORTS = (
    "DB_DEFAULT",
    "UNCHANGED",
    "InsertModel",
    "JsonObject",
    "RowModel",
    "RpcFunction",
    "RpcParams",
    "UpdateModel",
    "WriteModel",
)


def _all_key(name: str) -> tuple[int, str]:
    return (0 if name.upper() == name else 1, name)


def render_init(exports: dict[str, list[str]]) -> str:
    """``models/__init__.py``: re-exports of every generated name."""
    imports: Imports = {(module, name) for module, names in exports.items() for name in names}
    everything = sorted({name for names in exports.values() for name in names}, key=_all_key)
    lines = module_docstring(
        "Typed Pydantic models of the vidgen database, generated from its migrations.",
        "Per table: <Row> (a row as selected; unknown keys ignored), <Row>Insert and "
        "<Row>Update (request bodies; unknown keys refused; to_postgrest() gives the JSON "
        "body with only the fields that were set). Enums are in .enums, function "
        "signatures in .rpc (RPC_FUNCTIONS). See docs/models.md.",
    )
    lines += ["", *import_block(imports), ""]
    lines += ["__all__ = [", *(f'    "{n}",' for n in everything), "]"]
    return "\n".join(lines) + "\n"


def _names_in_all(source: str) -> list[str]:
    start = source.index("__all__ = [")
    end = source.index("]", start)
    return [line.strip().strip('",') for line in source[start:end].splitlines()[1:]]


def render_all(catalog: Catalog, plan: Plan, rpc: RpcPlan) -> dict[str, str]:
    """Every generated file: name inside models/ -> text."""
    files: dict[str, str] = {}
    exports: dict[str, list[str]] = {"._base": list(_BASE_EXPORTS)}
    for table in plan.tables:
        source = render_table(table)
        files[f"{table.module}.py"] = source
        exports[f".{table.module}"] = _names_in_all(source)
    files["enums.py"] = render_enums(plan.enums)
    exports[".enums"] = _names_in_all(files["enums.py"])
    files["rpc.py"] = render_rpc(plan, rpc)
    exports[".rpc"] = _names_in_all(files["rpc.py"])
    files["__init__.py"] = render_init(exports)
    files[MANIFEST] = dump_manifest(build_manifest(catalog, plan))
    return dict(sorted(files.items()))
