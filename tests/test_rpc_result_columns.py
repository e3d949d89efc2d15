"""RPC result columns: what the annotations of a function's comment promise of the rows it
returns (``@from public.<table>: ...``, ``@not_null ...``; docs/models.md#result-columns).

* On data: each annotated function is called as PostgREST calls it, on the rows that could
  break its promise (a project without jobs, nullable columns left NULL, an empty queue,
  each outcome of recover_jobs). Every row validates into the generated row model, no
  column the model requires is ever null, and each column it leaves optional is seen null
  at least once (so the cases do reach the edges).
* A function annotated without a case here fails, as does a stale table in docs/models.md.
* The generator reads the annotations from the catalog, and refuses one that does not
  match it (a ConfigurationError naming the function).
"""

from __future__ import annotations

import importlib
import re
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import BaseModel

from conftest import MakeDatabase
from dbhelpers import Db
from pgrest import request, user
from vidgen_db import ConfigurationError
from vidgen_db.codegen import (
    default_models_dir,
    generate_files,
    generate_models_command,
    generate_typescript_command,
)
from vidgen_db.codegen._catalog import Catalog, Column, Function, Parameter, Table, TypeRef
from vidgen_db.codegen._catalog import read_catalog as read_catalog_of
from vidgen_db.codegen._results import parse_annotations
from vidgen_db.migrate import migrations_dir
from vidgen_db.models import RPC_FUNCTIONS, RowModel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(make_database: MakeDatabase, migrated_template: str) -> Iterator[Db]:
    database = Db(make_database(template=migrated_template))
    yield database
    database.close()


# -- the functions, called on the data that could break their promise ---------------------------


def _as_user(db: Db, user_id: uuid.UUID, sql: str, params: Any = None) -> Any:
    with request(db.conn, user(user_id)) as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
        assert row is not None
        return row[0]


def _project(db: Db, owner: uuid.UUID, created_at: datetime, **columns: Any) -> uuid.UUID:
    project_id = uuid.uuid4()
    values = {"title": "t", "prompt_text": "p", "niche_preset": "facts", **columns}
    names = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    db.conn.execute(
        f"INSERT INTO public.projects (id, user_id, created_at, {names}) "
        f"VALUES (%s, %s, %s, {marks})",
        (project_id, owner, created_at, *values.values()),
    )
    return project_id


def dashboard_results(db: Db) -> list[Any]:
    """The dashboard of a user with a project with jobs, one without jobs whose nullable
    columns are NULL, one without jobs on its defaults; on one page and over two."""
    owner = db.new_user(100)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with_jobs = _project(db, owner, at)
    for minutes in (1, 2):
        db.conn.execute(
            "INSERT INTO public.jobs (project_id, user_id, created_at) VALUES (%s, %s, %s)",
            (with_jobs, owner, at + timedelta(minutes=minutes)),
        )
    _project(db, owner, at + timedelta(hours=1), transcript_mode=None, settings=None)
    _project(db, owner, at + timedelta(hours=2))
    db.new_job(db.new_user())  # someone else's: never in the owner's rows
    sql = "SELECT coalesce(json_agg(r), '[]') FROM public.get_dashboard(%s, %s, %s) AS r"
    whole = _as_user(db, owner, sql, (20, None, None))
    assert len(whole) == 3
    first = _as_user(db, owner, sql, (1, None, None))
    last = first[-1]
    rest = _as_user(db, owner, sql, (20, last["created_at"], last["id"]))
    assert [r["id"] for r in first + rest] == [r["id"] for r in whole]
    return [whole, first, rest]


def _service(db: Db, sql: str, params: Any = None) -> Any:
    return db.service(sql, params)


def _worker(db: Db) -> uuid.UUID:
    worker_id = uuid.uuid4()
    _service(db, "SELECT (public.register_worker(%s, 'w')).id", (worker_id,))
    return worker_id


def _held_job(db: Db, worker_id: uuid.UUID) -> uuid.UUID:
    """A job queued, then claimed by ``worker_id``."""
    job = db.new_job(db.new_user(100))
    _service(db, "SELECT (public.queue_job(%s, 5)).id", (job,))
    claimed = _service(db, "SELECT json_agg(c.id) FROM public.claim_jobs(%s, 1) AS c", (worker_id,))
    assert claimed == [str(job)]
    return job


def _expire(db: Db, job: uuid.UUID) -> None:
    db.conn.execute(
        "UPDATE public.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = %s",
        (job,),
    )


STATS = "SELECT coalesce(json_agg(s), '[]') FROM public.job_queue_stats() AS s"
RECOVER = "SELECT coalesce(json_agg(r), '[]') FROM public.recover_jobs(%s) AS r"


def job_queue_stats_results(db: Db) -> list[Any]:
    """The stats of an empty database (no job, no worker), then of a queue with a job
    waiting, a job held and a lease expired."""
    empty = _service(db, STATS)
    worker_id = _worker(db)
    held = _held_job(db, worker_id)
    _expire(db, held)
    waiting = db.new_job(db.new_user(100))
    _service(db, "SELECT (public.queue_job(%s, 5)).id", (waiting,))
    busy = _service(db, STATS)
    assert busy[0]["queued"] == 1 and busy[0]["expired_leases"] == 1
    return [empty, busy]


