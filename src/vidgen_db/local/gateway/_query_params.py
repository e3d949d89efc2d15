"""Parsing PostgREST's query language, part two: filters, logic trees, order, limits."""

from __future__ import annotations

import re
from typing import Literal

from ._errors import ApiError, query_param_error
from ._query import Condition, Field, Filter, LogicTree, OrderTerm, Scanner, parse_field

__all__ = [
    "FTS_OPERATORS",
    "OPERATORS",
    "parse_filter",
    "parse_logic",
    "parse_nonneg_int",
    "parse_order",
    "split_key",
    "split_top",
]

QUANTIFIABLE = frozenset(
    ["eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch"]
)
FTS_OPERATORS = frozenset({"fts", "plfts", "phfts", "wfts"})
OPERATORS = (
    QUANTIFIABLE
    | FTS_OPERATORS
    | frozenset({"is", "isdistinct", "in", "cs", "cd", "ov", "sl", "sr", "nxl", "nxr", "adj"})
)


def split_top(text: str, sc: Scanner) -> list[str]:
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


def _parse_list(text: str, sc: Scanner) -> tuple[str, ...]:
    if not (text.startswith("(") and text.endswith(")")):
        raise sc.error('"(" and ")" around the list')
    inner = text[1:-1]
    if inner == "":
        return ()
    return tuple(_unquote(v) for v in split_top(inner, sc))


_OP_RE = re.compile(r"^(not\.)?([a-z]+)(?:\(([^)]*)\))?\.(.*)$", re.DOTALL)


def parse_filter(fld: Field, value: str, *, in_logic: bool = False, what: str = "filter") -> Filter:
    """A filter value such as ``not.in.(1,2)``, ``eq(any).{a,b}`` or ``fts(english).cat``."""
    sc = Scanner(value, what)
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
    sc = Scanner(value, "logic tree")
    if not (value.startswith("(") and value.endswith(")")):
        raise sc.error('"("')
    children: list[Condition] = []
    for part in split_top(value[1:-1], sc):
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
    sc = Scanner(text, "order")
    terms: list[OrderTerm] = []
    for raw in split_top(text, sc):
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
