"""Translate CHECK constraints into per-column rules the models can enforce.

Each top-level ``AND`` term of a constraint is translated on its own; a term outside
the supported forms is returned as :class:`Untranslated` so the generator can report
it. Supported, for one column ``c`` (casts are ignored):

* ``c = 'x'``, ``c = ANY (ARRAY[...])`` (``IN``) -> allowed values
* ``c <> v``, ``c <> ALL (ARRAY[...])`` (``NOT IN``) -> refused values
* ``c >= n`` and the other comparisons with a number (``BETWEEN``) -> a range
* ``char_length(c)`` / ``length(c)`` compared with a number -> length bounds
* ``jsonb_typeof(c) = 'object'`` (or json_typeof) -> the JSON kind
* ``octet_length(c)`` (``octet_length(c::text)``) at most a number -> a byte bound: on a
  JSON column, the bytes of the value's JSON text as PostgreSQL writes it
* ``c IS NOT NULL`` -> required; ``c IS NULL OR <term>`` -> the term (NULL passes anyway)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ._catalog import Check
from ._exprparse import (
    And,
    ArrayOf,
    Call,
    ColumnRef,
    Compare,
    Const,
    IsNull,
    Node,
    Or,
    ParseError,
    Quantified,
    parse_expression,
)

__all__ = ["ColumnRule", "Number", "Untranslated", "translate_checks"]

Number = int | Decimal
_LENGTH_FUNCTIONS = ("char_length", "character_length", "length")
_JSON_TYPEOF = ("jsonb_typeof", "json_typeof")
_BYTE_FUNCTIONS = ("octet_length",)
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}


@dataclass
class ColumnRule:
    """What the CHECK constraints require of one column's value."""

    values: tuple[str | Number, ...] | None = None
    refused: tuple[str | Number, ...] = ()
    ge: Number | None = None
    gt: Number | None = None
    le: Number | None = None
    lt: Number | None = None
    min_length: int | None = None
    max_length: int | None = None
    json_kind: str | None = None
    not_null: bool = False
    max_bytes: int | None = None
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly description (for the schema manifest)."""
        out: dict[str, object] = {}
        if self.values is not None:
            out["values"] = [_plain(v) for v in self.values]
        if self.refused:
            out["refused"] = [_plain(v) for v in self.refused]
        for key in ("ge", "gt", "le", "lt", "min_length", "max_length", "json_kind"):
            value = getattr(self, key)
            if value is not None:
                out[key] = _plain(value)
        if self.not_null:
            out["not_null"] = True
        if self.max_bytes is not None:
            out["max_bytes"] = self.max_bytes
        return out


@dataclass(frozen=True)
class Untranslated:
    constraint: str
    expression: str
    reason: str


def _plain(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True)
class _Term:
    column: str
    kind: str
    value: object


def translate_checks(
    checks: tuple[Check, ...],
) -> tuple[dict[str, ColumnRule], list[Untranslated]]:
    """Rules per column name, and the parts of constraints that could not be translated."""
    rules: dict[str, ColumnRule] = {}
    untranslated: list[Untranslated] = []
    for check in checks:
        try:
            tree = parse_expression(check.expression)
        except ParseError as exc:
            untranslated.append(Untranslated(check.name, check.expression, str(exc)))
            continue
        conjuncts = tree.items if isinstance(tree, And) else (tree,)
        for conjunct in conjuncts:
            terms = _terms(conjunct)
            if terms is None:
                untranslated.append(
                    Untranslated(check.name, check.expression, "unsupported expression")
                )
                continue
            for term in terms:
                column = term.column
                if check.value_column is not None:
                    if column != "VALUE":
                        continue
                    column = check.value_column
                rule = rules.setdefault(column, ColumnRule())
                _apply(rule, term)
                if check.name not in rule.sources:
                    rule.sources.append(check.name)
    return rules, untranslated


def _column(node: Node) -> str | None:
    return node.name if isinstance(node, ColumnRef) else None


def _number(node: Node) -> Number | None:
    if isinstance(node, Const) and isinstance(node.value, int | Decimal):
        if isinstance(node.value, bool):
            return None
        return node.value
    return None


def _terms(node: Node) -> list[_Term] | None:
    if isinstance(node, And):
        collected: list[_Term] = []
        for item in node.items:
            terms = _terms(item)
            if terms is None:
                return None
            collected.extend(terms)
        return collected
    if isinstance(node, Or):
        return _or_terms(node)
    if isinstance(node, IsNull):
        column = _column(node.operand)
        if column is not None and node.negated:
            return [_Term(column, "not_null", True)]
        return None
    if isinstance(node, Quantified):
        return _quantified(node)
    if isinstance(node, Compare):
        return _compare(node)
    return None


def _or_terms(node: Or) -> list[_Term] | None:
    """``c IS NULL OR t`` -> t; ``c = a OR c = b`` -> values (a, b)."""
    nullable = {
        item.operand.name
        for item in node.items
        if isinstance(item, IsNull) and not item.negated and isinstance(item.operand, ColumnRef)
    }
    rest = [item for item in node.items if not isinstance(item, IsNull) or item.negated]
    branches = [_terms(item) for item in rest]
    if any(b is None for b in branches) or not branches:
        return None
    flat = [b for b in branches if b is not None]
    if len(flat) == 1:
        terms = flat[0]
        if all(t.column in nullable for t in terms) and all(t.kind != "not_null" for t in terms):
            return terms
        return None
    # A disjunction of single-value memberships on one column.
    values: list[object] = []
    columns = set()
    for terms in flat:
        if len(terms) != 1 or terms[0].kind != "values":
            return None
        columns.add(terms[0].column)
        found = terms[0].value
        assert isinstance(found, tuple)
        values.extend(found)
    if len(columns) != 1:
        return None
    return [_Term(columns.pop(), "values", tuple(values))]


def _quantified(node: Quantified) -> list[_Term] | None:
    column = _column(node.left)
    if column is None or not isinstance(node.array, ArrayOf):
        return None
    items: list[object] = []
    for item in node.array.items:
        if not isinstance(item, Const) or item.value is None or isinstance(item.value, bool):
            return None
        items.append(item.value)
    if node.op == "=" and node.quantifier == "ANY":
        return [_Term(column, "values", tuple(items))]
    if node.op == "<>" and node.quantifier == "ALL":
        return [_Term(column, "refused", tuple(items))]
    return None


def _compare(node: Compare) -> list[_Term] | None:
    op, left, right = node.op, node.left, node.right
    if op not in _FLIP:
        return None
    if isinstance(left, Const) and not isinstance(right, Const):
        op, left, right = _FLIP[op], right, left
    if not isinstance(right, Const) or right.value is None or isinstance(right.value, bool):
        return None
    if isinstance(left, Call) and len(left.args) == 1 and _column(left.args[0]):
        column = _column(left.args[0])
        assert column is not None
        number = _number(right)
        lengths = (">=", ">", "<=", "<", "=")
        if left.name in _LENGTH_FUNCTIONS and isinstance(number, int) and op in lengths:
            return [_Term(column, "length" + op, number)]
        if left.name in _BYTE_FUNCTIONS and isinstance(number, int) and op in ("<=", "<"):
            return [_Term(column, "bytes" + op, number)]
        if left.name in _JSON_TYPEOF and op == "=" and isinstance(right.value, str):
            return [_Term(column, "json_kind", right.value)]
        return None
    column = _column(left)
    if column is None:
        return None
    if op == "=":
        return [_Term(column, "values", (right.value,))]
    if op == "<>":
        return [_Term(column, "refused", (right.value,))]
    number = _number(right)
    if number is None:
        return None
    return [_Term(column, op, number)]


def _apply(rule: ColumnRule, term: _Term) -> None:
    value = term.value
    if term.kind == "values":
        assert isinstance(value, tuple)
        if rule.values is None:
            rule.values = value
        else:
            rule.values = tuple(v for v in rule.values if v in value)
    elif term.kind == "refused":
        assert isinstance(value, tuple)
        rule.refused = rule.refused + tuple(v for v in value if v not in rule.refused)
    elif term.kind == "not_null":
        rule.not_null = True
    elif term.kind == "json_kind":
        assert isinstance(value, str)
        rule.json_kind = value
    elif term.kind.startswith("bytes"):
        assert isinstance(value, int)
        high = value if term.kind == "bytes<=" else value - 1
        rule.max_bytes = high if rule.max_bytes is None else min(rule.max_bytes, high)
    elif term.kind.startswith("length"):
        assert isinstance(value, int)
        _apply_length(rule, term.kind[len("length") :], value)
    else:
        assert isinstance(value, int | Decimal)
        _apply_bound(rule, term.kind, value)


def _apply_length(rule: ColumnRule, op: str, n: int) -> None:
    low = {">=": n, ">": n + 1, "=": n}.get(op)
    high = {"<=": n, "<": n - 1, "=": n}.get(op)
    if low is not None:
        rule.min_length = low if rule.min_length is None else max(rule.min_length, low)
    if high is not None:
        rule.max_length = high if rule.max_length is None else min(rule.max_length, high)


def _apply_bound(rule: ColumnRule, op: str, n: Number) -> None:
    if op == ">=":
        rule.ge = n if rule.ge is None else max(rule.ge, n)
    elif op == ">":
        rule.gt = n if rule.gt is None else max(rule.gt, n)
    elif op == "<=":
        rule.le = n if rule.le is None else min(rule.le, n)
    elif op == "<":
        rule.lt = n if rule.lt is None else min(rule.lt, n)
