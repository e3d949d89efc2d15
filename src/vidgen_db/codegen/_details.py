"""Read what the TypeScript types and the schema reference need beyond the models' catalog:
keys, indexes, row level security, grants, triggers, every function with who may run it,
composite types and comments.

Like :mod:`._catalog`, everything comes from the catalog of a migrated database (deparsed
by PostgreSQL itself), never from the SQL text of the migrations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from ._catalog import SCHEMA, TypeRef, _Types

__all__ = [
    "CompositeType",
    "Constraint",
    "Details",
    "ForeignKey",
    "FunctionInfo",
    "Grant",
    "Index",
    "Policy",
    "Trigger",
    "read_details",
]

#: Roles whose privileges the reference lists: the API roles and ``PUBLIC`` (everyone).
GRANTEES = ("anon", "authenticated", "service_role", "PUBLIC")
#: Schemas that are not the application's: the system's, Supabase's (or the bootstrap's
#: stand-ins for them) and the migration history.
_FOREIGN_SCHEMAS = ("auth", "extensions", "supabase_migrations", "information_schema")


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str
    #: The referencing columns are the table's primary key or a unique constraint.
    one_to_one: bool


@dataclass(frozen=True)
class Constraint:
    name: str
    table: str
    kind: str  # primary key | unique | foreign key | check | exclusion
    columns: tuple[str, ...]
    definition: str


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    method: str
    unique: bool
    keys: tuple[str, ...]  # each with its DESC / NULLS options
    include: tuple[str, ...]
    predicate: str | None
    constraint: str | None  # the constraint it backs (primary key, unique)


@dataclass(frozen=True)
class Policy:
    name: str
    table: str
    command: str  # ALL | SELECT | INSERT | UPDATE | DELETE
    permissive: bool
    roles: tuple[str, ...]
    using: str | None
    check: str | None


@dataclass(frozen=True)
class Grant:
    table: str
    grantee: str
    privilege: str
    columns: tuple[str, ...] = ()  # empty: the whole table


@dataclass(frozen=True)
class Trigger:
    name: str
    table: str  # schema-qualified unless in public
    timing: str  # BEFORE | AFTER | INSTEAD OF
    events: tuple[str, ...]
    for_each: str  # ROW | STATEMENT
    function: str  # schema-qualified
    when: str | None


@dataclass(frozen=True)
class FunctionInfo:
    schema: str
    name: str
    signature: str
    arguments: str
    result: str
    language: str
    security_definer: bool
    volatility: str  # immutable | stable | volatile
    #: The roles of :data:`GRANTEES` (PUBLIC aside) that may execute it.
    executable_by: tuple[str, ...]
    comment: str | None


@dataclass(frozen=True)
class CompositeType:
    name: str
    attributes: tuple[tuple[str, TypeRef], ...]


@dataclass
class Details:
    rls: dict[str, bool] = field(default_factory=dict)  # table -> RLS enabled
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)
    functions: list[FunctionInfo] = field(default_factory=list)
    composites: list[CompositeType] = field(default_factory=list)
    table_comments: dict[str, str] = field(default_factory=dict)
    column_comments: dict[tuple[str, str], str] = field(default_factory=dict)

    def executable_by(self, signature: str, schema: str = SCHEMA) -> tuple[str, ...]:
        """The API roles that may execute the function ``signature`` (regprocedure text)."""
        for info in self.functions:
            if info.schema == schema and info.signature == signature:
                return info.executable_by
        return ()


_RELATIONS = """
SELECT c.relname, c.relrowsecurity, obj_description(c.oid, 'pg_class')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
 ORDER BY c.relname
"""

_COLUMN_COMMENTS = """
SELECT c.relname, a.attname, d.description
  FROM pg_description d
  JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
 WHERE n.nspname = %s AND d.objsubid > 0
 ORDER BY c.relname, a.attnum
"""

_CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype,
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(n, i)
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n
              ORDER BY u.i)::text[],
       pg_get_constraintdef(k.oid, true),
       rn.nspname, rc.relname,
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(n, i)
               JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n
              ORDER BY u.i)::text[],
       k.confdeltype
  FROM pg_constraint k
  JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_class rc ON rc.oid = k.confrelid
  LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
 WHERE n.nspname = %s AND k.contype IN ('p', 'u', 'f', 'c', 'x')
 ORDER BY c.relname, k.conname
"""

