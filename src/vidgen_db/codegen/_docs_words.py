"""Plain words for the schema reference: CHECK rules, privileges, policies, triggers, and
the Mermaid diagram's entity and relationship lines."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._catalog import SCHEMA, Table, TypeRef
from ._checks import ColumnRule
from ._details import ForeignKey, Grant, Policy, Trigger

__all__ = [
    "code",
    "er_entity",
    "er_relationship",
    "grant_words",
    "one_line",
    "policy_words",
    "rule_words",
    "short_type",
    "trigger_words",
]

#: The order privileges are listed in.
_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
_VERBS = {"SELECT": "read", "INSERT": "insert", "UPDATE": "update", "DELETE": "delete"}
#: Short names of common types (format_type's are long and have spaces).
_SHORT = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double",
    "bool": "boolean",
    "bpchar": "char",
}


def one_line(text: str) -> str:
    """``text`` with its runs of whitespace as single spaces (deparsed SQL spans lines)."""
    return " ".join(text.split())


def code(text: str) -> str:
    """Inline Markdown code, safe inside a table cell."""
    text = one_line(text).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def short_type(ref: TypeRef) -> str:
    """A type's name without spaces: ``timestamptz``, ``text[]``, ``varchar(4)``."""
    if ref.kind == "array" and ref.element is not None:
        return short_type(ref.element) + "[]"
    name = _SHORT.get(ref.name, ref.name)
    if ref.length is not None:
        name = f"{name}({ref.length})"
    return name if ref.schema in (SCHEMA, "pg_catalog") else f"{ref.schema}.{name}"


def _number(value: object) -> str:
    return str(value)


def rule_words(rule: ColumnRule | None) -> list[str]:
    """What the CHECK constraints allow, in words: ``one of `a`, `b```, ``1 to 10``."""
    if rule is None:
        return []
    words: list[str] = []
    if rule.values is not None:
        words.append("one of " + ", ".join(code(str(v)) for v in rule.values))
    if rule.refused:
        words.append("not " + ", ".join(code(str(v)) for v in rule.refused))
    low = ("at least", rule.ge) if rule.ge is not None else ("more than", rule.gt)
    high = ("at most", rule.le) if rule.le is not None else ("less than", rule.lt)
    if low[1] is not None and high[1] is not None and rule.ge is not None and rule.le is not None:
        words.append(f"{_number(rule.ge)} to {_number(rule.le)}")
    else:
        for phrase, value in (low, high):
            if value is not None:
                words.append(f"{phrase} {_number(value)}")
    if rule.min_length is not None and rule.max_length is not None:
        words.append(f"{rule.min_length} to {rule.max_length} characters")
    elif rule.min_length is not None:
        words.append(f"at least {rule.min_length} characters")
    elif rule.max_length is not None:
        words.append(f"at most {rule.max_length} characters")
    if rule.json_kind is not None:
        words.append(f"a JSON {rule.json_kind}")
    if rule.max_bytes is not None:
        words.append(f"at most {rule.max_bytes} bytes as JSON text")
    return words


def _roles(roles: Iterable[str]) -> str:
    names = ["everyone" if r in ("public", "PUBLIC") else code(r) for r in roles]
    return ", ".join(names)


def grant_words(grants: list[Grant], grantee: str) -> str:
    """The privileges of ``grantee`` on one table: ``SELECT, UPDATE (`a`, `b`)``."""
    whole = {g.privilege for g in grants if g.grantee == grantee and not g.columns}
    columns: dict[str, tuple[str, ...]] = {
        g.privilege: g.columns for g in grants if g.grantee == grantee and g.columns
    }
    parts = []
    for privilege in (*_PRIVILEGES, *sorted({g.privilege for g in grants} - set(_PRIVILEGES))):
        if privilege in whole:
            parts.append(privilege)
        elif privilege in columns:
            parts.append(f"{privilege} ({', '.join(code(c) for c in columns[privilege])})")
    return ", ".join(parts) if parts else "none"


def policy_words(policy: Policy) -> str:
    """A policy as a sentence: who may do what to which rows."""
    roles = _roles(policy.roles)
    using = code(policy.using) if policy.using else None
    check = code(policy.check) if policy.check else None
    only = "" if policy.permissive else "only "
    if policy.command == "ALL":
        verb = "read, insert, update and delete"
    else:
        verb = _VERBS.get(policy.command, policy.command.lower())
    if policy.command == "INSERT":
        sentence = f"{roles} may insert {only}rows that satisfy {check}" if check else ""
        sentence = sentence or f"{roles} may insert any row"
    else:
        sentence = f"{roles} may {verb} {only}the rows where {using}" if using else ""
        sentence = sentence or f"{roles} may {verb} every row"
        if check:
            sentence += f"; a written row must satisfy {check}"
    if not policy.permissive:
        sentence = f"restrictive (on top of the permissive policies): {sentence}"
    return f"{code(policy.name)}: {sentence}."


def trigger_words(trigger: Trigger) -> str:
    """``BEFORE UPDATE, for each row: `public.update_updated_at()```."""
    events = " OR ".join(trigger.events)
    each = "for each row" if trigger.for_each == "ROW" else "once per statement"
    when = f" when {code(trigger.when)}" if trigger.when else ""
    return f"{trigger.timing} {events}, {each}{when}: {code(trigger.function + '()')}"


def _name(text: str) -> str:
    """A name Mermaid accepts unquoted (letters, digits, ``_``)."""
    name = re.sub(r"\W", "_", text, flags=re.ASCII)
    return name if name[:1].isalpha() or name[:1] == "_" else f"_{name}"


def _entity(schema: str, table: str) -> str:
    return _name(table if schema == SCHEMA else f"{schema}_{table}")


def er_entity(table: Table, keys: dict[str, set[str]]) -> list[str]:
    """A table's block in the diagram: one line per column, with PK/FK/UK markers."""
    lines = [f"  {_entity(SCHEMA, table.name)} {{"]
    for column in table.columns:
        marks = sorted(keys.get(column.name, set()), key=("PK", "FK", "UK").index)
        mark = f" {', '.join(marks)}" if marks else ""
        kind = re.sub(r"[^\w\[\]()-]", "_", short_type(column.type), flags=re.ASCII)
        lines.append(f"    {kind} {_name(column.name)}{mark}")
    lines.append("  }")
    return lines


def er_relationship(fk: ForeignKey, not_null: bool) -> str:
    """``projects ||--o{ jobs : "project_id, user_id"``: the referenced table on the left
    (exactly one, or zero or one when a key column may be NULL), the referencing table on
    the right (zero or one for a unique key, else zero or more)."""
    left = "||" if not_null else "|o"
    right = "o|" if fk.one_to_one else "o{"
    parent = _entity(fk.ref_schema, fk.ref_table)
    label = ", ".join(fk.columns).replace('"', "'")
    return f'  {parent} {left}--{right} {_entity(SCHEMA, fk.table)} : "{label}"'


def foreign_entity(fk: ForeignKey) -> str | None:
    """The diagram's name of a table outside the schema (``auth_users``), else None."""
    return None if fk.ref_schema == SCHEMA else _entity(fk.ref_schema, fk.ref_table)
