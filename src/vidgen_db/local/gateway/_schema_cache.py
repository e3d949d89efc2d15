"""Catalog introspection: the tables, views, foreign keys and functions the gateway serves."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from psycopg import AsyncConnection

from ._views import load_view_origins

__all__ = [
    "Column",
    "ForeignKey",
    "Function",
    "Param",
    "Relation",
    "SchemaCache",
    "load_schema_cache",
]


@dataclass(frozen=True)
class Column:
    """A column of a table or view."""

    name: str
    type: str
    nullable: bool
    default: str | None


@dataclass
class Relation:
    """A table, view, materialized view, foreign or partitioned table."""

    schema: str
    name: str
    kind: str
    columns: dict[str, Column] = field(default_factory=dict)
    pk: tuple[str, ...] = ()
    uniques: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def is_view(self) -> bool:
        return self.kind in ("v", "m")


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key constraint between two relations of the exposed schemas."""

    name: str
    schema: str
    table: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Param:
    """An input parameter of a function."""

    name: str
    type: str
    has_default: bool
    variadic: bool


ReturnKind = Literal["scalar", "composite", "void", "record"]


@dataclass(frozen=True)
class Function:
    """A function callable through ``/rpc``."""

    schema: str
    name: str
    params: tuple[Param, ...]
    return_type: str
    returns_set: bool
    return_kind: ReturnKind
    return_relation: tuple[str, str] | None
    out_columns: tuple[Column, ...]
    volatility: str
    row_param_of: tuple[str, str] | None = None
    rows_estimate: float = 0.0

    @property
    def read_only(self) -> bool:
        """Whether PostgREST runs a POST call of it in a READ ONLY transaction."""
        return self.volatility in ("s", "i")

    def signature(self) -> str:
        args = ", ".join(f"{p.name} => {p.type}" for p in self.params)
        return f"{self.schema}.{self.name}({args})"


@dataclass
class SchemaCache:
    """What the gateway knows about the exposed schemas."""

    relations: dict[tuple[str, str], Relation]
    foreign_keys: list[ForeignKey]
    functions: dict[tuple[str, str], list[Function]]
    timezones: frozenset[str]
    computed: dict[tuple[str, str], dict[str, Function]] = field(default_factory=dict)
    role_settings: dict[str, dict[str, str]] = field(default_factory=dict)
    computed_rels: dict[tuple[str, str], dict[str, Function]] = field(default_factory=dict)

    def relation(self, schema: str, name: str) -> Relation | None:
        return self.relations.get((schema, name))

    def computed_fields(self, relation: Relation) -> dict[str, Function]:
        """Computed columns of a relation: functions of its row type in the same schema."""
        return self.computed.get((relation.schema, relation.name), {})

    def computed_relationships(self, relation: Relation) -> dict[str, Function]:
        """Functions of a relation's row type returning rows of a table or view."""
        return self.computed_rels.get((relation.schema, relation.name), {})


_RELATIONS_SQL = """
select n.nspname, c.relname, c.relkind::text, a.attname, format_type(a.atttypid, a.atttypmod),
       not a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
where n.nspname = any(%(schemas)s) and c.relkind in ('r', 'v', 'm', 'f', 'p')
order by n.nspname, c.relname, a.attnum
"""

_KEYS_SQL = """
select n.nspname, c.relname, con.contype::text,
       array(select a.attname from unnest(con.conkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
             order by k.ord)::text[]
from pg_constraint con
join pg_class c on c.oid = con.conrelid
join pg_namespace n on n.oid = c.relnamespace
where con.contype in ('p', 'u') and n.nspname not in ('pg_catalog', 'information_schema')
order by n.nspname, c.relname, con.conname
"""

_FKS_SQL = """
select con.conname, n1.nspname, c1.relname,
       array(select a.attname from unnest(con.conkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
             order by k.ord)::text[],
       n2.nspname, c2.relname,
       array(select a.attname from unnest(con.confkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum
             order by k.ord)::text[]
from pg_constraint con
join pg_class c1 on c1.oid = con.conrelid
join pg_namespace n1 on n1.oid = c1.relnamespace
join pg_class c2 on c2.oid = con.confrelid
join pg_namespace n2 on n2.oid = c2.relnamespace
where con.contype = 'f' and n1.nspname not in ('pg_catalog', 'information_schema')
order by n1.nspname, c1.relname, con.conname
"""