_INDEXES = """
SELECT c.relname, i.relname, am.amname, x.indisunique, x.indnkeyatts, x.indnatts,
       x.indoption::int2[],
       ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true)
               FROM generate_series(1, x.indnatts) AS k ORDER BY k)::text[],
       pg_get_expr(x.indpred, x.indrelid, true),
       (SELECT k.conname FROM pg_constraint k WHERE k.conindid = x.indexrelid
           AND k.conrelid = x.indrelid)
  FROM pg_index x
  JOIN pg_class c ON c.oid = x.indrelid
  JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_am am ON am.oid = i.relam
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %s
 ORDER BY c.relname, i.relname
"""

_POLICIES = """
SELECT tablename, policyname, cmd, permissive = 'PERMISSIVE', roles::text[], qual, with_check
  FROM pg_policies WHERE schemaname = %s ORDER BY tablename, policyname
"""

_TABLE_GRANTS = """
SELECT c.relname, CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE r.rolname END, g.privilege_type
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL aclexplode(c.relacl) AS g
  LEFT JOIN pg_roles r ON r.oid = g.grantee
 WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm')
 ORDER BY 1, 2, 3
"""

_COLUMN_GRANTS = """
SELECT c.relname, CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE r.rolname END, g.privilege_type,
       array_agg(a.attname::text ORDER BY a.attnum)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  CROSS JOIN LATERAL aclexplode(a.attacl) AS g
  LEFT JOIN pg_roles r ON r.oid = g.grantee
 WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm')
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3
"""

_TRIGGERS = """
SELECT t.tgname,
       CASE WHEN cn.nspname = %(schema)s THEN c.relname ELSE cn.nspname || '.' || c.relname END,
       t.tgtype::int, fn.nspname || '.' || p.proname, pg_get_triggerdef(t.oid, true)
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace cn ON cn.oid = c.relnamespace
  JOIN pg_proc p ON p.oid = t.tgfoid
  JOIN pg_namespace fn ON fn.oid = p.pronamespace
 WHERE NOT t.tgisinternal AND (cn.nspname = %(schema)s OR fn.nspname = %(schema)s)
 ORDER BY 2, 1
"""

_FUNCTIONS = """
SELECT n.nspname, p.proname, p.oid::regprocedure::text,
       pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname,
       p.prosecdef, p.provolatile,
       ARRAY(SELECT r.rolname::text FROM pg_roles r
              WHERE r.rolname = ANY (%(roles)s)
                AND has_function_privilege(r.oid, p.oid, 'EXECUTE')
              ORDER BY array_position(%(roles)s, r.rolname::text)),
       obj_description(p.oid, 'pg_proc')
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE p.prokind = 'f'
   AND n.nspname NOT LIKE 'pg\\_%%' AND n.nspname <> ALL (%(foreign)s)
   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = p.oid AND e.deptype = 'e')
 ORDER BY n.nspname <> %(schema)s, n.nspname, p.proname, 3
"""

_COMPOSITES = """
SELECT t.typname, a.attname, a.atttypid, a.atttypmod
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = %s AND t.typtype = 'c'
 ORDER BY t.typname, a.attnum
"""

_CONSTRAINT_KINDS = {
    "p": "primary key",
    "u": "unique",
    "f": "foreign key",
    "c": "check",
    "x": "exclusion",
}
_ON_DELETE = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}


def read_details(conn: psycopg.Connection[Any]) -> Details:
    """Everything of :class:`Details` for the ``public`` schema."""
    details = Details()
    for name, rls, comment in conn.execute(_RELATIONS, (SCHEMA,)).fetchall():
        details.rls[name] = bool(rls)
        if comment:
            details.table_comments[name] = str(comment)
    for table, column, comment in conn.execute(_COLUMN_COMMENTS, (SCHEMA,)).fetchall():
        details.column_comments[(table, column)] = str(comment)
    _read_constraints(conn, details)
    _read_indexes(conn, details)
    for row in conn.execute(_POLICIES, (SCHEMA,)).fetchall():
        table, name, command, permissive, roles, using, check = row
        details.policies.append(
            Policy(name, table, str(command), bool(permissive), tuple(roles), using, check)
        )
    _read_grants(conn, details)
    _read_triggers(conn, details)
    params = {"roles": list(GRANTEES[:3]), "foreign": list(_FOREIGN_SCHEMAS), "schema": SCHEMA}
    for row in conn.execute(_FUNCTIONS, params).fetchall():
        schema, name, signature, arguments, result, language, definer, volatility = row[:8]
        details.functions.append(
            FunctionInfo(
                schema=schema,
                name=name,
                signature=signature,
                arguments=arguments,
                result=result,
                language=language,
                security_definer=bool(definer),
                volatility=_VOLATILITY[str(volatility)],
                executable_by=tuple(row[8]),
                comment=row[9],
            )
        )
    types = _Types(conn)
    attributes: dict[str, list[tuple[str, TypeRef]]] = {}
    for name, attname, typid, typmod in conn.execute(_COMPOSITES, (SCHEMA,)).fetchall():
        attributes.setdefault(name, []).append((attname, types.get(int(typid), int(typmod))))
    details.composites = [CompositeType(n, tuple(a)) for n, a in attributes.items()]
    return details


