"""Bounds on every text and jsonb column (20260302000000_input_bounds.sql): the catalog has
one for each, the models enforce the same ones (the byte bound of a JSON column included),
and the migration is safe on a database that already holds oversized rows.

The HTTP side (10 MB strings and 1 MB JSON through the SDK and raw requests, as each role
that may write them) is tests/e2e/test_oversized_input.py."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pydantic import BaseModel, ValidationError

import vidgen_db.models as models
from conftest import MakeDatabase
from dbhelpers import Db
from vidgen_db.codegen import default_models_dir
from vidgen_db.codegen._catalog import Check, TypeRef
from vidgen_db.codegen._checks import ColumnRule, translate_checks
from vidgen_db.codegen._types import python_type
from vidgen_db.migrate import Migrator, load_migrations
from vidgen_db.models._base import json_text_bytes

BOUNDS_MIGRATION = "20260302000000"
MANIFEST: dict[str, Any] = json.loads((default_models_dir() / "_schema.json").read_text())

_COLUMNS = """
SELECT c.relname, a.attname, t.typname,
       coalesce((SELECT array_agg(ARRAY[k.conname::text, pg_get_expr(k.conbin, k.conrelid)])
                   FROM pg_constraint k
                  WHERE k.conrelid = c.oid AND k.contype = 'c' AND a.attnum = ANY (k.conkey)),
                '{}')
  FROM pg_class c
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
   AND t.typname IN ('text', 'varchar', 'bpchar', 'json', 'jsonb')
 ORDER BY 1, 2
"""


@pytest.fixture(scope="module")
def url(make_database: MakeDatabase, migrated_template: str) -> str:
    return make_database(template=migrated_template)


@pytest.fixture(scope="module")
def conn(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url, autocommit=True) as c:
        yield c


def _rules(conn: psycopg.Connection[Any]) -> dict[tuple[str, str, str], ColumnRule]:
    """(table, column, type) -> what its CHECKs require, as the code generator reads them."""
    found: dict[tuple[str, str, str], ColumnRule] = {}
    for table, column, type_name, checks in conn.execute(_COLUMNS).fetchall():
        rules, _ = translate_checks(tuple(Check(n, e, (column,)) for n, e in checks))
        found[(table, column, type_name)] = rules.get(column, ColumnRule())
    return found


def test_every_text_and_json_column_is_bounded(conn: psycopg.Connection[Any]) -> None:
    rules = _rules(conn)
    assert len(rules) > 30
    unbounded = []
    for (table, column, type_name), rule in rules.items():
        if type_name in ("json", "jsonb"):
            bounded = rule.max_bytes is not None
        else:
            bounded = rule.max_length is not None or rule.values is not None
        if not bounded:
            unbounded.append(f"{table}.{column}")
    assert unbounded == []


def test_the_bounds_are_the_documented_ones(conn: psycopg.Connection[Any]) -> None:
    """docs/security.md's table of limits says what the catalog holds."""
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "security.md").read_text(encoding="utf-8")
    for (table, column, _), rule in _rules(conn).items():
        limit = rule.max_bytes if rule.max_bytes is not None else rule.max_length
        if rule.values is not None or limit is None:
            continue
        unit = "bytes" if rule.max_bytes is not None else "characters"
        assert f"| `{table}.{column}` | {limit:,} {unit}" in doc, (table, column, limit)


def test_every_bound_is_validated(conn: psycopg.Connection[Any]) -> None:
    rows = conn.execute(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace AND NOT convalidated"
    ).fetchall()
    assert rows == []


# -- the models enforce the JSON byte bounds, exactly where the database does ----------------


def _json_bounds() -> list[tuple[str, str, int]]:
    found = []
    for table, entry in MANIFEST["tables"].items():
        for name, column in entry["columns"].items():
            limit = column["check"].get("max_bytes")
            if limit is not None:
                found.append((table, name, limit))
    return sorted(found)


def _model_accepts(model: type[BaseModel], column: str, value: Any) -> bool:
    try:
        model.model_validate({column: value})
    except ValidationError as exc:
        return not any(error["loc"][:1] == (column,) for error in exc.errors())
    return True


def _db_accepts(conn: psycopg.Connection[Any], table: str, column: str, value: Any) -> bool:
    checks = conn.execute(
        "SELECT pg_get_expr(conbin, conrelid) FROM pg_constraint k JOIN pg_attribute a "
        "ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) "
        "WHERE k.conrelid = %s::regclass AND k.contype = 'c' AND a.attname = %s",
        (f"public.{table}", column),
    ).fetchall()
    assert checks
    ok = True
    for (expression,) in checks:
        query = f'SELECT coalesce({expression}, true) FROM (SELECT %s::jsonb AS "{column}") AS t'
        ok = ok and conn.execute(query.encode(), (json.dumps(value),)).fetchone() == (True,)
    return ok


def test_json_columns_carry_byte_bounds() -> None:
    assert {(t, c) for t, c, _ in _json_bounds()} >= {
        ("job_logs", "data"),
        ("jobs", "manifest_json"),
        ("draft_prompts", "options"),
        ("profiles", "notification_prefs"),
    }


