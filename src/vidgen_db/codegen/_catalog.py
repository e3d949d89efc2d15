"""Read what the models are generated from out of a migrated database's catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

__all__ = [
    "API_ROLES",
    "Catalog",
    "Check",
    "Column",
    "EnumType",
    "Function",
    "Parameter",
    "Table",
    "TypeRef",
    "read_catalog",
]

#: The roles PostgREST runs requests as: a function none of them may execute is skipped.
API_ROLES = ("anon", "authenticated", "service_role")
SCHEMA = "public"


@dataclass(frozen=True)
class TypeRef:
    """A PostgreSQL type: ``kind`` is base, enum, array, composite, domain or pseudo."""

    schema: str
    name: str
    kind: str
    display: str
    element: TypeRef | None = None
    length: int | None = None  # varchar(n) / char(n)
    #: A domain's CHECK constraints, as (name, expression over VALUE), and NOT NULL.
    checks: tuple[tuple[str, str], ...] = ()
    not_null: bool = False


@dataclass(frozen=True)
class Column:
    name: str
    type: TypeRef
    not_null: bool
    has_default: bool
    default: str | None
    identity: str  # '' | 'always' | 'by default'
    generated: bool
    primary_key: bool
    owner: bool  # a foreign key to auth.users
    #: API roles that read the table but may not select this column (column privileges):
    #: the column is absent from the rows they read.
    hidden_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    name: str
    expression: str
    columns: tuple[str, ...]
    #: For a domain's CHECK: the column its VALUE stands for.
    value_column: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    kind: str  # 'table' | 'view'
    columns: tuple[Column, ...]
    checks: tuple[Check, ...]


@dataclass(frozen=True)
class EnumType:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Parameter:
    name: str
    type: TypeRef
    has_default: bool


@dataclass(frozen=True)
class Function:
    name: str
    signature: str
    arguments: tuple[Parameter, ...]
    returns: TypeRef
    returns_set: bool
    #: Columns of RETURNS TABLE (...) / OUT parameters, else empty.
    outputs: tuple[Parameter, ...]
    unnamed_arguments: bool
    #: COMMENT ON FUNCTION: its ``@`` lines annotate the result columns (``_results.py``).
    comment: str | None = None


@dataclass
class Catalog:
    tables: list[Table] = field(default_factory=list)
    enums: list[EnumType] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)


_TYPE_SQL = """
SELECT n.nspname, t.typname, t.typtype, t.typelem, t.typcategory, t.typbasetype,
       format_type(t.oid, NULL), t.typnotnull,
       ARRAY(SELECT ARRAY[k.conname::text, pg_get_expr(k.conbin, 0)]
               FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'
              ORDER BY k.conname)
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.oid = %s
"""

_KINDS = {"b": "base", "e": "enum", "c": "composite", "d": "domain", "p": "pseudo", "r": "range"}


class _Types:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.cache: dict[tuple[int, int], TypeRef] = {}

    def get(self, oid: int, typmod: int = -1) -> TypeRef:
        key = (oid, typmod)
        if key not in self.cache:
            self.cache[key] = self._load(oid, typmod)
        return self.cache[key]

    def _load(self, oid: int, typmod: int) -> TypeRef:
        row = self.conn.execute(_TYPE_SQL, (oid,)).fetchone()
        if row is None:
            raise LookupError(f"unknown type oid {oid}")
        schema, name, typtype, elem, category, basetype, display, notnull, checks = row
        display = str(display)
        if category == "A" and elem:
            element = self.get(int(elem), typmod)
            return TypeRef(schema, name, "array", f"{element.display}[]", element=element)
        length = None
        if name in ("varchar", "bpchar") and typmod >= 4:
            length = typmod - 4
            display = f"{display}({length})"
        if typtype == "d":
            base = self.get(int(basetype), typmod)
            domain_checks = tuple((str(c[0]), str(c[1])) for c in checks or [])
            return TypeRef(
                schema,
                name,
                "domain",
                display,
                element=base,
                checks=domain_checks,
                not_null=bool(notnull),
            )
        return TypeRef(schema, name, _KINDS.get(str(typtype), "base"), display, length=length)


_COLUMNS_SQL = """
SELECT c.relname, c.relkind, a.attname, a.atttypid, a.atttypmod, a.attnotnull,
       a.atthasdef, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid),
       EXISTS (SELECT 1 FROM pg_constraint p
                WHERE p.conrelid = c.oid AND p.contype = 'p' AND a.attnum = ANY (p.conkey)),
       EXISTS (SELECT 1 FROM pg_constraint f
                WHERE f.conrelid = c.oid AND f.contype = 'f'
                  AND f.confrelid = to_regclass('auth.users') AND f.conkey = ARRAY[a.attnum]),
       ARRAY(SELECT r.rolname::text FROM pg_roles r
              WHERE r.rolname = ANY (%s)
                AND NOT has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT')
                AND EXISTS (SELECT 1 FROM pg_attribute b
                             WHERE b.attrelid = c.oid AND b.attnum > 0 AND NOT b.attisdropped
                               AND has_column_privilege(r.oid, c.oid, b.attnum, 'SELECT'))
              ORDER BY 1)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')
 ORDER BY c.relname, a.attnum
