"""Compare two catalogs (what the migrations define, what a database has) and word each
difference so that an operator can act on it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from ._catalog import GRANTEES, Acl, Catalog, Column, Function, Policy, Relation, Trigger

__all__ = ["SECTIONS", "Difference", "compare_catalogs"]

#: The sections a report groups its differences under, in the order it prints them.
SECTIONS = (
    "migration history",
    "schemas",
    "tables",
    "row level security",
    "policies",
    "grants",
    "columns",
    "constraints and indexes",
    "triggers",
    "functions",
    "types",
)


@dataclass(frozen=True)
class Difference:
    """One way the database differs from what its migrations define."""

    section: str
    subject: str  # e.g. "table public.credit_balances"
    detail: str  # e.g. "service_role has UPDATE, the migrations grant only SELECT"

    def __str__(self) -> str:
        return f"{self.subject}: {self.detail}"


_V = TypeVar("_V")
_K = TypeVar("_K")


def compare_catalogs(expected: Catalog, actual: Catalog) -> list[Difference]:
    """Every difference of ``actual`` from ``expected``, in :data:`SECTIONS` order. What
    belongs to a missing (or extra) table or function is not listed again."""
    found: list[Difference] = []
    add = found.append

    for name in _missing(expected.schemas, actual.schemas):
        add(Difference("schemas", f"schema {name}", "is missing"))
    for name in sorted(expected.schemas.keys() & actual.schemas.keys()):
        for detail in _acl(expected.schemas[name], actual.schemas[name]):
            add(Difference("schemas", f"schema {name}", detail))

    relations = _both(expected.relations, actual.relations)
    for name in _missing(expected.relations, actual.relations):
        add(Difference("tables", f"{expected.relations[name].kind} {name}", "is missing"))
    for name in _missing(actual.relations, expected.relations):
        kind = actual.relations[name].kind
        add(Difference("tables", f"{kind} {name}", "is not defined by the migrations"))
    for name in relations:
        _relation(name, expected.relations[name], actual.relations[name], add)

    tables = set(relations)
    _keyed(
        "policies",
        "policy",
        expected.policies,
        actual.policies,
        tables,
        _policy_text,
        add,
        _policy,
    )
    on_columns = _column_privileges(expected)
    for name in relations:
        subject = f"{expected.relations[name].kind} {name}"
        granted, held = expected.relations[name].acl, actual.relations[name].acl
        for detail in _acl(granted, held, also=on_columns.get(name, {})):
            add(Difference("grants", subject, detail))
    for key in sorted(expected.columns.keys() & actual.columns.keys()):
        for detail in _acl(expected.columns[key].acl, actual.columns[key].acl, columns=True):
            add(Difference("grants", f"column {key[0]}.{key[1]}", detail))
    for signature in sorted(expected.functions.keys() & actual.functions.keys()):
        for detail in _acl(expected.functions[signature].acl, actual.functions[signature].acl):
            kind = expected.functions[signature].kind
            add(Difference("grants", f"{kind} {signature}", detail))

    _keyed(
        "columns", "column", expected.columns, actual.columns, tables, _column_text, add, _column
    )
    _keyed(
        "constraints and indexes",
        "constraint",
        expected.constraints,
        actual.constraints,
        tables,
        str,
        add,
        _definition,
    )
    _keyed(
        "constraints and indexes",
        "index",
        expected.indexes,
        actual.indexes,
        tables,
        str,
        add,
        _definition,
    )
    # Triggers on tables outside the compared schemas (auth.users) are compared too.
    trigger_tables = tables | {t for t, _ in expected.triggers} | {t for t, _ in actual.triggers}
    trigger_tables -= set(expected.relations.keys() ^ actual.relations.keys())
    _keyed(
        "triggers",
        "trigger",
        expected.triggers,
        actual.triggers,
        trigger_tables,
        lambda t: t.definition,
        add,
        _trigger,
    )

    for signature in _missing(expected.functions, actual.functions):
        kind = expected.functions[signature].kind
        add(Difference("functions", f"{kind} {signature}", "is missing"))
    for signature in _missing(actual.functions, expected.functions):
        kind = actual.functions[signature].kind
        add(Difference("functions", f"{kind} {signature}", "is not defined by the migrations"))
    for signature in sorted(expected.functions.keys() & actual.functions.keys()):
        want, have = expected.functions[signature], actual.functions[signature]
        for detail in _function(want, have):
            add(Difference("functions", f"{want.kind} {signature}", detail))

    for name in _missing(expected.enums, actual.enums):
        add(Difference("types", f"type {name}", "is missing"))
    for name in _missing(actual.enums, expected.enums):
        add(Difference("types", f"type {name}", "is not defined by the migrations"))
    for name in sorted(expected.enums.keys() & actual.enums.keys()):
        if expected.enums[name] != actual.enums[name]:
            add(
                Difference(
                    "types",
                    f"type {name}",
                    (
                        f"has the values {_list(actual.enums[name])}, "
                        f"the migrations define {_list(expected.enums[name])}"
                    ),
                )
            )
    return sorted(found, key=lambda d: SECTIONS.index(d.section))


# -- helpers -------------------------------------------------------------------------------


def _missing(left: Mapping[_K, object], right: Mapping[_K, object]) -> list[_K]:
    return sorted(left.keys() - right.keys())  # type: ignore[type-var]


def _both(left: Mapping[str, object], right: Mapping[str, object]) -> list[str]:
    return sorted(left.keys() & right.keys())


def _list(items: Iterable[str]) -> str:
    items = list(items)
    return ", ".join(items) if items else "none"


def _column_privileges(catalog: Catalog) -> dict[str, dict[str, set[str]]]:
    """table -> grantee -> the privileges granted on some of its columns."""
    found: dict[str, dict[str, set[str]]] = {}
    for (table, _), column in catalog.columns.items():
        for grantee, privileges in column.acl.items():
            found.setdefault(table, {}).setdefault(grantee, set()).update(privileges)
    return found


def _acl(
    want: Acl,
    have: Acl,
    *,
    columns: bool = False,
    also: Mapping[str, set[str]] | None = None,
) -> list[str]:
    """One line per grantee whose privileges differ: what it has too many, or lacks.
    ``also``: per grantee, what the migrations grant on some columns of this table."""
    details = []
    for grantee in GRANTEES:
        expected = want.get(grantee, frozenset())
        actual = have.get(grantee, frozenset())
        extra, missing = sorted(actual - expected), sorted(expected - actual)
        granted = ", ".join(sorted(expected))
        on_columns = sorted((also or {}).get(grantee, set()))
        where = " on this column" if columns else ""
        if on_columns:
            where = f" on the table (and {', '.join(on_columns)} on some of its columns)"
        if extra and missing:
            details.append(
                f"{grantee} has {', '.join(extra)} and lacks {', '.join(missing)}; "
                f"the migrations grant exactly {granted}{where}"
            )
        elif extra:
            rest = f"only {granted}" if granted else f"{grantee} nothing"
            details.append(f"{grantee} has {', '.join(extra)}, the migrations grant {rest}{where}")
        elif missing:
            details.append(f"{grantee} lacks {', '.join(missing)}, which the migrations grant")
    return details


def _relation(name: str, want: Relation, have: Relation, add: Callable[[Difference], None]) -> None:
    subject = f"{want.kind} {name}"
    if want.kind != have.kind:
        add(Difference("tables", subject, f"is a {have.kind}, the migrations make a {want.kind}"))
    if want.rls != have.rls:
        state = "enabled" if have.rls else "disabled"
        wanted = "enable" if want.rls else "do not enable"
        add(
            Difference(
                "row level security",
                subject,
                f"row level security is {state}, the migrations {wanted} it",
            )
        )
    if want.force_rls != have.force_rls:
        state = "forced" if have.force_rls else "not forced"
        wanted = "force" if want.force_rls else "do not force"
        add(
            Difference(
                "row level security",
                subject,
                f"row level security is {state}, the migrations {wanted} it",
            )
        )


def _keyed(
    section: str,
    noun: str,
    want: Mapping[tuple[str, str], _V],
    have: Mapping[tuple[str, str], _V],
    tables: set[str],
    describe: Callable[[_V], str],
    add: Callable[[Difference], None],
    changed: Callable[[_V, _V], list[str]],
) -> None:
    """Per-table objects (policies, columns, triggers...): missing, extra, or changed."""
    for key in sorted(want.keys() | have.keys()):
        table, name = key
        if table not in tables:
            continue
        subject = f"{noun} {name} on {table}" if noun != "column" else f"column {table}.{name}"
        if key not in have:
            add(Difference(section, subject, f"is missing ({describe(want[key])})"))
        elif key not in want:
            add(
                Difference(
                    section, subject, f"is not defined by the migrations ({describe(have[key])})"
                )
            )
        else:
            for detail in changed(want[key], have[key]):
                add(Difference(section, subject, detail))


def _definition(want: str, have: str) -> list[str]:
    return [] if want == have else [f"is `{have}`, the migrations define `{want}`"]


_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}


def _policy_text(policy: Policy) -> str:
    kind = "" if policy.permissive else "AS RESTRICTIVE "
    text = f"{kind}FOR {_COMMANDS.get(policy.command, policy.command)} TO {_list(policy.roles)}"
    if policy.using is not None:
        text += f" USING ({policy.using})"
    if policy.check is not None:
        text += f" WITH CHECK ({policy.check})"
    return text


def _policy(want: Policy, have: Policy) -> list[str]:
    details = []
    if (want.command, want.permissive) != (have.command, have.permissive):
        details.append(f"is `{_policy_text(have)}`, the migrations define `{_policy_text(want)}`")
        return details
    if want.roles != have.roles:
        details.append(f"applies to {_list(have.roles)}, the migrations to {_list(want.roles)}")
    if want.using != have.using:
        details.append(f"USING is `{have.using}`, the migrations have `{want.using}`")
    if want.check != have.check:
        details.append(f"WITH CHECK is `{have.check}`, the migrations have `{want.check}`")
    return details


def _column_text(column: Column) -> str:
    text = column.type + (" NOT NULL" if column.not_null else "")
    return text + (f" DEFAULT {column.default}" if column.default is not None else "")


def _column(want: Column, have: Column) -> list[str]:
    details = []
    for what, wanted, had in (
        ("type", want.type, have.type),
        ("NOT NULL", want.not_null, have.not_null),
        ("default", want.default, have.default),
        ("identity", want.identity, have.identity),
        ("generated", want.generated, have.generated),
    ):
        if wanted != had:
            details.append(f"{what} is {_value(had)}, the migrations have {_value(wanted)}")
    return details


def _value(value: object) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"`{value}`"


_TRIGGER_STATES = {
    "O": "enabled",
    "D": "disabled",
    "R": "enabled for replicas only",
    "A": "always enabled",
}


def _trigger(want: Trigger, have: Trigger) -> list[str]:
    details = []
    if want.enabled != have.enabled:
        state = _TRIGGER_STATES.get(have.enabled, have.enabled)
        wanted = _TRIGGER_STATES.get(want.enabled, want.enabled)
        details.append(f"is {state}, the migrations leave it {wanted}")
    if want.definition != have.definition:
        details.append(f"is `{have.definition}`, the migrations define `{want.definition}`")
    return details


def _function(want: Function, have: Function) -> list[str]:
    details = []
    if want.security_definer != have.security_definer:
        security = {True: "SECURITY DEFINER", False: "SECURITY INVOKER"}
        details.append(
            f"is {security[have.security_definer]}, "
            f"the migrations make it {security[want.security_definer]}"
        )
    wanted, had = _settings(want.config), _settings(have.config)
    for setting in sorted(wanted.keys() | had.keys()):
        if setting not in had:
            details.append(f"does not set {setting}, the migrations set it to {wanted[setting]}")
        elif setting not in wanted:
            details.append(f"sets {setting} to {had[setting]}, the migrations do not set it")
        elif wanted[setting] != had[setting]:
            details.append(
                f"sets {setting} to {had[setting]}, the migrations set it to {wanted[setting]}"
            )
    if want.volatility != have.volatility:
        details.append(f"is {have.volatility}, the migrations make it {want.volatility}")
    for what, wanted_value, had_value in (
        ("language", want.language, have.language),
        ("result", want.result, have.result),
        ("kind", want.kind, have.kind),
    ):
        if wanted_value != had_value:
            details.append(f"{what} is {had_value}, the migrations have {wanted_value}")
    if want.body_md5 != have.body_md5:
        details.append("its body differs from the migrations'")
    return details


def _settings(config: tuple[str, ...]) -> dict[str, str]:
    """``proconfig`` entries (``search_path=""``) as name -> value, the value shown quoted
    when empty so that ``search_path = ''`` reads as such."""
    settings = {}
    for entry in config:
        name, _, value = entry.partition("=")
        settings[name] = value if value not in ("", '""') else "''"
    return settings