def _read_constraints(conn: psycopg.Connection[Any], details: Details) -> None:
    unique_keys: dict[str, list[frozenset[str]]] = {}
    foreign: list[tuple[Any, ...]] = []
    for row in conn.execute(_CONSTRAINTS, (SCHEMA,)).fetchall():
        table, name, kind, columns, definition = row[:5]
        details.constraints.append(
            Constraint(name, table, _CONSTRAINT_KINDS[str(kind)], tuple(columns), definition)
        )
        if kind in ("p", "u"):
            unique_keys.setdefault(table, []).append(frozenset(columns))
        elif kind == "f":
            foreign.append(row)
    for table, name, _, columns, _, ref_schema, ref_table, ref_columns, on_delete in foreign:
        details.foreign_keys.append(
            ForeignKey(
                name=name,
                table=table,
                columns=tuple(columns),
                ref_schema=ref_schema,
                ref_table=ref_table,
                ref_columns=tuple(ref_columns),
                on_delete=_ON_DELETE.get(str(on_delete), "no action"),
                one_to_one=frozenset(columns) in unique_keys.get(table, []),
            )
        )


def _read_indexes(conn: psycopg.Connection[Any], details: Details) -> None:
    for row in conn.execute(_INDEXES, (SCHEMA,)).fetchall():
        table, name, method, unique, nkeys, _, options, columns, predicate, constraint = row
        keys = []
        for position, column in enumerate(columns[:nkeys]):
            option = int(options[position])
            descending, nulls_first = bool(option & 1), bool(option & 2)
            text = column + (" DESC" if descending else "")
            if nulls_first != descending:  # not the default for the direction
                text += " NULLS FIRST" if nulls_first else " NULLS LAST"
            keys.append(text)
        details.indexes.append(
            Index(
                name=name,
                table=table,
                method=method,
                unique=bool(unique),
                keys=tuple(keys),
                include=tuple(columns[nkeys:]),
                predicate=predicate,
                constraint=constraint,
            )
        )


def _read_grants(conn: psycopg.Connection[Any], details: Details) -> None:
    for table, grantee, privilege in conn.execute(_TABLE_GRANTS, (SCHEMA,)).fetchall():
        if grantee in GRANTEES:
            details.grants.append(Grant(table, grantee, privilege))
    for table, grantee, privilege, columns in conn.execute(_COLUMN_GRANTS, (SCHEMA,)).fetchall():
        if grantee in GRANTEES:
            details.grants.append(Grant(table, grantee, privilege, tuple(columns)))


def _read_triggers(conn: psycopg.Connection[Any], details: Details) -> None:
    for name, table, tgtype, function, definition in conn.execute(
        _TRIGGERS, {"schema": SCHEMA}
    ).fetchall():
        events = tuple(
            event
            for bit, event in ((4, "INSERT"), (16, "UPDATE"), (8, "DELETE"), (32, "TRUNCATE"))
            if tgtype & bit
        )
        timing = "INSTEAD OF" if tgtype & 64 else "BEFORE" if tgtype & 2 else "AFTER"
        when = None
        marker = definition.find(" WHEN (")
        if marker >= 0:
            end = definition.rfind(") EXECUTE ")
            when = definition[marker + len(" WHEN (") : end] if end > marker else None
        details.triggers.append(
            Trigger(
                name=name,
                table=table,
                timing=timing,
                events=events,
                for_each="ROW" if tgtype & 1 else "STATEMENT",
                function=function,
                when=when,
            )
        )