def recover_jobs_results(db: Db) -> list[Any]:
    """Nothing to recover, then a job of each outcome: requeued (attempts left), failed
    (none left), cancelled (its owner asked)."""
    nothing = _service(db, RECOVER, (100,))
    worker_id = _worker(db)
    requeued, failed, cancelled = (_held_job(db, worker_id) for _ in range(3))
    db.conn.execute("UPDATE public.jobs SET max_attempts = attempt WHERE id = %s", (failed,))
    owner = db.job(cancelled)["user_id"]
    with request(db.conn, user(owner), commit=True) as cur:
        cur.execute("SELECT (public.cancel_job(%s)).id", (cancelled,))
    for job in (requeued, failed, cancelled):
        _expire(db, job)
    recovered = _service(db, RECOVER, (100,))
    outcomes = {row["job_id"]: row["outcome"] for row in recovered}
    assert outcomes == {
        str(requeued): "requeued",
        str(failed): "failed",
        str(cancelled): "cancelled",
    }
    return [nothing, recovered]


#: Each annotated function -> the calls (as JSON, as PostgREST answers them) that test it.
CASES: dict[str, Callable[[Db], list[Any]]] = {
    "get_dashboard": dashboard_results,
    "job_queue_stats": job_queue_stats_results,
    "recover_jobs": recover_jobs_results,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_rows_keep_the_promises_of_the_models(db: Db, name: str) -> None:
    function = RPC_FUNCTIONS[name]
    results = CASES[name](db)
    row_model = _row_model(name)
    required = {n for n, f in row_model.model_fields.items() if f.is_required()}
    optional = set(row_model.model_fields) - required
    seen_null: set[str] = set()
    rows = 0
    for result in results:
        parsed = function.parse_result(result)  # a null in a required field fails here
        assert all(isinstance(row, row_model) for row in parsed)
        for raw in result:
            rows += 1
            assert set(raw) == set(row_model.model_fields), "the model has every column"
            nulls = {column for column, value in raw.items() if value is None}
            assert not nulls & required, f"{name}: null in {sorted(nulls & required)}"
            seen_null |= nulls
    assert rows > 0
    # The cases reach the edges: each optional column is null in some row.
    assert optional <= seen_null, f"{name}: never null here: {sorted(optional - seen_null)}"


def _row_model(name: str) -> type[RowModel]:
    module = importlib.import_module("vidgen_db.models.rpc")
    found = getattr(module, "".join(w.capitalize() for w in name.split("_")) + "Row")
    assert isinstance(found, type) and issubclass(found, RowModel)
    return found


def test_every_annotated_function_has_a_case(migrated_url: str) -> None:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute("SET search_path TO public")
        catalog = read_catalog_of(conn)
    annotated = {f.name for f in catalog.functions if parse_annotations(f.signature, f.comment)}
    assert annotated == set(CASES), "add a case calling each annotated function on its edges"


def test_the_dashboard_row_has_the_projects_types() -> None:
    from vidgen_db.models import GetDashboardRow, NichePreset, Project, TranscriptMode

    dashboard = GetDashboardRow.model_fields
    project = Project.model_fields
    for column in ("title", "prompt_text", "niche_preset", "target_minutes", "settings"):
        assert dashboard[column].annotation == project[column].annotation, column
        assert dashboard[column].metadata == project[column].metadata, column
    assert dashboard["niche_preset"].annotation is NichePreset
    assert dashboard["transcript_mode"].annotation == TranscriptMode | None


def _docs_table() -> dict[str, tuple[set[str], set[str]]]:
    text = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    section = text.split("### Result columns", 1)[1].split("\n## ", 1)[0]
    table: dict[str, tuple[set[str], set[str]]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"`\w+Row`", cells[0]):
            required, optional = (set(re.findall(r"`(\w+)`", c)) for c in cells[1:])
            table[cells[0].strip("`")] = (required, optional)
    return table


def test_docs_table_matches_the_row_models() -> None:
    table = _docs_table()
    module = importlib.import_module("vidgen_db.models.rpc")
    models = {
        n: m
        for n in module.__all__
        if isinstance(m := getattr(module, n), type) and issubclass(m, BaseModel)
        if n.endswith("Row")
    }
    assert set(table) == set(models)
    for name, (required, optional) in table.items():
        fields = models[name].model_fields
        assert required == {n for n, f in fields.items() if f.is_required()}, name
        assert optional == {n for n, f in fields.items() if not f.is_required()}, name


# -- the generator reads the annotations, and refuses those that do not match ---------------------

PROBE_SQL = """
CREATE TABLE public.probe_widgets (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('round', 'square')),
  label text CHECK (char_length(label) <= 20)
);
CREATE FUNCTION public.probe_widget_rows()
RETURNS TABLE (id uuid, kind text, label text, total bigint, note text)
LANGUAGE sql STABLE
AS $$ SELECT w.id, w.kind, w.label, count(*) OVER (), NULL::text FROM public.probe_widgets w $$;
COMMENT ON FUNCTION public.probe_widget_rows() IS $$Every widget.
@from public.probe_widgets: id, kind, label
@not_null total$$;
"""


def _migrations_plus(tmp_path: Path, sql: str) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    (folder / "29991231235959_result_columns_probe.sql").write_text(sql, encoding="utf-8")
    return folder


def test_the_generator_types_the_rows_as_annotated(
    admin_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _migrations_plus(tmp_path, PROBE_SQL)
    output = tmp_path / "result_columns_probe"
    shutil.copytree(default_models_dir(), output)
    assert generate_models_command(admin_url, output, folder, check=False) == 0
    source = (output / "rpc.py").read_text(encoding="utf-8")
    assert "    id: UUID\n" in source
    assert "    kind: ProbeWidgetKind\n" in source  # the column's enum, not str
    assert "    label: ProbeWidgetLabel | None = None\n" in source  # its alias; nullable
    assert "    total: Int8\n" in source
    assert "    note: str | None = None\n" in source
    sys.path.insert(0, str(tmp_path))
    try:
        probe = importlib.import_module("result_columns_probe")
    finally:
        sys.path.remove(str(tmp_path))
    rows = probe.RPC_FUNCTIONS["probe_widget_rows"].parse_result(
        [{"id": str(uuid.uuid4()), "kind": "round", "label": None, "total": 1, "note": None}]
    )
    assert rows[0].kind is probe.ProbeWidgetKind.ROUND
    ts = tmp_path / "database.ts"
    capsys.readouterr()
    assert generate_typescript_command(admin_url, ts, folder, check=False) == 0
    # Executable by PUBLIC, so typed for supabase-js too: with the same column types.
    text = ts.read_text(encoding="utf-8")
    block = text.split("probe_widget_rows: {", 1)[1].split("}[]", 1)[0]
    assert 'kind: "round" | "square"\n' in block
    assert "total: number\n" in block and "note: string | null\n" in block


def test_a_bad_annotation_stops_the_generator(admin_url: str, tmp_path: Path) -> None:
    folder = _migrations_plus(tmp_path, PROBE_SQL.replace("@not_null total", "@not_null totl"))
    with pytest.raises(ConfigurationError, match=r"probe_widget_rows\(\).*no column totl"):
        generate_models_command(admin_url, tmp_path / "out", folder, check=False)


_TEXT = TypeRef("pg_catalog", "text", "base", "text")
_INT8 = TypeRef("pg_catalog", "int8", "base", "bigint")
_UUID = TypeRef("pg_catalog", "uuid", "base", "uuid")
_RECORD = TypeRef("pg_catalog", "record", "pseudo", "record")


def _catalog(comment: str, *, returns: TypeRef = _RECORD) -> Catalog:
    columns = (
        Column("id", _UUID, True, False, None, "", False, True, False),
        Column("name", _TEXT, True, False, None, "", False, False, False),
    )
    outputs = (Parameter("id", _UUID, False), Parameter("total", _INT8, False))
    function = Function(
        name="widget_rows",
        signature="widget_rows()",
        arguments=(),
        returns=returns,
        returns_set=True,
        outputs=outputs if returns is _RECORD else (),
        unnamed_arguments=False,
        comment=comment,
    )
    return Catalog(tables=[Table("widgets", "table", columns, ())], functions=[function])


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ("@nonnull total", "unknown annotation '@nonnull'"),
        ("@not_null", "expected a comma-separated list"),
        ("@not_null total, nope", "it returns no column nope"),
        ("@not_null total, total", "@not_null names total more than once"),
        ("@from public.widgets id", "expected '@from <table>: <columns>'"),
        ("@from auth.users: id", "only public tables have models"),
        ("@from public.gadgets: id", "@from gadgets: no such table or view in public"),
        ("@from public.widgets: total", "@from widgets: it has no column total"),
        ("@from widgets: id\n@from widgets: id", "@from names id more than once"),
    ],
)
def test_annotations_that_do_not_match_the_catalog_are_refused(comment: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)) as refused:
        generate_files(_catalog(f"Widgets.\n{comment}"))
    assert "widget_rows()" in str(refused.value)


def test_a_column_of_another_type_is_refused() -> None:
    catalog = _catalog("@from public.widgets: id")
    table = catalog.tables[0]
    retyped = Column("id", _TEXT, True, False, None, "", False, True, False)
    catalog.tables[0] = Table(table.name, table.kind, (retyped, table.columns[1]), ())
    with pytest.raises(ConfigurationError, match="id is uuid here but text in the table"):
        generate_files(catalog)


def test_annotating_a_function_without_result_columns_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="it has none"):
        generate_files(_catalog("@not_null total", returns=_INT8))


def test_a_comment_without_annotations_changes_nothing() -> None:
    files, _ = generate_files(_catalog("Widgets, with an e-mail @ the end of a line."))
    assert "    id: UUID | None = None\n" in files["rpc.py"]
    assert "    total: Int8 | None = None\n" in files["rpc.py"]