@pytest.mark.parametrize(("table", "column", "limit"), _json_bounds())
def test_models_and_database_agree_on_json_sizes(
    conn: psycopg.Connection[Any], table: str, column: str, limit: int
) -> None:
    is_object = table == "profiles"  # notification_prefs must be an object (a sub-model)
    candidates: list[Any] = []
    for size in (limit - 1, limit, limit + 1, 2 * limit):
        # {"k": "aaa"} is 9 bytes plus its string: exact sizes around the bound.
        candidates.append({"k": "a" * (size - 9)})
        candidates.append({"k": "\u00e9" * ((size - 9) // 2), "n": [1, None, True]})
        if not is_object:
            candidates.append("a" * (size - 2))
            candidates.append(["x" * (size - 6)])
    entry = MANIFEST["tables"][table]
    for suffix in ("Insert", "Update"):
        model = getattr(models, entry["class"] + suffix)
        for value in candidates:
            sent = value
            if is_object:  # a typed sub-model is sent whole, its defaults included
                sent = models.NotificationPrefs.model_validate(value).model_dump(mode="json")
            db = _db_accepts(conn, table, column, sent)
            assert _model_accepts(model, column, value) == db, (
                f"{model.__name__}.{column}: {json_text_bytes(value)} bytes, database "
                f"{'accepts' if db else 'refuses'}"
            )


# -- the code generator ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(octet_length((n)::text) <= 16384)", {"max_bytes": 16384}),
        ("(octet_length((n)::text) < 100)", {"max_bytes": 99}),
        ("((n IS NULL) OR (octet_length((n)::text) <= 10))", {"max_bytes": 10}),
        ("(100 >= octet_length(n))", {"max_bytes": 100}),
    ],
)
def test_byte_bounds_are_translated(expression: str, expected: dict[str, object]) -> None:
    rules, untranslated = translate_checks((Check("c", expression, ("n",)),))
    assert untranslated == []
    assert rules["n"].as_dict() == expected


@pytest.mark.parametrize(
    "expression", ["(octet_length((n)::text) >= 2)", "(octet_length((n)::text) = 2)"]
)
def test_other_byte_comparisons_are_reported(expression: str) -> None:
    _, untranslated = translate_checks((Check("probe", expression, ("n",)),))
    assert [u.constraint for u in untranslated] == ["probe"]


def test_a_byte_bound_on_a_text_column_is_reported_not_dropped() -> None:
    text = python_type(TypeRef("pg_catalog", "text", "base", "text"), ColumnRule(max_bytes=10))
    assert text.problems == ["byte length rule on a text column is not supported"]
    jsonb = python_type(TypeRef("pg_catalog", "jsonb", "base", "jsonb"), ColumnRule(max_bytes=10))
    assert jsonb.problems == []
    assert jsonb.expression == "Annotated[JsonValue, json_max_bytes(10)]"


# -- the migration on a database that already holds oversized rows ---------------------------


def test_migration_brings_old_rows_within_the_bounds(make_database: MakeDatabase) -> None:
    url = make_database()
    every = load_migrations()
    Migrator(url, migrations=[m for m in every if m.version < BOUNDS_MIGRATION]).migrate()
    db = Db(url)
    try:
        user = db.new_user()
        job = db.new_job(user)
        db.conn.execute(
            "UPDATE public.projects SET title = repeat('t', 300) WHERE user_id = %s", (user,)
        )
        db.conn.execute(
            "INSERT INTO public.job_logs (job_id, message, data) "
            "VALUES (%s, repeat('m', 5000), jsonb_build_object('k', repeat('d', 20000)))",
            (job,),
        )
        db.service("SELECT public.grant_credits(%s, 5, repeat('n', 600))", (user,))
        db.service("SELECT public.record_purchase(%s, 5, repeat('p', 300))", (user,))
        Migrator(url, migrations=[m for m in every if m.version <= BOUNDS_MIGRATION]).migrate()

        title = "SELECT char_length(title) FROM public.projects WHERE user_id = %s"
        assert db.one(title, (user,)) == 200
        log = "SELECT char_length(message), data FROM public.job_logs WHERE job_id = %s"
        assert db.conn.execute(log, (job,)).fetchone() == (
            4000,
            {"vidgen_removed_oversized_bytes": 20009},
        )
        notes = "SELECT max(char_length(note)) FROM public.credit_ledger WHERE user_id = %s"
        assert db.one(notes, (user,)) == 500
        not_valid = db.conn.execute(
            "SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
            "AND NOT convalidated"
        ).fetchall()
        # Cutting a payment id could merge two payments: that bound stays NOT VALID...
        assert not_valid == [("credit_ledger_stripe_payment_id_length_check",)]
        # ...and still refuses every new one.
        with pytest.raises(psycopg.errors.StringDataRightTruncation):
            db.service("SELECT public.record_purchase(%s, 5, repeat('q', 300))", (user,))
        with pytest.raises(psycopg.errors.CheckViolation):
            db.conn.execute(
                "INSERT INTO public.credit_ledger (user_id, type, amount, stripe_payment_id) "
                "VALUES (%s, 'purchase', 1, repeat('q', 300))",
                (user,),
            )
        # The ledger is append-only again.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.conn.execute(
                "UPDATE public.credit_ledger SET note = 'x' WHERE user_id = %s", (user,)
            )
    finally:
        db.close()


def test_a_long_sign_up_name_is_cut_not_refused(conn: psycopg.Connection[Any]) -> None:
    user = uuid.uuid4()
    conn.execute(
        "INSERT INTO auth.users (id, raw_user_meta_data) VALUES (%s, %s)",
        (user, json.dumps({"name": "N" * 10_000})),
    )
    row = conn.execute(
        "SELECT char_length(display_name) FROM public.profiles WHERE id = %s", (user,)
    ).fetchone()
    assert row == (100,)


def test_an_oversized_payment_id_is_refused_on_entry(url: str) -> None:
    """It used to reach the unique index and fail there (54000, an HTTP 500)."""
    db = Db(url)
    try:
        user = db.new_user()
        with pytest.raises(psycopg.errors.StringDataRightTruncation, match="at most 255"):
            db.service("SELECT public.record_purchase(%s, 5, repeat('p', 10000000))", (user,))
        assert db.one("SELECT count(*) FROM public.credit_ledger WHERE user_id = %s", (user,)) == 1
    finally:
        db.close()