_FUNCTIONS_SQL = """
select n.nspname, p.proname, p.provolatile::text, p.proretset, p.prorettype = 'void'::regtype,
       format_type(p.prorettype, null), t.typtype::text, rn.nspname, rc.relname,
       coalesce(p.proargnames, '{}')::text[], coalesce(p.proargmodes::text[], '{}'),
       array(select format_type(x, null)
             from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(x, o)
             order by o)::text[],
       p.pronargdefaults, an.nspname, ac.relname, p.prorows
from pg_proc p
left join pg_type at on at.oid = p.proargtypes[0] and p.pronargs >= 1
left join pg_class ac on ac.oid = at.typrelid and at.typtype = 'c'
left join pg_namespace an on an.oid = ac.relnamespace
join pg_namespace n on n.oid = p.pronamespace
join pg_type t on t.oid = p.prorettype
left join pg_class rc on rc.oid = t.typrelid and t.typtype = 'c'
left join pg_namespace rn on rn.oid = rc.relnamespace
where n.nspname = any(%(schemas)s) and p.prokind = 'f'
order by n.nspname, p.proname, p.oid
"""


def _function_from_row(row: Sequence[Any], relations: dict[tuple[str, str], Relation]) -> Function:
    (schema, name, volatility, retset, is_void, rettype, typtype, rschema, rname) = row[:9]
    names: list[str] = list(row[9])
    modes: list[str] = list(row[10])
    types: list[str] = list(row[11])
    ndefaults: int = row[12]
    if not modes:
        modes = ["i"] * len(types)
    names += [""] * (len(types) - len(names))
    inputs = [(n, t, m) for n, t, m in zip(names, types, modes, strict=True) if m in "ibv"]
    outputs = [
        Column(n, t, True, None) for n, t, m in zip(names, types, modes, strict=True) if m in "otb"
    ]
    first_default = len(inputs) - ndefaults
    params = tuple(Param(n, t, i >= first_default, m == "v") for i, (n, t, m) in enumerate(inputs))
    kind: ReturnKind
    return_relation = None
    out_columns: tuple[Column, ...] = ()
    if is_void:
        kind = "void"
    elif typtype == "c" and rschema is not None:
        kind = "composite"
        return_relation = (rschema, rname)
        rel = relations.get(return_relation)
        if rel is not None:
            out_columns = tuple(rel.columns.values())
    elif rettype == "record" and len(outputs) > 1:
        kind = "composite"
        out_columns = tuple(outputs)
    elif rettype == "record":
        kind = "record"
    else:
        kind = "scalar"
    row_param_of = (row[13], row[14]) if row[13] is not None else None
    rows_estimate = float(row[15] or 0)
    return Function(
        schema,
        name,
        params,
        rettype,
        retset,
        kind,
        return_relation,
        out_columns,
        volatility,
        row_param_of,
        rows_estimate,
    )


async def _composite_columns(
    conn: AsyncConnection[Any], schema: str, name: str
) -> tuple[Column, ...]:
    cur = await conn.execute(
        """select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
           join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped
           order by a.attnum""",
        [schema, name],
    )
    return tuple(Column(r[0], r[1], True, None) for r in await cur.fetchall())


def _view_keys(
    relations: dict[tuple[str, str], Relation],
    origins: dict[tuple[str, str], dict[str, tuple[str, str, str]]],
    base_keys: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]],
    fks: list[ForeignKey],
) -> list[ForeignKey]:
    """Give exposed views the keys and foreign keys of the base-table columns they show."""
    # base table -> [(view relation, {base column: view column})]
    shown: dict[tuple[str, str], list[tuple[Relation, dict[str, str]]]] = {}
    for key, mapping in origins.items():
        view = relations.get(key)
        if view is None or not view.is_view:
            continue
        per_base: dict[tuple[str, str], dict[str, str]] = {}
        for view_col, (bschema, btable, bcol) in mapping.items():
            per_base.setdefault((bschema, btable), {}).setdefault(bcol, view_col)
        for base, cols in per_base.items():
            shown.setdefault(base, []).append((view, cols))
            for contype, kcols in base_keys.get(base, []):
                if all(c in cols for c in kcols):
                    mapped = tuple(cols[c] for c in kcols)
                    if contype == "p" and not view.pk:
                        view.pk = mapped
                    view.uniques.append(mapped)

    def versions(
        schema: str, table: str, cols: tuple[str, ...]
    ) -> list[tuple[str, str, tuple[str, ...]]]:
        out = [(schema, table, cols)]
        for view, mapping in shown.get((schema, table), []):
            if all(c in mapping for c in cols):
                out.append((view.schema, view.name, tuple(mapping[c] for c in cols)))
        return out

    extra: list[ForeignKey] = []
    for fk in fks:
        sources = versions(fk.schema, fk.table, fk.columns)
        targets = versions(fk.ref_schema, fk.ref_table, fk.ref_columns)
        for s_schema, s_table, s_cols in sources:
            for t_schema, t_table, t_cols in targets:
                if (s_schema, s_table) == (fk.schema, fk.table) and (t_schema, t_table) == (
                    fk.ref_schema,
                    fk.ref_table,
                ):
                    continue
                extra.append(
                    ForeignKey(fk.name, s_schema, s_table, s_cols, t_schema, t_table, t_cols)
                )
    return extra


