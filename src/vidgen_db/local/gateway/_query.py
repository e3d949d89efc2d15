"""Parsing PostgREST's query language: select, filters, logic trees, order, limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from ._errors import ApiError, query_param_error

__all__ = [
    "AggregateItem",
    "ColumnItem",
    "Condition",
    "EmbedItem",
    "Field",
    "Filter",
    "JsonOp",
    "LogicTree",
    "NodeParams",
    "OrderTerm",
    "SelectItem",
    "StarItem",
    "has_aggregates",
    "parse_columns",
    "parse_field",
    "parse_filter",
    "parse_logic",
    "parse_order",
    "parse_select",
    "split_key",
]

OPERATORS = frozenset(
    [
        "eq",
        "neq",
        "gt",
        "gte",
        "lt",
        "lte",
        "like",
        "ilike",
        "match",
        "imatch",
        "is",
        "isdistinct",
        "in",
        "cs",
        "cd",
        "ov",
        "sl",
        "sr",
        "nxl",
        "nxr",
        "adj",
        "fts",
        "plfts",
        "phfts",
        "wfts",
    ]
)
QUANTIFIABLE = frozenset(
    ["eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch"]
)
FTS_OPERATORS = frozenset({"fts", "plfts", "phfts", "wfts"})
AGGREGATES = frozenset({"count", "sum", "avg", "max", "min"})
_CAST_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]*(\[\])*$")


@dataclass(frozen=True)
class JsonOp:
    """One ``->`` or ``->>`` step of a JSON path."""

    arrow: str
    key: str


@dataclass(frozen=True)
class Field:
    """A column, possibly followed by a JSON path."""

    name: str
    json_path: tuple[JsonOp, ...] = ()

    def output_name(self) -> str:
        return self.json_path[-1].key if self.json_path else self.name


@dataclass
class StarItem:
    """``*``: every column."""


@dataclass
class ColumnItem:
    """``alias:column->path::cast``."""

    field: Field
    alias: str | None = None
    cast: str | None = None

    def output_name(self) -> str:
        return self.alias or self.field.output_name()


@dataclass
class EmbedItem:
    """``alias:target!hint!inner(...)`` or the spread ``...target(...)``."""

    target: str
    alias: str | None
    hint: str | None
    join: Literal["inner", "left"] | None
    spread: bool
    items: list[SelectItem]

    def output_name(self) -> str:
        return self.alias or self.target


@dataclass
class AggregateItem:
    """``count()``, ``alias:col::cast.sum()::cast`` (only with aggregates enabled)."""

    func: str
    field: Field | None
    alias: str | None = None
    cast_in: str | None = None
    cast_out: str | None = None

    def output_name(self) -> str:
        return self.alias or self.func


SelectItem = StarItem | ColumnItem | EmbedItem | AggregateItem


def has_aggregates(items: list[SelectItem]) -> bool:
    """Whether a select list, embeds included, uses aggregate functions."""
    return any(
        isinstance(i, AggregateItem) or (isinstance(i, EmbedItem) and has_aggregates(i.items))
        for i in items
    )


@dataclass
class Filter:
    """``column=[not.]op[(modifier)].value``."""

    field: Field
    op: str
    value: str | tuple[str, ...]
    negated: bool = False
    modifier: Literal["any", "all"] | None = None
    fts_config: str | None = None


@dataclass
class LogicTree:
    """``or=(...)`` / ``and=(...)``, possibly negated and nested."""

    op: Literal["and", "or"]
    negated: bool
    children: list[Condition]


Condition = Filter | LogicTree


@dataclass
class OrderTerm:
    """One ``order`` term; ``relation`` is set for a related order ``other(col)``."""

    field: Field
    relation: str | None = None
    desc: bool = False
    nulls: Literal["first", "last"] | None = None


@dataclass
class NodeParams:
    """The query parameters that apply to one node (the root or an embedded resource)."""

    conditions: list[Condition] = field(default_factory=list)
    order: list[OrderTerm] | None = None
    limit: int | None = None
    offset: int | None = None


class _Scanner:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.pos = 0
        self.what = what

    def error(self, expecting: str) -> ApiError:
        at_end = self.pos >= len(self.text)
        found = "end of input" if at_end else repr(self.text[self.pos])
        return query_param_error(
            f'"failed to parse {self.what} ({self.text})" (line 1, column {self.pos + 1})',
            f"unexpected {found} expecting {expecting}",
        )

    def peek(self, s: str) -> bool:
        return self.text.startswith(s, self.pos)

    def eat(self, s: str) -> bool:
        if self.peek(s):
            self.pos += len(s)
            return True
        return False

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_ws(self) -> None:
        while not self.at_end() and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def name(self, stops: str, allow_dash: bool = True) -> str:
        """An identifier: double-quoted or a run of characters up to a delimiter."""
        self.skip_ws()
        if self.eat('"'):
            out = []
            while not self.at_end():
                ch = self.text[self.pos]
                if ch == "\\" and self.pos + 1 < len(self.text):
                    out.append(self.text[self.pos + 1])
                    self.pos += 2
                    continue
                if ch == '"':
                    self.pos += 1
                    self.skip_ws()
                    return "".join(out)
                out.append(ch)
                self.pos += 1
            raise self.error('"\\"" to close the quoted name')
        start = self.pos
        while not self.at_end():
            ch = self.text[self.pos]
            if ch in stops or self.peek("->") or self.peek("::"):
                break
            self.pos += 1
        value = self.text[start : self.pos].strip()
        if not value:
            raise self.error("a name")
        return value

    def json_path(self, stops: str) -> tuple[JsonOp, ...]:
        ops: list[JsonOp] = []
        while True:
            if self.eat("->>"):
                ops.append(JsonOp("->>", self.name(stops)))
            elif self.eat("->"):
                ops.append(JsonOp("->", self.name(stops)))
            else:
                return tuple(ops)


def parse_field(text: str, what: str = "filter") -> Field:
    """A column reference ``col`` or ``col->a->>b``."""
    sc = _Scanner(text, what)
    name = sc.name("")
    path = sc.json_path("")
    if not sc.at_end():
        raise sc.error("end of input")
    return Field(name, path)


_SELECT_STOPS = ',():!".'


def _parse_items(sc: _Scanner, nested: bool) -> list[SelectItem]:
    items: list[SelectItem] = []
    while True:
        sc.skip_ws()
        if nested and sc.peek(")"):
            if items:
                raise sc.error("a field")
            return items
        items.append(_parse_item(sc))
        sc.skip_ws()
        if sc.eat(","):
            continue
        if nested:
            if sc.peek(")"):
                return items
            raise sc.error('"," or ")"')
        if sc.at_end():
            return items
        raise sc.error('"," or end of input')


def _parse_item(sc: _Scanner) -> SelectItem:
    if sc.eat("*"):
        return StarItem()
    spread = sc.eat("...")
    first = sc.name(_SELECT_STOPS)
    alias: str | None = None
    if sc.peek(":") and not sc.peek("::"):
        sc.eat(":")
        alias = first
        first = sc.name(_SELECT_STOPS)
    if sc.peek("!") or sc.peek("("):
        hint: str | None = None
        join: Literal["inner", "left"] | None = None
        while sc.eat("!"):
            word = sc.name(_SELECT_STOPS)
            if word == "inner":
                join = "inner"
            elif word == "left":
                join = "left"
            elif hint is None:
                hint = word
            else:
                raise sc.error('"(" after the embed hint')
        if not sc.eat("("):
            raise sc.error('"("')
        if first == "count" and sc.peek(")") and hint is None and join is None and not spread:
            sc.eat(")")
            return AggregateItem("count", None, alias, None, _parse_cast(sc))
        items = _parse_items(sc, nested=True)
        if not sc.eat(")"):
            raise sc.error('")"')
        return EmbedItem(first, alias, hint, join, spread, items)
    if spread:
        raise sc.error('"(" after the spread resource')
    path = sc.json_path(_SELECT_STOPS)
    cast = _parse_cast(sc)
    if sc.eat("."):
        func = sc.name(_SELECT_STOPS) if not sc.at_end() else ""
        if func not in AGGREGATES or not sc.eat("()"):
            raise sc.error("an aggregate function such as sum()")
        return AggregateItem(func, Field(first, path), alias, cast, _parse_cast(sc))
    return ColumnItem(Field(first, path), alias, cast)


def _parse_cast(sc: _Scanner) -> str | None:
    if not sc.eat("::"):
        return None
    cast = sc.name(_SELECT_STOPS)
    if not _CAST_RE.match(cast):
        raise sc.error("a type name")
    return cast


def parse_select(text: str) -> list[SelectItem]:
    """The ``select`` parameter."""
    sc = _Scanner(text, "select parameter")
    if not text.strip():
        return []
    return _parse_items(sc, nested=False)


def parse_columns(text: str) -> list[str]:
    """The ``columns`` (and ``on_conflict``) parameter: a comma-separated list of names."""
    sc = _Scanner(text, "columns parameter")
    out: list[str] = []
    while True:
        out.append(sc.name(',"'))
        if sc.at_end():
            return out
        if not sc.eat(","):
            raise sc.error('","')


def _split_top(text: str, sc: _Scanner) -> list[str]:
    """Split on commas outside parentheses, braces and double quotes."""
    parts: list[str] = []
    depth = 0
    braces = 0
    quoted = False
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                sc.pos = i
                raise sc.error("balanced parentheses")
        elif ch == "{":
            braces += 1
        elif ch == "}":
            braces = max(braces - 1, 0)
        elif ch == "," and depth == 0 and braces == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quoted or depth:
        sc.pos = len(sc.text)
        raise sc.error("balanced quotes and parentheses")
    parts.append(text[start:])
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _parse_list(text: str, sc: _Scanner) -> tuple[str, ...]:
    if not (text.startswith("(") and text.endswith(")")):
        raise sc.error('"(" and ")" around the list')
    inner = text[1:-1]
    if inner == "":
        return ()
    return tuple(_unquote(v) for v in _split_top(inner, sc))


_OP_RE = re.compile(r"^(not\.)?([a-z]+)(?:\(([^)]*)\))?\.(.*)$", re.DOTALL)


def parse_filter(fld: Field, value: str, *, in_logic: bool = False, what: str = "filter") -> Filter:
    """A filter value such as ``not.in.(1,2)``, ``eq(any).{a,b}`` or ``fts(english).cat``."""
    sc = _Scanner(value, what)
    m = _OP_RE.match(value)
    if m is None or m.group(2) not in OPERATORS:
        if m is None and value.startswith("not.") is False and "." not in value:
            raise sc.error("an operator such as eq., in. or is.")
        raise query_param_error(
            f'"failed to parse {what} ({value})" (line 1, column 1)',
            "unexpected operator, expecting one of: " + ", ".join(sorted(OPERATORS)),
        )
    negated = m.group(1) is not None
    op = m.group(2)
    paren = m.group(3)
    rest = m.group(4)
    modifier: Literal["any", "all"] | None = None
    config: str | None = None
    if paren is not None:
        if op in FTS_OPERATORS:
            config = paren
        elif op in QUANTIFIABLE and paren in ("any", "all"):
            modifier = "any" if paren == "any" else "all"
        else:
            raise sc.error("(any) or (all)")
    if in_logic:
        rest = _unquote(rest) if op != "in" else rest
    if op == "in":
        return Filter(fld, op, _parse_list(rest, sc), negated)
    if op == "is":
        if rest.lower() not in ("null", "not_null", "true", "false", "unknown"):
            sc.pos = len(value) - len(rest)
            raise sc.error("null or trilean value (unknown, true, false)")
        rest = rest.lower()
    return Filter(fld, op, rest, negated, modifier, config)


def parse_logic(op: Literal["and", "or"], negated: bool, value: str) -> LogicTree:
    """The value of ``or=``/``and=``: ``(a.eq.1,and(b.gt.2,c.is.null))``."""
    sc = _Scanner(value, "logic tree")
    if not (value.startswith("(") and value.endswith(")")):
        raise sc.error('"("')
    children: list[Condition] = []
    for part in _split_top(value[1:-1], sc):
        part = part.strip()
        m = re.match(r"^(not\.)?(and|or)(\(.*\))$", part, re.DOTALL)
        if m:
            sub_op: Literal["and", "or"] = "and" if m.group(2) == "and" else "or"
            children.append(parse_logic(sub_op, m.group(1) is not None, m.group(3)))
            continue
        key, dot, rest = _split_logic_field(part)
        if not dot:
            raise query_param_error(
                f'"failed to parse logic tree ({value})" (line 1, column 1)',
                f"unexpected {part!r} expecting a filter such as column.eq.value",
            )
        children.append(
            parse_filter(parse_field(key, "logic tree"), rest, in_logic=True, what="logic tree")
        )
    return LogicTree(op, negated, children)


def _split_logic_field(part: str) -> tuple[str, bool, str]:
    """``data->>a.eq.x`` -> (``data->>a``, True, ``eq.x``)."""
    if part.startswith('"'):
        end = part.find('"', 1)
        if end < 0 or end + 1 >= len(part) or part[end + 1] != ".":
            return part, False, ""
        return part[: end + 1], True, part[end + 2 :]
    arrow = part.rfind("->")
    search_from = part.find(".", arrow + 2 if arrow >= 0 else 0)
    if search_from < 0:
        return part, False, ""
    return part[:search_from], True, part[search_from + 1 :]


def parse_order(text: str) -> list[OrderTerm]:
    """The ``order`` parameter: ``a.desc.nullslast,b,other(c).asc``."""
    sc = _Scanner(text, "order")
    terms: list[OrderTerm] = []
    for raw in _split_top(text, sc):
        part = raw.strip()
        relation: str | None = None
        m = re.match(r"^([^().]+)\(([^()]+)\)(.*)$", part)
        if m:
            relation = m.group(1)
            column_text = m.group(2)
            mods = m.group(3)
            if mods and not mods.startswith("."):
                raise sc.error("a direction or nulls modifier")
            mods = mods[1:]
        else:
            arrow = part.rfind("->")
            dot = part.find(".", arrow + 2 if arrow >= 0 else 0)
            column_text, mods = (part, "") if dot < 0 else (part[:dot], part[dot + 1 :])
        desc = False
        nulls: Literal["first", "last"] | None = None
        words = [w for w in mods.split(".") if w] if mods else []
        for i, word in enumerate(words):
            if word in ("asc", "desc") and i == 0:
                desc = word == "desc"
            elif word in ("nullsfirst", "nullslast") and i == len(words) - 1:
                nulls = "first" if word == "nullsfirst" else "last"
            else:
                raise query_param_error(
                    f'"failed to parse order ({text})" (line 1, column 1)',
                    f'unexpected {word!r} expecting "asc", "desc", "nullsfirst" or "nullslast"',
                )
        terms.append(OrderTerm(parse_field(column_text, "order"), relation, desc, nulls))
    return terms


def parse_nonneg_int(key: str, value: str) -> int:
    """``limit``/``offset`` values."""
    try:
        number = int(value)
    except ValueError:
        raise query_param_error(
            f'"failed to parse {key} parameter ({value})" (line 1, column 1)',
            "unexpected non-digit expecting digit",
        ) from None
    if number < 0:
        if key == "limit":
            raise ApiError(
                416,
                "PGRST103",
                "Requested range not satisfiable",
                "Limit should be greater than or equal to zero.",
            )
        raise query_param_error(
            f'"failed to parse {key} parameter ({value})" (line 1, column 1)',
            "unexpected '-' expecting digit",
        )
    return number


def split_key(key: str) -> tuple[tuple[str, ...], str]:
    """``a.b.col->x`` -> (("a", "b"), "col->x"): the embed path and the last segment."""
    arrow = key.find("->")
    head, tail = (key, "") if arrow < 0 else (key[:arrow], key[arrow:])
    if head.startswith('"'):
        return (), key
    segments = head.split(".")
    if len(segments) >= 2 and segments[-2] == "not" and segments[-1] in ("or", "and") and not tail:
        return tuple(segments[:-2]), "not." + segments[-1]
    return tuple(segments[:-1]), segments[-1] + tail
