"""The generated models against a live, migrated database.

* Every CHECK constraint, enum and integer range found in the live catalog is probed
  with candidate values (allowed values, boundaries and just outside them, refused
  values, lengths at and over the bounds, out-of-range integers, junk); the database and
  the Insert/Update models must agree on every candidate.
* Rows read back as PostgREST returns them validate into the Row models, and the bodies
  of Insert/Update models (to_postgrest()) are accepted by the database.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg import sql
from pydantic import BaseModel, ValidationError

import vidgen_db.models as models
from vidgen_db.codegen import default_models_dir, generate_models_command
from vidgen_db.migrate import Migrator, load_migrations, migrations_dir, seed_file, split_statements

MANIFEST: dict[str, Any] = json.loads((default_models_dir() / "_schema.json").read_text())
JUNK = ["", "junk", " ", "NULL", "0x1F", "1e400", "\u00e9\u00e9", "true"]
#: Integer text in non-decimal notation ("0x1F", "0o17", "0b1", "1_000"): PostgreSQL 16
#: accepts it as an integer, the models only take decimal numbers (docs/models.md).
_NON_DECIMAL = re.compile(r"^\s*[-+]?(0[xXoObB]|\d+_\d)")
INT_BOUNDS = {
    "smallint": 2**15,
    "integer": 2**31,
    "bigint": 2**63,
}

_CONSTRAINED = """
SELECT c.relname, a.attname, format_type(b.oid, NULL), b.typtype::text, a.attnotnull,
       coalesce((SELECT array_agg(pg_get_constraintdef(k.oid) ORDER BY k.conname)
                   FROM pg_constraint k
                  WHERE (k.conrelid = c.oid AND k.contype = 'c' AND a.attnum = ANY (k.conkey))
                     OR (k.contypid = t.oid AND k.contype = 'c')),
                '{}')::text[],
       coalesce((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
                   FROM pg_enum e WHERE e.enumtypid = b.oid), '{}')::text[],
       CASE WHEN a.atttypmod > 4 AND b.oid IN ('varchar'::regtype, 'bpchar'::regtype)
            THEN a.atttypmod - 4 END
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  -- a domain is probed as its base type, with its own CHECKs
  JOIN pg_type b ON b.oid = CASE t.typtype WHEN 'd' THEN t.typbasetype ELSE t.oid END
 WHERE n.nspname = 'public' AND c.relkind = 'r'
 ORDER BY c.relname, a.attnum
