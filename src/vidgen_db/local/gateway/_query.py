"""Parsing PostgREST's query language, part one: the types, select and column lists.

Filters, logic trees, ``order`` and limits are in :mod:`._query_params`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from ._errors import ApiError, query_param_error

__all__ = [
    "AGGREGATES",
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
    "Scanner",
    "SelectItem",
    "StarItem",
    "has_aggregates",
    "parse_columns",
    "parse_field",
    "parse_select",
]

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


class Scanner:
    """A cursor over one parameter's text, raising PostgREST's PGRST100 parse errors."""

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
    sc = Scanner(text, what)
    name = sc.name("")
    path = sc.json_path("")
    if not sc.at_end():
        raise sc.error("end of input")
    return Field(name, path)


_SELECT_STOPS = ',():!".'


def _parse_items(sc: Scanner, nested: bool) -> list[SelectItem]:
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


def _parse_item(sc: Scanner) -> SelectItem:
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


def _parse_cast(sc: Scanner) -> str | None:
    if not sc.eat("::"):
        return None
    cast = sc.name(_SELECT_STOPS)
    if not _CAST_RE.match(cast):
        raise sc.error("a type name")
    return cast


def parse_select(text: str) -> list[SelectItem]:
    """The ``select`` parameter."""
    sc = Scanner(text, "select parameter")
    if not text.strip():
        return []
    return _parse_items(sc, nested=False)


def parse_columns(text: str) -> list[str]:
    """The ``columns`` (and ``on_conflict``) parameter: a comma-separated list of names."""
    sc = Scanner(text, "columns parameter")
    out: list[str] = []
    while True:
        out.append(sc.name(',"'))
        if sc.at_end():
            return out
        if not sc.eat(","):
            raise sc.error('","')