"""

_CHECKS_SQL = """
SELECT c.relname, k.conname, pg_get_expr(k.conbin, k.conrelid),
       ARRAY(SELECT a.attname FROM unnest(k.conkey) AS u(n)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
              ORDER BY a.attnum)::text[]
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %s AND k.contype = 'c'
 ORDER BY c.relname, k.conname
"""

_ENUMS_SQL = """
SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[]
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE n.nspname = %s
 GROUP BY t.typname
 ORDER BY t.typname
"""

_FUNCTIONS_SQL = """
SELECT p.proname, p.oid::regprocedure::text, p.prorettype, p.proretset, p.pronargdefaults,
       p.proargtypes::oid[], p.proallargtypes, p.proargmodes::text[], p.proargnames,
       obj_description(p.oid, 'pg_proc')
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = %s AND p.prokind = 'f'
   AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = p.oid AND e.deptype = 'e')
   AND EXISTS (SELECT 1 FROM pg_roles r
                WHERE r.rolname = ANY (%s)
                  AND has_function_privilege(r.oid, p.oid, 'EXECUTE'))
 ORDER BY p.proname, p.oid::regprocedure::text
"""


def read_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    """Tables and views, enums and API-callable functions of the ``public`` schema."""
    types = _Types(conn)
    catalog = Catalog()
    checks: dict[str, list[Check]] = {}
    for relname, conname, expr, columns in conn.execute(_CHECKS_SQL, (SCHEMA,)):
        checks.setdefault(relname, []).append(Check(conname, str(expr), tuple(columns)))
    columns_of: dict[str, list[Column]] = {}
    kinds: dict[str, str] = {}
    for row in conn.execute(_COLUMNS_SQL, (list(API_ROLES), SCHEMA)).fetchall():
        relname, relkind, attname, typid, typmod, notnull, hasdef = row[:7]
        identity, generated, default, primary_key, owner, hidden_from = row[7:]
        kinds[relname] = "table" if relkind in ("r", "p") else "view"
        identity_text = {"a": "always", "d": "by default"}.get(str(identity), "")
        columns_of.setdefault(relname, []).append(
            Column(
                name=attname,
                type=types.get(int(typid), int(typmod)),
                not_null=bool(notnull),
                has_default=bool(hasdef) or identity_text != "",
                default=None if default is None else str(default),
                identity=identity_text,
                generated=str(generated) != "",
                primary_key=bool(primary_key),
                owner=bool(owner),
                hidden_from=tuple(hidden_from or ()),
            )
        )
    for name in sorted(columns_of):
        catalog.tables.append(
            Table(name, kinds[name], tuple(columns_of[name]), tuple(checks.get(name, [])))
        )
    for name, labels in conn.execute(_ENUMS_SQL, (SCHEMA,)):
        catalog.enums.append(EnumType(name, tuple(labels)))
    for row in conn.execute(_FUNCTIONS_SQL, (SCHEMA, list(API_ROLES))).fetchall():
        catalog.functions.append(_function(types, row))
    return catalog


def _function(types: _Types, row: tuple[Any, ...]) -> Function:
    name, signature, rettype, retset, ndefaults, argtypes, allargtypes, modes, names = row[:9]
    all_types = [int(t) for t in (allargtypes or argtypes or [])]
    all_modes = list(modes or ["i"] * len(all_types))
    all_names = list(names or [""] * len(all_types))
    inputs: list[tuple[str, int]] = []
    outputs: list[Parameter] = []
    for index, (typid, mode) in enumerate(zip(all_types, all_modes, strict=True)):
        argname = all_names[index] if index < len(all_names) else ""
        if mode in ("i", "b", "v"):
            inputs.append((argname, typid))
        if mode in ("o", "b", "t"):
            outputs.append(Parameter(argname, types.get(typid), False))
    first_default = len(inputs) - int(ndefaults or 0)
    arguments = tuple(
        Parameter(argname, types.get(typid), index >= first_default)
        for index, (argname, typid) in enumerate(inputs)
    )
    return Function(
        name=name,
        signature=signature,
        arguments=arguments,
        returns=types.get(int(rettype)),
        returns_set=bool(retset),
        outputs=tuple(outputs),
        unnamed_arguments=any(not p.name for p in arguments),
        comment=None if row[9] is None else str(row[9]),
    )