"""


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True)


def _model(
    table: str, suffix: str, package: ModuleType = models, manifest: dict[str, Any] = MANIFEST
) -> type[BaseModel] | None:
    entry = manifest["tables"].get(table)
    if entry is None:
        return None
    found = getattr(package, entry["class"] + suffix, None)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def _numbers(definitions: list[str]) -> set[int]:
    found: set[int] = set()
    for text in definitions:
        for match in re.finditer(r"(?<![\w.])-?\d+(?![\w.])", text.replace("'", " ")):
            value = int(match.group())
            found |= {value - 1, value, value + 1}
    return found


def _strings(definitions: list[str]) -> set[str]:
    found: set[str] = set()
    for text in definitions:
        for match in re.finditer(r"'((?:[^']|'')*)'", text):
            value = match.group(1).replace("''", "'")
            found |= {value, value.upper(), value.lower(), f"{value} ", value[:-1]}
    return found


def _candidates(
    type_name: str, typtype: str, definitions: list[str], labels: list[str], length: int | None
) -> list[Any]:
    """Values worth trying on a column, derived from its live constraints and type."""
    values: list[Any] = [None, *JUNK]
    numbers = _numbers(definitions)
    if type_name in INT_BOUNDS:
        bound = INT_BOUNDS[type_name]
        values += [*sorted(numbers | {0, 1, -1, -bound - 1, -bound, bound - 1, bound}), 1.5]
        values += [str(n) for n in sorted(numbers)[:3]]
    elif type_name in ("numeric", "real", "double precision"):
        values += [*sorted(numbers | {0, 1, -1}), 0.5, -0.5]
    elif typtype == "e":
        values += labels + [v.lower() for v in labels] + [v.upper() for v in labels]
    elif type_name in ("jsonb", "json"):
        values += [{}, [], "x", 1, 2.5, True, False, {"a": 1}, [1, "a"]]
    else:
        values += sorted(_strings(definitions))
        lengths = {n for n in numbers | ({length - 1, length, length + 1} if length else set())}
        values += ["a" * n for n in sorted(lengths) if 0 <= n <= 100_001]
        values += ["\u00e9" * n for n in sorted(lengths) if 0 <= n <= 300]
    unique: list[Any] = []
    for value in values:
        key = json.dumps(value)
        if key not in {json.dumps(u) for u in unique}:
            unique.append(value)
    return unique


def _model_accepts(model: type[BaseModel], column: str, value: Any) -> bool:
    try:
        model.model_validate({column: value})
    except ValidationError as exc:
        return not any(error["loc"][:1] == (column,) for error in exc.errors())
    return True


@pytest.fixture(scope="module")
def probe_url(make_database: Any, migrated_template: str) -> str:
    url: str = make_database(template=migrated_template)
    return url


def _constrained_columns(url: str) -> list[tuple[Any, ...]]:
    with _connect(url) as conn:
        rows = conn.execute(_CONSTRAINED).fetchall()
    return [
        row for row in rows if row[5] or row[3] == "e" or row[2] in INT_BOUNDS or row[7] is not None
    ]


@pytest.fixture(scope="module")
def probe_conn(probe_url: str) -> Iterator[psycopg.Connection[Any]]:
    with _connect(probe_url) as conn:
        yield conn


def _db_accepts(conn: psycopg.Connection[Any], table: str, column: str, value: Any) -> bool:
    """Whether a row holding ``value`` in ``column`` passes the column's type and CHECKs."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(
                sql.SQL("INSERT INTO {probe} ({col}) SELECT {col} FROM ").format(
                    probe=sql.Identifier(f"probe_{table}"), col=sql.Identifier(column)
                )
                + sql.SQL("json_populate_record(NULL::{probe}, %s::json)").format(
                    probe=sql.Identifier(f"probe_{table}")
                ),
                (json.dumps({column: value}),),
            )
    except (psycopg.DataError, psycopg.IntegrityError):
        return False
    return True


def _make_probe_table(
    conn: psycopg.Connection[Any], table: str, column: str, manifest: dict[str, Any]
) -> None:
    """A copy of the table with its CHECKs and its NOT NULLs on ``column`` only."""
    probe = sql.Identifier(f"probe_{table}")
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(probe))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} (LIKE public.{} INCLUDING CONSTRAINTS)").format(
            probe, sql.Identifier(table)
        )
    )
    others = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND attnotnull AND NOT attisdropped AND attname <> %s",
        (f"probe_{table}", column),
    ).fetchall()
    for (other,) in others:
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(
                probe, sql.Identifier(other)
            )
        )
    # Other columns of a domain type take its base type (a domain may be NOT NULL).
    domains = conn.execute(
        "SELECT a.attname, format_type(t.typbasetype, t.typtypmod) FROM pg_attribute a "
        "JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = %s::regclass "
        "AND a.attnum > 0 AND t.typtype = 'd' AND a.attname <> %s",
        (f"probe_{table}", column),
    ).fetchall()
    for other, base in domains:
        conn.execute(
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(
                probe, sql.Identifier(other), sql.SQL(base)
            )
        )
    # CHECKs the generator reported as untranslated are knowingly left to the database
    # (a warning and a comment in the module say so); every other one is probed.
    for entry in manifest["tables"][table]["untranslated_checks"]:
        name = entry.split(":")[0]
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
                probe, sql.Identifier(name)
            )
        )


