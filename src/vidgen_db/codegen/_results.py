"""The columns a function returns (``RETURNS TABLE`` or ``OUT`` parameters), as typed by
the annotations of its comment.

PostgreSQL records neither the nullability of those columns nor where their values come
from: unannotated, each is ``X | None`` and a text column is ``str``. The migration that
knows better says so in the function's comment, one annotation a line after the prose::

    COMMENT ON FUNCTION public.get_dashboard(integer, timestamptz, uuid) IS
    $$The signed-in user's projects, newest first, each with its latest job.
    @from public.projects: id, title, niche_preset, created_at$$;

    COMMENT ON FUNCTION public.recover_jobs(integer) IS $$Recovers expired leases.
    @not_null job_id, outcome$$;

* ``@from <table>: a, b``: each column is the column of the same name of a ``public``
  table's row the function returns (not an outer-joined one): it takes that column's type,
  enum, bounds (its public alias) and nullability;
* ``@not_null a, b``: the column is never NULL.

An annotation is checked against the catalog: an unknown ``@`` word, a column the function
does not return, a table that is not in ``public``, a column missing there or of another
type, a column named twice, an annotation on a function without result columns: the
generator stops with a :class:`~vidgen_db.ConfigurationError`. That a column called not
null never is NULL is the SQL's promise; a test calls each annotated function on the data
that could break it and validates the rows (tests/test_rpc_result_columns.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .._errors import ConfigurationError
from ._catalog import SCHEMA, Function, Parameter
from ._plan import FieldPlan, Plan, TablePlan
from ._types import Imports, python_type

__all__ = [
    "Annotations",
    "ResultColumn",
    "comment_prose",
    "parse_annotations",
    "result_columns",
]

_DIRECTIVE = re.compile(r"@(\w+)\s*(.*)")
_FROM = re.compile(r"([\w.\"]+)\s*:\s*(.*)")
_WORDS = ("from", "not_null")


@dataclass(frozen=True)
class Annotations:
    """What a function's comment says of its result columns."""

    not_null: tuple[str, ...] = ()
    #: column -> the ``public`` table whose same-named column it is
    sources: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.not_null or self.sources)


@dataclass(frozen=True)
class ResultColumn:
    """One column of the rows a function returns, as the models type it."""

    parameter: Parameter
    nullable: bool
    #: The table column it is (``@from``), else None.
    table: TablePlan | None = None
    field: FieldPlan | None = None

    def python(self) -> tuple[str, Imports]:
        """The annotation of the column's model field (without ``| None``) and its imports."""
        if self.table is None or self.field is None:
            pytype = python_type(self.parameter.type)
            return pytype.expression, set(pytype.imports)
        module = f".{self.table.module}"
        if self.field.alias_name:
            return self.field.alias_name, {(module, self.field.alias_name)}
        expression = self.field.type.expression
        imports = set(self.field.type.imports)
        if expression in {m.class_name for m in self.table.json_models}:
            imports.add((module, expression))
        return expression, imports


def _fail(signature: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"the comment of function {signature}: {message}")


def _names(signature: str, text: str, where: str) -> list[str]:
    names = [name.strip().strip('"') for name in text.split(",")]
    if not all(names):
        raise _fail(signature, f"{where}: expected a comma-separated list of column names")
    return names


def comment_prose(comment: str | None) -> str:
    """The comment without its annotation lines."""
    lines = (comment or "").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("@")).strip()


def parse_annotations(signature: str, comment: str | None) -> Annotations:
    """The ``@`` lines of a function's comment (ConfigurationError when malformed)."""
    not_null: list[str] = []
    sources: list[tuple[str, str]] = []
    for line in (comment or "").splitlines():
        text = line.strip()
        if not text.startswith("@"):
            continue
        match = _DIRECTIVE.fullmatch(text)
        word, rest = (match.group(1), match.group(2).strip()) if match else ("", "")
        if word == "not_null":
            not_null += _names(signature, rest, "@not_null")
        elif word == "from":
            parts = _FROM.fullmatch(rest)
            if parts is None:
                raise _fail(signature, f"expected '@from <table>: <columns>', got {text!r}")
            schema, _, table = parts.group(1).replace('"', "").rpartition(".")
            if schema not in ("", SCHEMA):
                raise _fail(signature, f"@from {parts.group(1)}: only {SCHEMA} tables have models")
            sources += [(name, table) for name in _names(signature, parts.group(2), "@from")]
        else:
            known = ", ".join(f"@{w}" for w in _WORDS)
            raise _fail(signature, f"unknown annotation {text.split()[0]!r} (known: {known})")
    for what, names in (("@not_null", not_null), ("@from", [name for name, _ in sources])):
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise _fail(signature, f"{what} names {', '.join(repeated)} more than once")
    return Annotations(tuple(not_null), tuple(sources))


def result_columns(function: Function, plan: Plan) -> list[ResultColumn]:
    """The columns of a function returning rows of its own (RETURNS TABLE / OUT), typed by
    its annotations; empty for other functions (ConfigurationError if they are annotated)."""
    signature = function.signature
    annotations = parse_annotations(signature, function.comment)
    outputs = [p for p in function.outputs if p.name]
    if not (outputs and function.returns.name == "record"):
        if annotations:
            raise _fail(signature, "annotations type RETURNS TABLE (or OUT) columns; it has none")
        return []
    returned = {p.name for p in outputs}
    named = [*annotations.not_null, *(name for name, _ in annotations.sources)]
    unknown = sorted({name for name in named if name not in returned})
    if unknown:
        raise _fail(signature, f"it returns no column {', '.join(unknown)}")
    tables = {t.table.name: t for t in plan.tables}
    sources = dict(annotations.sources)
    columns: list[ResultColumn] = []
    for parameter in outputs:
        table_name = sources.get(parameter.name)
        never_null = parameter.name in annotations.not_null
        if table_name is None:
            columns.append(ResultColumn(parameter, nullable=not never_null))
            continue
        table = tables.get(table_name)
        if table is None:
            raise _fail(signature, f"@from {table_name}: no such table or view in {SCHEMA}")
        field = next((f for f in table.fields if f.column.name == parameter.name), None)
        if field is None:
            raise _fail(signature, f"@from {table_name}: it has no column {parameter.name}")
        ours, theirs = parameter.type, field.column.type
        if (ours.schema, ours.name) != (theirs.schema, theirs.name):
            raise _fail(
                signature,
                f"@from {table_name}: {parameter.name} is {ours.display} here but "
                f"{theirs.display} in the table",
            )
        columns.append(
            ResultColumn(parameter, field.nullable and not never_null, table=table, field=field)
        )
    return columns
