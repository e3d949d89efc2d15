"""The package's layout holds: one product per folder, data flowing one way, no import
cycles, optional extras behind guards, small modules, pinned public names.

The products and what each may import (docs/architecture.md draws the same map)::

    runtime  (vidgen_db, its _modules, models, repos)   the runtime only
    migrate                                             runtime, migrate
    codegen                                             runtime, migrate, codegen
    local    (gateway, stacks, serve, demo, embedded)   runtime, migrate, local
    testing                                             runtime, local, testing
    cli      (and ``python -m vidgen_db``)              everything but testing
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "vidgen_db"

#: Longest a hand-written module may be, in lines.
MAX_LINES = 500

PRODUCTS = ("migrate", "codegen", "local", "testing", "cli")
ALLOWED: dict[str, set[str]] = {
    "runtime": {"runtime"},
    "migrate": {"runtime", "migrate"},
    "codegen": {"runtime", "migrate", "codegen"},
    "local": {"runtime", "migrate", "local"},
    "testing": {"runtime", "local", "testing"},
    "cli": {"runtime", "migrate", "codegen", "local", "cli"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def product(module: str) -> str:
    if module == "vidgen_db.__main__":  # ``python -m vidgen_db`` is the command line
        return "cli"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in PRODUCTS else "runtime"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, *, typing_only: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (lazy imports in functions count); those under
    ``if TYPE_CHECKING:`` only when ``typing_only``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            if typing_only:
                yield from _import_nodes(node, typing_only=typing_only)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        else:
            yield from _import_nodes(node, typing_only=typing_only)


def imports_of(module: str, *, typing_only: bool = False) -> set[str]:
    """The vidgen_db modules ``module`` imports (``from X import y`` counts as importing
    ``X.y`` when that is a module, else ``X``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _import_nodes(tree, typing_only=typing_only):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("vidgen_db"))
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        if not base.startswith("vidgen_db"):
            continue
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            found.add(candidate if candidate in MODULES else base)
    return found & set(MODULES)


def test_the_module_list_is_read() -> None:
    assert {"vidgen_db", "vidgen_db._client_async", "vidgen_db.local.gateway"} <= set(MODULES)
    assert "vidgen_db.repos._jobs_async" in imports_of("vidgen_db._client_async")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_product_imports_only_what_comes_before_it(module: str) -> None:
    own = product(module)
    for target in imports_of(module, typing_only=True):
        assert product(target) in ALLOWED[own], (
            f"{module} ({own}) imports {target} ({product(target)}): "
            f"{own} may import only {sorted(ALLOWED[own])}"
        )


def test_there_are_no_import_cycles() -> None:
    graph = {module: imports_of(module) - {module} for module in MODULES}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )


def test_importing_vidgen_db_loads_no_local_stack_package() -> None:
    result = _run(
        """
        import sys
        import vidgen_db, vidgen_db.models, vidgen_db.repos
        heavy = {"starlette", "uvicorn", "psycopg_pool", "pgserver", "supabase"}
        print(sorted(heavy & set(sys.modules)))
        print(sorted(m for m in sys.modules if m.startswith(("vidgen_db.local",
              "vidgen_db.testing", "vidgen_db.cli", "vidgen_db.codegen", "vidgen_db.migrate"))))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "[]"]


#: Hides the local extra's packages as if they were not installed.
_WITHOUT_LOCAL_EXTRA = """
import sys
for name in ("starlette", "uvicorn", "pgserver"):
    sys.modules[name] = None  # find_spec() says missing; import raises ImportError
"""


def test_the_local_stack_without_its_extra_names_the_extra() -> None:
    result = _run(
        _WITHOUT_LOCAL_EXTRA
        + """
from vidgen_db import MissingExtraError
import vidgen_db.local, vidgen_db.testing  # importable with the base install
try:
    vidgen_db.local.LocalStack().start()
except MissingExtraError as exc:
    assert isinstance(exc, ImportError)
    print(exc)
try:
    import vidgen_db.local.gateway
except ImportError as exc:
    print(exc)
"""
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert 'pip install "vidgen-db[local]"' in line, line


@pytest.mark.parametrize(
    ("command", "extra"), [(["serve"], "local"), (["demo"], "local"), (["status"], "embedded")]
)
def test_commands_without_their_extra_say_so_in_one_line(command: list[str], extra: str) -> None:
    result = _run(
        _WITHOUT_LOCAL_EXTRA
        + f"""
import os
os.environ.pop("DATABASE_URL", None)
from vidgen_db.cli import main
raise SystemExit(main({command!r}))
"""
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f'pip install "vidgen-db[{extra}]"' in result.stderr


def _generated(path: Path) -> bool:
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    return "do not edit" in first.lower()


def test_no_hand_written_module_is_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if not _generated(p) and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these along their seams: {long}"


PUBLIC = {
    "vidgen_db.migrate": [
        "Difference",
        "Migration",
        "MigrationState",
        "MigrationStatus",
        "Migrator",
        "SupabaseExport",
        "VerifyReport",
        "bootstrap_dir",
        "export_supabase_project",
        "load_migrations",
        "migrations_dir",
        "seed_file",
        "split_statements",
        "throwaway_database",
        "verify_database",
    ],
    "vidgen_db.local": [
        "LIVE_ENV",
        "DemoError",
        "EmbeddedPostgres",
        "LiveStack",
        "LocalStack",
        "Stack",
        "default_data_dir",
        "make_access_token",
        "make_api_key",
        "new_jwt_secret",
        "run_demo",
        "serve",
        "sign_jwt",
        "start_embedded",
        "temporary_embedded",
    ],
    "vidgen_db.testing": [
        "LIVE_ENV",
        "LiveStack",
        "LocalStack",
        "Stack",
        "UserFactory",
        "make_access_token",
        "make_api_key",
        "new_jwt_secret",
        "sign_jwt",
    ],
    "vidgen_db.cli": ["build_parser", "main"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_of_each_product_are_pinned(module: str) -> None:
    imported = __import__(module, fromlist=["__all__"])
    assert sorted(imported.__all__) == sorted(PUBLIC[module])
    for name in imported.__all__:
        assert hasattr(imported, name), name