async def load_schema_cache(conn: AsyncConnection[Any], schemas: Sequence[str]) -> SchemaCache:
    """Read the catalog for ``schemas`` (all relations and functions, whatever their grants).

    Runs with an empty ``search_path`` so that type names come out schema-qualified.
    """
    async with conn.transaction():
        await conn.execute("SET LOCAL search_path TO ''")
        return await _load(conn, schemas)


async def _load(conn: AsyncConnection[Any], schemas: Sequence[str]) -> SchemaCache:
    params = {"schemas": list(schemas)}
    relations: dict[tuple[str, str], Relation] = {}
    cur = await conn.execute(_RELATIONS_SQL, params)
    for schema, name, kind, col, typ, nullable, default in await cur.fetchall():
        rel = relations.setdefault((schema, name), Relation(schema, name, kind))
        if col is not None:
            rel.columns[col] = Column(col, typ, nullable, default)
    base_keys: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = {}
    cur = await conn.execute(_KEYS_SQL, params)
    for schema, name, contype, cols in await cur.fetchall():
        base_keys.setdefault((schema, name), []).append((contype, tuple(cols)))
        keyed = relations.get((schema, name))
        if keyed is None:
            continue
        if contype == "p":
            keyed.pk = tuple(cols)
        keyed.uniques.append(tuple(cols))
    cur = await conn.execute(_FKS_SQL, params)
    fks = [
        ForeignKey(r[0], r[1], r[2], tuple(r[3]), r[4], r[5], tuple(r[6]))
        for r in await cur.fetchall()
    ]
    origins = await load_view_origins(conn)
    fks += _view_keys(relations, origins, base_keys, fks)
    functions: dict[tuple[str, str], list[Function]] = {}
    computed: dict[tuple[str, str], dict[str, Function]] = {}
    computed_rels: dict[tuple[str, str], dict[str, Function]] = {}
    cur = await conn.execute(_FUNCTIONS_SQL, params)
    for row in await cur.fetchall():
        fn = _function_from_row(row, relations)
        if fn.return_relation is not None and not fn.out_columns:
            cols = await _composite_columns(conn, *fn.return_relation)
            fn = dataclasses.replace(fn, out_columns=cols)
        functions.setdefault((fn.schema, fn.name), []).append(fn)
        required = [p for p in fn.params if not p.has_default]
        if (
            fn.row_param_of is not None
            and fn.row_param_of[0] == fn.schema
            and len(required) <= 1
            and fn.params
            and not fn.params[0].variadic
            and not fn.returns_set
            and fn.return_kind in ("scalar", "composite")
        ):
            computed.setdefault(fn.row_param_of, {})[fn.name] = fn
        if (
            fn.row_param_of is not None
            and len(fn.params) == 1
            and fn.return_relation is not None
            and fn.return_relation in relations
        ):
            computed_rels.setdefault(fn.row_param_of, {})[fn.name] = fn
    cur = await conn.execute("select name from pg_timezone_names")
    timezones = frozenset(r[0] for r in await cur.fetchall())
    return SchemaCache(
        relations,
        fks,
        functions,
        timezones,
        computed,
        await _role_settings(conn),
        computed_rels,
    )


_ROLE_SETTINGS_SQL = """
select r.rolname, s.setdatabase <> 0, s.setconfig
from pg_db_role_setting s
join pg_roles r on r.oid = s.setrole
where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
order by 2
"""


async def _role_settings(conn: AsyncConnection[Any]) -> dict[str, dict[str, str]]:
    """``ALTER ROLE ... [IN DATABASE ...] SET`` values, which PostgREST applies per request
    (``SET ROLE`` alone would not); database-specific values win."""
    out: dict[str, dict[str, str]] = {}
    cur = await conn.execute(_ROLE_SETTINGS_SQL)
    for role, _db_specific, config in await cur.fetchall():
        for item in config or []:
            key, _, value = item.partition("=")
            out.setdefault(role, {})[key] = value
    return out
