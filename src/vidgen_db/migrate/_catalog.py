"""The security-relevant facts of a database's catalog, read the same way from any database
so that two of them can be compared (``vidgen-db verify``).

Names come out schema-qualified (the queries run with ``search_path = pg_catalog``), and
privileges only for the grantees the API can act as: ``anon``, ``authenticated``,
``service_role`` and ``PUBLIC``. Owners and grantors are left out: they depend on who ran
the migrations, not on what the migrations say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

__all__ = [
    "GRANTEES",
    "Acl",
    "Catalog",
    "Column",
    "Function",
    "Policy",
    "Relation",
    "Trigger",
    "managed_schemas",
    "read_catalog",
]

#: Whose privileges are compared: the API roles and PUBLIC (which every role inherits).
GRANTEES = ("anon", "authenticated", "service_role", "PUBLIC")

#: Schemas that are not the migrations' own: PostgreSQL's, the compatibility bootstrap's
#: ``auth`` (Supabase's on a project) and the migration history.
_NOT_MANAGED = ("auth", "supabase_migrations", "information_schema")

#: grantee -> privileges (``UPDATE``, or ``UPDATE WITH GRANT OPTION``).
Acl = Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Relation:
    """A table, view, sequence...: its kind, row level security and privileges."""

    kind: str
    rls: bool
    force_rls: bool
    acl: Acl


@dataclass(frozen=True)
class Column:
    type: str
    not_null: bool
    default: str | None
    identity: str
    generated: str
    acl: Acl


@dataclass(frozen=True)
class Policy:
    command: str
    permissive: bool
    roles: tuple[str, ...]
    using: str | None
    check: str | None


@dataclass(frozen=True)
class Trigger:
    definition: str
    enabled: str


@dataclass(frozen=True)
class Function:
    kind: str
    security_definer: bool
    volatility: str
    config: tuple[str, ...]
    language: str
    result: str
    body_md5: str
    acl: Acl


@dataclass
class Catalog:
    """What :func:`read_catalog` found; keys are qualified names (or (table, name) pairs)."""

    schemas: dict[str, Acl] = field(default_factory=dict)
    relations: dict[str, Relation] = field(default_factory=dict)
    columns: dict[tuple[str, str], Column] = field(default_factory=dict)
    constraints: dict[tuple[str, str], str] = field(default_factory=dict)
    indexes: dict[tuple[str, str], str] = field(default_factory=dict)
    policies: dict[tuple[str, str], Policy] = field(default_factory=dict)
    triggers: dict[tuple[str, str], Trigger] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)


_KINDS = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
    "S": "sequence",
}

#: The grantees as (oid, name); oid 0 is PUBLIC in an ACL.
_GRANTEE_CTE = """
WITH grantee(oid, name) AS (
  SELECT 0::oid, 'PUBLIC'::text
  UNION ALL
  SELECT oid, rolname::text FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')
)
"""

#: Objects created by an extension belong to the extension, not to the migrations.
_NOT_EXTENSION = """
NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass
            AND d.objid = {oid} AND d.deptype = 'e')
"""

_SCHEMAS = (
    _GRANTEE_CTE
    + """
SELECT n.nspname::text, g.name, a.privilege_type, a.is_grantable
FROM pg_namespace n
LEFT JOIN LATERAL aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a ON true
LEFT JOIN grantee g ON g.oid = a.grantee
WHERE n.nspname = ANY(%(schemas)s)
"""
)

_RELATIONS = (
    _GRANTEE_CTE
    + """
SELECT c.oid::regclass::text, c.relkind::text, c.relrowsecurity, c.relforcerowsecurity,
       g.name, a.privilege_type, a.is_grantable
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault(
  CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a ON true
LEFT JOIN grantee g ON g.oid = a.grantee
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  AND """
    + _NOT_EXTENSION.format(catalog="pg_class", oid="c.oid")
)

_COLUMNS = (
    _GRANTEE_CTE
    + """
SELECT c.oid::regclass::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text,
       a.attgenerated::text, g.name, x.privilege_type, x.is_grantable
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN LATERAL aclexplode(a.attacl) x ON true
LEFT JOIN grantee g ON g.oid = x.grantee
WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attnum > 0 AND NOT a.attisdropped
  AND """
    + _NOT_EXTENSION.format(catalog="pg_class", oid="c.oid")
)

_CONSTRAINTS = """
SELECT k.conrelid::regclass::text, k.conname::text, pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
"""

_INDEXES = """
SELECT i.indrelid::regclass::text, x.relname::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class x ON x.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = x.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
"""

_POLICIES = """
SELECT p.polrelid::regclass::text, p.polname::text, p.polcmd::text, p.polpermissive,
       ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END
             FROM unnest(p.polroles) r ORDER BY 1),
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s)
"""

# The migrations' triggers: those on their tables, and those elsewhere (on auth.users)
# that call one of their functions.
_TRIGGERS = """
SELECT t.tgrelid::regclass::text, t.tgname::text, pg_get_triggerdef(t.oid), t.tgenabled::text
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc f ON f.oid = t.tgfoid
JOIN pg_namespace fn ON fn.oid = f.pronamespace
WHERE NOT t.tgisinternal
  AND (n.nspname = ANY(%(schemas)s) OR fn.nspname = ANY(%(schemas)s))
