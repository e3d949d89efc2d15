"""The pytest plugin, as another project's test suite uses it (a pytest subprocess that
loads it through its ``pytest11`` entry point)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vidgen_db.testing import LocalStack

SUITE = textwrap.dedent(
    """
    import pytest
    from vidgen_db import NotFoundError
    from vidgen_db.models import NichePreset, ProjectInsert


    def test_users_and_service(vidgen_user_factory, vidgen_service):
        ada = vidgen_user_factory("ada@example.com", name="Ada")
        bob = vidgen_user_factory()
        assert ada.credits.balance() == 10
        project = ada.projects.create(
            ProjectInsert(user_id=ada.user_id, title="t", prompt_text="p",
                          niche_preset=NichePreset.FACTS)
        )
        with pytest.raises(NotFoundError):
            bob.projects.get(project.id)
        assert vidgen_service.projects.get(project.id).title == "t"


    def test_isolated_starts_empty(vidgen_db_isolated, vidgen_service):
        assert vidgen_service.projects.list().items == []
        user_id, token = vidgen_db_isolated.create_user("again@example.com")
        with vidgen_db_isolated.user_client(token) as db:
            assert db.profiles.get_mine().id == user_id


    def test_stack_is_shared(vidgen_stack, vidgen_db_isolated):
        assert vidgen_stack is vidgen_db_isolated
        assert vidgen_stack.url.startswith("http://127.0.0.1:")
    """
)


def test_the_plugin_serves_another_projects_suite(
    local_stack: LocalStack, admin_url: str, tmp_path: Path
) -> None:
    (tmp_path / "test_app.py").write_text(SUITE, encoding="utf-8")
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--vidgen-server-url",
            admin_url,
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def _pytest(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n", encoding="utf-8")
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_the_old_option_name_still_works_with_a_warning(tmp_path: Path) -> None:
    result = _pytest(tmp_path, "--vidgen-database-url", "postgresql://postgres@127.0.0.1/x")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PytestDeprecationWarning: --vidgen-database-url is deprecated" in result.stdout
    assert "use --vidgen-server-url" in result.stdout


def test_the_old_and_new_option_names_must_agree(tmp_path: Path) -> None:
    same = "postgresql://postgres@127.0.0.1/x"
    assert (
        _pytest(tmp_path, "--vidgen-database-url", same, "--vidgen-server-url", same).returncode
        == 0
    )
    result = _pytest(tmp_path, "--vidgen-database-url", same, "--vidgen-server-url", same + "y")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "pass --vidgen-server-url alone" in result.stderr


def test_the_plugin_options_say_which_is_the_server(tmp_path: Path) -> None:
    result = _pytest(tmp_path, "--help")
    assert "--vidgen-server-url" in result.stdout
    assert "deprecated: the old name of --vidgen-server-url" in result.stdout