def _disagreements(
    url: str, conn: psycopg.Connection[Any], package: ModuleType, manifest: dict[str, Any]
) -> tuple[list[str], int]:
    """Candidates on which the database and the Insert/Update models disagree."""
    columns = _constrained_columns(url)
    assert columns, "no constrained columns found in the live catalog"
    disagreements: list[str] = []
    probed = 0
    for table, column, type_name, typtype, _notnull, definitions, labels, length in columns:
        insert = _model(table, "Insert", package, manifest)
        update = _model(table, "Update", package, manifest)
        assert insert is not None and update is not None, f"no models for table {table}"
        _make_probe_table(conn, table, column, manifest)
        for value in _candidates(type_name, typtype, definitions, labels, length):
            db = _db_accepts(conn, table, column, value)
            for model in (insert, update):
                if column not in {f.alias or name for name, f in model.model_fields.items()}:
                    continue
                probed += 1
                accepted = _model_accepts(model, column, value)
                if db and not accepted and _NON_DECIMAL.match(str(value)):
                    continue  # deliberately stricter: see _NON_DECIMAL
                if accepted != db:
                    disagreements.append(
                        f"{table}.{column} = {value!r:.60}: database "
                        f"{'accepts' if db else 'rejects'}, {model.__name__} does not agree"
                    )
    return disagreements, probed


def test_every_constraint_and_enum_is_enforced_by_the_models(
    probe_url: str, probe_conn: psycopg.Connection[Any]
) -> None:
    disagreements, probed = _disagreements(probe_url, probe_conn, models, MANIFEST)
    assert not disagreements, "\n".join(disagreements)
    assert probed > 100


