"""``vidgen-db gen models``: generate ``vidgen_db.models`` from the migrations.

The migrations are applied to a throwaway database, its catalog is read
(:mod:`._catalog`), CHECK constraints are translated (:mod:`._exprparse`,
:mod:`._checks`), every class is planned (:mod:`._plan`) and rendered as already
formatted source (``_render_*``). ``--check`` compares instead of writing
(:mod:`._manifest` names the drifted tables and columns).

``vidgen-db gen typescript`` (:mod:`._typescript`) and ``vidgen-db gen docs`` read the same
catalog, plus the details of :mod:`._details` (keys, indexes, policies, grants), into one
file each (:mod:`._commands`).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import psycopg

from ..migrate import Migrator, load_migrations, throwaway_database
from ._catalog import Catalog, read_catalog
from ._commands import generate_docs_command, generate_typescript_command
from ._manifest import diff_manifests
from ._plan import make_plan
from ._pyfmt import HEADER
from ._render_package import MANIFEST, render_all
from ._render_rpc import plan_rpc

__all__ = [
    "default_models_dir",
    "generate_docs_command",
    "generate_files",
    "generate_models_command",
    "generate_typescript_command",
    "read_schema",
]


def default_models_dir() -> Path:
    """The package's ``models`` folder."""
    return Path(__file__).resolve().parent.parent / "models"


def read_schema(server_url: str, migrations_dir: Path | None) -> Catalog:
    """Apply the migrations to a throwaway database on ``server_url`` (a role that may
    create databases) and read its catalog."""
    migrations = load_migrations(migrations_dir)
    with throwaway_database(server_url, prefix="vidgen_codegen") as url:
        Migrator(url, migrations=migrations).migrate()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET search_path TO public")
            return read_catalog(conn)


def generate_files(catalog: Catalog) -> tuple[dict[str, str], list[str]]:
    """The generated files (name -> text) and the warnings about untranslated rules."""
    plan = make_plan(catalog)
    rpc = plan_rpc(catalog.functions)
    warnings = list(plan.warnings)
    warnings += [f"function {sig} not modelled: {reason}" for sig, reason in rpc.skipped]
    return render_all(catalog, plan, rpc), warnings


def _is_generated(path: Path) -> bool:
    if path.name == MANIFEST:
        return True
    if path.suffix != ".py":
        return False
    with path.open(encoding="utf-8") as handle:
        return handle.readline().startswith(f'"""{HEADER}')


def _existing(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(folder.iterdir())
        if p.is_file() and _is_generated(p)
    }


def compare(files: dict[str, str], folder: Path) -> list[str]:
    """Differences between freshly generated ``files`` and those in ``folder``."""
    existing = _existing(folder)
    problems: list[str] = []
    try:
        committed = json.loads(existing.get(MANIFEST, "{}"))
    except ValueError:
        committed = {}
    problems += diff_manifests(json.loads(files[MANIFEST]), committed)
    for name in sorted(set(files) | set(existing)):
        if name not in existing:
            problems.append(f"models/{name}: missing (it would be generated)")
        elif name not in files:
            problems.append(f"models/{name}: no longer generated (it would be deleted)")
        elif files[name] != existing[name]:
            problems.append(f"models/{name}: differs from the generated code")
    return problems


def write(files: dict[str, str], folder: Path) -> list[str]:
    """Write ``files`` into ``folder``, delete stale generated files; returns what changed."""
    folder.mkdir(parents=True, exist_ok=True)
    changed: list[str] = []
    base = folder / "_base.py"
    if not base.exists():  # the hand-written base the generated modules import
        shutil.copyfile(default_models_dir() / "_base.py", base)
        changed.append("copied _base.py")
    for name in _existing(folder):
        if name not in files:
            (folder / name).unlink()
            changed.append(f"deleted {name}")
    for name, text in files.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(f"wrote {name}")
    return changed


def generate_models_command(
    server_url: str, output: Path | None, migrations_dir: Path | None, check: bool
) -> int:
    """Generate (or with ``check``, verify) the models from the migrations applied on a
    throwaway database of ``server_url``; returns the exit status."""
    folder = output or default_models_dir()
    catalog = read_schema(server_url, migrations_dir)
    files, warnings = generate_files(catalog)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if check:
        problems = compare(files, folder)
        if problems:
            for problem in problems:
                print(problem, file=sys.stderr)
            print(
                "the models do not match the migrations: run 'vidgen-db gen models'",
                file=sys.stderr,
            )
            return 1
        print("models are up to date")
        return 0
    changed = write(files, folder)
    for line in changed:
        print(line)
    print(f"{len(files)} generated files, {len(changed)} changed")
    return 0
