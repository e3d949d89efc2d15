"""Render ``models/enums.py``: PostgreSQL enums and ``CHECK (col IN (...))`` lists."""

from __future__ import annotations

from ._plan import EnumPlan
from ._pyfmt import docstring, module_docstring, py_literal

__all__ = ["render_enums"]


def render_enums(enums: list[EnumPlan]) -> str:
    """The source of ``models/enums.py``."""
    lines = module_docstring(
        "Enumerations of the schema, as StrEnums (members compare equal to their values)."
    )
    lines += ["", "from enum import StrEnum", ""]
    lines += ["__all__ = [", *(f'    "{e.class_name}",' for e in enums), "]"]
    for enum in enums:
        lines += ["", "", f"class {enum.class_name}(StrEnum):", *docstring(enum.doc, "    ")]
        lines.append("")
        for member, value in zip(enum.members, enum.values, strict=True):
            lines.append(f"    {member} = {py_literal(value)}")
    return "\n".join(lines) + "\n"