def test_generator_enforces_domains_numerics_and_varchar_too(
    admin_url: str, make_database: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same probe on a schema extended with what the real one lacks so far."""
    from test_codegen import PROBE_SQL

    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    (folder / "29991231235959_probe.sql").write_text(PROBE_SQL, encoding="utf-8")
    output = tmp_path / "constraint_probe_models"
    assert generate_models_command(admin_url, output, folder, check=False) == 0
    capsys.readouterr()
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module("constraint_probe_models")
    finally:
        sys.path.remove(str(tmp_path))
    manifest = json.loads((output / "_schema.json").read_text())
    url: str = make_database()
    Migrator(url, migrations=load_migrations(folder)).migrate()
    with _connect(url) as conn:
        disagreements, probed = _disagreements(url, conn, package, manifest)
    assert not disagreements, "\n".join(disagreements)
    assert probed > 100


def _seed(conn: psycopg.Connection[Any]) -> None:
    for statement in split_statements(Path(seed_file()).read_text(encoding="utf-8")):
        conn.execute(statement.encode())


def _rows(conn: psycopg.Connection[Any], table: str) -> list[dict[str, Any]]:
    """The rows as PostgREST returns them: JSON, decoded."""
    query = sql.SQL("SELECT row_to_json(t)::text FROM public.{} AS t").format(sql.Identifier(table))
    return [json.loads(row[0]) for row in conn.execute(query).fetchall()]


def _tables() -> list[str]:
    return sorted(name for name, t in MANIFEST["tables"].items() if t["kind"] == "table")


def test_rows_read_back_validate_into_row_models(migrated_url: str) -> None:
    covered = 0
    with _connect(migrated_url) as conn:
        _seed(conn)
        for table in _tables():
            row_model = _model(table, "")
            assert row_model is not None
            for row in _rows(conn, table):
                parsed = row_model.model_validate({**row, "a_future_column": 1})
                assert parsed.model_dump(mode="json", by_alias=True).keys() == row.keys()
                covered += 1
    assert covered >= len(_tables())


def _insert_body(conn: psycopg.Connection[Any], table: str, body: dict[str, Any]) -> None:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in body)
    conn.execute(
        sql.SQL("INSERT INTO {t} ({c}) SELECT {c} FROM json_populate_record(NULL::{t}, %s)").format(
            t=sql.Identifier(f"copy_{table}"), c=columns
        ),
        (json.dumps(body),),
    )


def test_insert_and_update_bodies_are_accepted_and_round_trip(migrated_url: str) -> None:
    with _connect(migrated_url) as conn:
        _seed(conn)
        for table in _tables():
            row_model = _model(table, "")
            insert, update = _model(table, "Insert"), _model(table, "Update")
            assert row_model is not None and insert is not None and update is not None
            copy = sql.Identifier(f"copy_{table}")
            conn.execute(
                sql.SQL(
                    "CREATE TEMP TABLE {} (LIKE public.{} INCLUDING DEFAULTS INCLUDING "
                    "CONSTRAINTS INCLUDING IDENTITY INCLUDING GENERATED)"
                ).format(copy, sql.Identifier(table))
            )
            for row in _rows(conn, table):
                insert_fields = {f.alias or n for n, f in insert.model_fields.items()}
                body = insert.model_validate(
                    {k: v for k, v in row.items() if k in insert_fields}
                ).to_postgrest()  # type: ignore[attr-defined]
                _insert_body(conn, table, body)
                query = sql.SQL("SELECT row_to_json(t)::text FROM {} AS t").format(copy)
                copied = [json.loads(r[0]) for r in conn.execute(query).fetchall()]
                assert row_model.model_validate(copied[-1]) == row_model.model_validate(row)
                update_fields = {f.alias or n for n, f in update.model_fields.items()}
                patch = update.model_validate(
                    {k: v for k, v in row.items() if k in update_fields}
                ).to_postgrest()  # type: ignore[attr-defined]
                assert set(patch) == update_fields & set(row)
                if patch:
                    _apply_patch(conn, copy, patch)
                    copied = [json.loads(r[0]) for r in conn.execute(query).fetchall()]
                    assert row_model.model_validate(copied[-1]) == row_model.model_validate(row)
                conn.execute(sql.SQL("DELETE FROM {}").format(copy))


def _apply_patch(
    conn: psycopg.Connection[Any], copy: sql.Identifier, patch: dict[str, Any]
) -> None:
    """PATCH the way PostgREST does (columns from json_populate_record)."""
    assigned = sql.SQL(", ").join(sql.Identifier(c) for c in patch)
    conn.execute(
        sql.SQL(
            "UPDATE {t} SET ({a}) = (SELECT {a} FROM json_populate_record(NULL::{t}, %s))"
        ).format(t=copy, a=assigned),
        (json.dumps(patch),),
    )


def test_project_insert_to_postgrest_is_what_postgrest_expects(migrated_url: str) -> None:
    with _connect(migrated_url) as conn:
        _seed(conn)
        user_id = conn.execute("SELECT id FROM auth.users LIMIT 1").fetchone()
        assert user_id is not None
        enums = models.NichePreset
        body = models.ProjectInsert(
            user_id=user_id[0], title="t", prompt_text="p", niche_preset=enums.FACTS
        ).to_postgrest()
        assert body == {
            "user_id": str(user_id[0]),
            "title": "t",
            "prompt_text": "p",
            "niche_preset": "facts",
        }
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in body)
        inserted = conn.execute(
            sql.SQL(
                "INSERT INTO public.projects ({c}) SELECT {c} FROM "
                "json_populate_record(NULL::public.projects, %s) RETURNING row_to_json(projects)"
            ).format(c=columns),
            (json.dumps(body),),
        ).fetchone()
        assert inserted is not None
        project = models.Project.model_validate(inserted[0])
        assert project.target_minutes == 1  # the column default applied
        assert project.created_at.tzinfo is not None
        patch = models.ProjectUpdate(target_minutes=3, transcript_text=None).to_postgrest()
        assert patch == {"target_minutes": 3, "transcript_text": None}
        assert "id" not in models.ProjectUpdate.model_fields
        assert "user_id" not in models.ProjectUpdate.model_fields
        assert "created_at" not in models.ProjectUpdate.model_fields


def test_write_models_refuse_unknown_keys_and_row_models_ignore_them() -> None:
    with pytest.raises(ValidationError):
        models.ProjectUpdate.model_validate({"titel": "typo"})
    row_model = _model(_tables()[0], "")
    assert row_model is not None
    assert row_model.model_config.get("extra") == "ignore"


def test_json_sub_model_accepts_parsed_json_and_sends_it_whole() -> None:
    prefs = models.ProfileUpdate(notification_prefs={"job_complete": False}).to_postgrest()
    assert prefs == {"notification_prefs": {"job_complete": False, "job_failed": True}}


def test_rpc_registry_covers_the_api_functions(probe_conn: psycopg.Connection[Any]) -> None:
    rows = probe_conn.execute(
        "SELECT DISTINCT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND p.prorettype <> 'trigger'::regtype AND EXISTS ("
        "SELECT 1 FROM pg_roles r WHERE r.rolname IN ('anon', 'authenticated', 'service_role') "
        "AND has_function_privilege(r.oid, p.oid, 'EXECUTE'))"
    ).fetchall()
    callable_names = {r[0] for r in rows}
    assert set(models.RPC_FUNCTIONS) <= callable_names
    assert callable_names - set(models.RPC_FUNCTIONS) <= {
        s.split("(")[0] for s in MANIFEST["functions"]
    }
    for name, function in models.RPC_FUNCTIONS.items():
        assert function.name == name
        assert issubclass(function.params, models.RpcParams)


def test_rpc_calls_round_trip_through_the_database(migrated_url: str) -> None:
    """Each function's params body is accepted by the database's own argument parsing, and
    what it returns (as PostgREST would encode it) validates into its result type."""
    parsed = 0
    with _connect(migrated_url) as conn:
        _seed(conn)
        ids = _seeded_ids(conn)
        for name, function in sorted(models.RPC_FUNCTIONS.items()):
            fields = function.params.model_fields
            arguments = {
                n: _sample(n, f.annotation, ids) for n, f in fields.items() if f.is_required()
            }
            body = function.body(**arguments)
            names = sql.SQL(", ").join(sql.SQL("{} => %s").format(sql.Identifier(k)) for k in body)
            call = sql.SQL("{f}({a})").format(f=sql.Identifier(name), a=names)
            if function.returns_set:
                query = sql.SQL("SELECT coalesce(json_agg(r), '[]')::text FROM {} AS r")
            else:
                query = sql.SQL("SELECT to_json({})::text")
            try:
                with conn.transaction(force_rollback=True):
                    row = conn.execute(
                        query.format(call), [_as_sql(v) for v in body.values()]
                    ).fetchone()
            except psycopg.Error as exc:
                # The function ran and refused made-up arguments: fine. Not finding the
                # function by these argument names and types is not.
                assert exc.sqlstate not in ("42883", "42725", "42804"), f"{name}: {exc}"
                continue
            assert row is not None
            function.parse_result(None if row[0] is None else json.loads(row[0]))
            parsed += 1
    assert parsed > 0


def _seeded_ids(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    row = conn.execute(
        "SELECT j.user_id, j.id, j.project_id FROM public.jobs j ORDER BY j.created_at LIMIT 1"
    ).fetchone()
    assert row is not None
    return {"user": row[0], "job": row[1], "project": row[2]}


def _sample(name: str, annotation: Any, ids: dict[str, Any]) -> Any:
    text = repr(annotation)
    if "UUID" in text:
        return next((v for k, v in ids.items() if k in name), uuid.uuid4())
    if "int" in text or "Int" in text:
        return 1
    if "JobStatus" in text:
        return models.JobStatus.SCRIPTING
    if "datetime" in text.lower():
        return "2026-01-01T00:00:00+00:00"
    if "bool" in text:
        return True
    if "dict" in text or "JsonValue" in text:
        return {}
    return "probe"


def _as_sql(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value
