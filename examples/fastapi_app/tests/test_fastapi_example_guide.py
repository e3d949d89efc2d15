"""docs/fastapi.md shows this example's code as it is, and the request bodies keep the
bounds of the columns they are written to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from vidgen_db.models import DraftPromptInsert, ProjectInsert
from vidgen_fastapi_example.schemas import DraftClaim, NewDraft, NewProject

EXAMPLE = Path(__file__).resolve().parents[1]
GUIDE = EXAMPLE.parents[1] / "docs" / "fastapi.md"
CONTINUES = "# (continues the example above)\n"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def guide() -> str:
    if not GUIDE.is_file():
        pytest.skip("docs/fastapi.md is not here: the example was copied out of vidgen_db")
    return GUIDE.read_text(encoding="utf-8")


def test_every_python_block_of_the_guide_is_code_of_the_example() -> None:
    sources = [path.read_text(encoding="utf-8") for path in EXAMPLE.rglob("*.py")]
    blocks = _BLOCK.findall(guide())
    assert blocks
    for block in blocks:
        code = block.removeprefix(CONTINUES)
        assert any(code in source for source in sources), (
            f"docs/fastapi.md shows code that is not in examples/fastapi_app:\n{code}"
        )


def test_the_guide_names_every_module_of_the_example() -> None:
    text = guide()
    for path in sorted(EXAMPLE.rglob("*.py")):
        if path.name != "__init__.py":
            assert path.relative_to(EXAMPLE).as_posix() in text, path


@pytest.mark.parametrize(
    ("ours", "field", "model", "column"),
    [
        (NewDraft, "session_token", DraftPromptInsert, "session_token"),
        (DraftClaim, "session_token", DraftPromptInsert, "session_token"),
        (NewDraft, "prompt_text", DraftPromptInsert, "prompt_text"),
        (NewProject, "title", ProjectInsert, "title"),
        (NewProject, "prompt_text", ProjectInsert, "prompt_text"),
        (NewProject, "target_minutes", ProjectInsert, "target_minutes"),
    ],
)
def test_request_bodies_keep_the_bounds_of_their_columns(
    ours: type[BaseModel], field: str, model: type[BaseModel], column: str
) -> None:
    assert ours.model_fields[field].metadata == model.model_fields[column].metadata
