"""The constrained field types are public: each column whose values a plain type cannot
bound has an ``Annotated`` alias named by its row class and the column (``ProjectTitle``),
used by the models, exported by its table's module and by ``vidgen_db.models``, listed in
docs/models.md, and never the same name for two columns."""

from __future__ import annotations

import importlib
import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import vidgen_db.models as models
from vidgen_db.codegen import default_models_dir, generate_files
from vidgen_db.codegen._catalog import Catalog, Check, Column, Table, TypeRef
from vidgen_db.codegen._naming import pascal

ROOT = Path(__file__).resolve().parent.parent
MANIFEST: dict[str, Any] = json.loads((default_models_dir() / "_schema.json").read_text())
_ROW = re.compile(r"^\| `(\w+)` \| `(\w+)\.(\w+)` \| `(.+)` \|$")


def aliases() -> list[tuple[str, str, str, str, str]]:
    """(alias, table, column, row class, definition) of every constrained column."""
    return [
        (column["alias"], table, name, entry["class"], column["python"])
        for table, entry in MANIFEST["tables"].items()
        for name, column in entry["columns"].items()
        if "alias" in column
    ]


def test_the_columns_the_request_schemas_need_have_their_alias() -> None:
    names = {alias for alias, *_ in aliases()}
    assert {
        "ProjectTitle",
        "ProjectPromptText",
        "ProjectTargetMinutes",
        "DraftPromptSessionToken",
        "DraftPromptPromptText",
        "JobStatusMessage",
        "JobStepStatusMessage",
        "ProjectSettings",  # a JSON size (json_max_bytes) is an alias too
    } <= names


@pytest.mark.parametrize(
    ("alias", "table", "column", "cls", "definition"), aliases(), ids=lambda v: str(v)
)
def test_each_alias_is_public_and_types_its_column(
    alias: str, table: str, column: str, cls: str, definition: str
) -> None:
    # The row class, the column in PascalCase, and a number only if the name was taken.
    assert re.fullmatch(re.escape(cls + pascal(column)) + r"(\d*)", alias)
    module = importlib.import_module(f"vidgen_db.models.{table}")
    assert alias in module.__all__ and alias in models.__all__
    value = getattr(module, alias)
    assert getattr(models, alias) is value
    assert typing.get_origin(value) is typing.Annotated
    # The Row, Insert and Update classes use the alias itself (not a copy of its bounds).
    nullable = MANIFEST["tables"][table]["columns"][column]["nullable"]
    for suffix in ("", "Insert", "Update"):
        model = getattr(module, cls + suffix, None)
        if model is None or column not in model.model_fields:
            continue
        hint = typing.get_type_hints(model, include_extras=True)[column]
        assert hint == (value | None if nullable else value), (model.__name__, hint)


def test_no_private_alias_is_left_in_the_generated_modules() -> None:
    for path in default_models_dir().glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^_\w+ = Annotated\[", text, re.M), path.name


def test_no_two_modules_export_the_same_name() -> None:
    seen: dict[str, str] = {}
    for path in sorted(default_models_dir().glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"vidgen_db.models.{path.stem}")
        for name in module.__all__:
            assert name not in seen, f"{name}: exported by {seen[name]} and {path.stem}"
            seen[name] = path.stem
    assert len(models.__all__) == len(set(models.__all__))


def _documented() -> set[tuple[str, str, str, str]]:
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    section = text.split("### Constrained field types", 1)[1].split("\n### ", 1)[0]
    rows = set()
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            rows.add((match.group(1), match.group(2), match.group(3), match.group(4)))
    return rows


def test_docs_list_every_alias_with_its_definition() -> None:
    expected = {(alias, table, column, d) for alias, table, column, _, d in aliases()}
    documented = _documented()
    table = "\n".join(
        f"| `{a}` | `{t}.{c}` | `{d}` |"
        for a, t, c, _, d in aliases()
        if (a, t, c, d) not in documented
    )
    assert documented == expected, (
        f"docs/models.md's table of aliases is stale; missing rows:\n{table}\n"
        f"rows to remove: {sorted(documented - expected)}"
    )


def test_a_request_schema_reuses_the_bounds() -> None:
    class NewProject(BaseModel):
        title: models.ProjectTitle
        target_minutes: models.ProjectTargetMinutes = 1

    NewProject(title="x" * 200, target_minutes=10)
    for bad in ({"title": "x" * 201}, {"title": "ok", "target_minutes": 11}):
        with pytest.raises(ValidationError):
            NewProject.model_validate(bad)


# -- names that would collide get a number --------------------------------------------------------

_TEXT = TypeRef("pg_catalog", "text", "base", "text")
_UUID = TypeRef("pg_catalog", "uuid", "base", "uuid")


def _column(name: str, type_: TypeRef = _TEXT, *, primary_key: bool = False) -> Column:
    return Column(
        name=name,
        type=type_,
        not_null=primary_key,
        has_default=False,
        default=None,
        identity="",
        generated=False,
        primary_key=primary_key,
        owner=False,
    )


def _short(table: str, column: str) -> Check:
    return Check(f"{table}_{column}_check", f"(char_length({column}) <= 10)", (column,))


def test_alias_names_are_unique_whatever_the_columns() -> None:
    # job_steps.note and jobs.step_note would both be JobStepNote; widgets.insert would be
    # the name of the Insert class.
    catalog = Catalog(
        tables=[
            Table(
                "job_steps",
                "table",
                (_column("id", _UUID, primary_key=True), _column("note")),
                (_short("job_steps", "note"),),
            ),
            Table(
                "jobs",
                "table",
                (_column("id", _UUID, primary_key=True), _column("step_note")),
                (_short("jobs", "step_note"),),
            ),
            Table(
                "widgets",
                "table",
                (_column("id", _UUID, primary_key=True), _column("insert")),
                (_short("widgets", "insert"),),
            ),
        ]
    )
    files, _ = generate_files(catalog)
    assert "JobStepNote = Annotated[str, Field(max_length=10)]" in files["job_steps.py"]
    assert "JobStepNote2 = Annotated[str, Field(max_length=10)]" in files["jobs.py"]
    assert "    step_note: JobStepNote2 | None = None" in files["jobs.py"]
    assert "WidgetInsert2 = Annotated[str, Field(max_length=10)]" in files["widgets.py"]
    assert "class WidgetInsert(InsertModel):" in files["widgets.py"]
    init = files["__init__.py"]
    for name in ("JobStepNote", "JobStepNote2", "WidgetInsert2"):
        assert f'    "{name}",' in init