"""

_FUNCTIONS = (
    _GRANTEE_CTE
    + """
SELECT p.oid::regprocedure::text, p.prokind::text, p.prosecdef, p.provolatile::text,
       coalesce(p.proconfig, '{}'), l.lanname::text, coalesce(pg_get_function_result(p.oid), ''),
       md5(CASE WHEN p.prosqlbody IS NULL THEN p.prosrc ELSE pg_get_function_sqlbody(p.oid) END),
       g.name, a.privilege_type, a.is_grantable
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
LEFT JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a ON true
LEFT JOIN grantee g ON g.oid = a.grantee
WHERE n.nspname = ANY(%(schemas)s)
  AND """
    + _NOT_EXTENSION.format(catalog="pg_proc", oid="p.oid")
)

_ENUMS = """
SELECT t.oid::regtype::text, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname = ANY(%(schemas)s)
GROUP BY t.oid
"""

_MANAGED_SCHEMAS = """
SELECT nspname::text FROM pg_namespace
WHERE nspname NOT LIKE 'pg\\_%%' AND NOT nspname = ANY(%(excluded)s)
ORDER BY 1
"""

_VOLATILITY = {"i": "IMMUTABLE", "s": "STABLE", "v": "VOLATILE"}
_FUNCTION_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window function"}


def managed_schemas(conn: psycopg.Connection[Any]) -> tuple[str, ...]:
    """The schemas a migrated database's migrations own (``public`` always among them)."""
    rows = conn.execute(_MANAGED_SCHEMAS, {"excluded": list(_NOT_MANAGED)}).fetchall()
    return tuple(sorted({str(r[0]) for r in rows} | {"public"}))


def read_catalog(conn: psycopg.Connection[Any], schemas: tuple[str, ...]) -> Catalog:
    """Read the facts of ``schemas`` (and the triggers calling their functions), in one
    read-only transaction with names qualified."""
    params = {"schemas": list(schemas)}
    catalog = Catalog()
    with conn.transaction():
        conn.execute("SET LOCAL search_path = pg_catalog")
        conn.execute("SET LOCAL transaction_read_only = on")

        def rows(query: str) -> list[tuple[Any, ...]]:
            return conn.execute(query, params).fetchall()

        acls: dict[Any, dict[str, set[str]]] = {}
        for name, grantee, privilege, grantable in rows(_SCHEMAS):
            _add(acls.setdefault(("schema", name), {}), grantee, privilege, grantable)
        for name in schemas:
            if ("schema", name) in acls:
                catalog.schemas[name] = _frozen(acls[("schema", name)])

        kinds: dict[str, tuple[str, bool, bool]] = {}
        for name, kind, rls, force, grantee, privilege, grantable in rows(_RELATIONS):
            kinds[name] = (_KINDS[kind], rls, force)
            _add(acls.setdefault(("relation", name), {}), grantee, privilege, grantable)
        for name, (kind, rls, force) in kinds.items():
            catalog.relations[name] = Relation(kind, rls, force, _frozen(acls[("relation", name)]))

        definitions: dict[tuple[str, str], tuple[Any, ...]] = {}
        for table, column, *definition, grantee, privilege, grantable in rows(_COLUMNS):
            definitions[(table, column)] = tuple(definition)
            _add(acls.setdefault(("column", table, column), {}), grantee, privilege, grantable)
        for key, (type_, not_null, default, identity, generated) in definitions.items():
            catalog.columns[key] = Column(
                type_, not_null, default, identity, generated, _frozen(acls[("column", *key)])
            )

        catalog.constraints = {(t, n): d for t, n, d in rows(_CONSTRAINTS)}
        catalog.indexes = {(t, n): d for t, n, d in rows(_INDEXES)}
        catalog.policies = {
            (t, n): Policy(cmd, permissive, tuple(roles), using, check)
            for t, n, cmd, permissive, roles, using, check in rows(_POLICIES)
        }
        catalog.triggers = {(t, n): Trigger(d, e) for t, n, d, e in rows(_TRIGGERS)}

        functions: dict[str, tuple[Any, ...]] = {}
        for signature, *function_facts, grantee, privilege, grantable in rows(_FUNCTIONS):
            functions[signature] = tuple(function_facts)
            _add(acls.setdefault(("function", signature), {}), grantee, privilege, grantable)
        for signature, facts in functions.items():
            kind, definer, volatility, config, language, result, body = facts
            catalog.functions[signature] = Function(
                kind=_FUNCTION_KINDS.get(kind, kind),
                security_definer=bool(definer),
                volatility=_VOLATILITY.get(volatility, volatility),
                config=tuple(sorted(config)),
                language=language,
                result=result,
                body_md5=body,
                acl=_frozen(acls[("function", signature)]),
            )
        catalog.enums = {name: tuple(labels) for name, labels in rows(_ENUMS)}
    return catalog


def _add(
    acl: dict[str, set[str]], grantee: str | None, privilege: str | None, grantable: bool | None
) -> None:
    """Record one ACL item (rows of other grantees, or of no ACL item, record nothing)."""
    if grantee is None or privilege is None:
        return
    acl.setdefault(grantee, set()).add(f"{privilege} WITH GRANT OPTION" if grantable else privilege)


def _frozen(acl: dict[str, set[str]]) -> Acl:
    return {grantee: frozenset(privileges) for grantee, privileges in acl.items()}
