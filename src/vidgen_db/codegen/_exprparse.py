"""Parse the boolean expressions PostgreSQL deparses for CHECK constraints.

Input is ``pg_get_expr(conbin, conrelid)``: fully parenthesised, constants with casts
(``'a'::text``, ``'-1'::integer``), ``IN`` as ``= ANY (ARRAY[...])`` and ``BETWEEN`` as
two comparisons. The result is a small tree of tuples; anything outside the grammar
raises :class:`ParseError` (the caller reports the constraint as untranslated).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "And",
    "ArrayOf",
    "Call",
    "ColumnRef",
    "Compare",
    "Const",
    "IsNull",
    "Node",
    "Not",
    "Or",
    "ParseError",
    "Quantified",
    "parse_expression",
]


class ParseError(ValueError):
    """The expression is outside the subset this parser understands."""


@dataclass(frozen=True)
class ColumnRef:
    name: str


@dataclass(frozen=True)
class Const:
    value: str | int | Decimal | bool | None


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class ArrayOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Quantified:
    """``left op ANY|ALL (array)``."""

    op: str
    quantifier: str
    left: Node
    array: Node


@dataclass(frozen=True)
class IsNull:
    operand: Node
    negated: bool


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


Node = ColumnRef | Const | Call | ArrayOf | Compare | Quantified | IsNull | And | Or | Not

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>E?'(?:[^']|'')*')
    | (?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<quoted>"(?:[^"]|"")*")
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<op>::|<>|!=|>=|<=|!~~\*|!~~|~~\*|~~|!~\*|!~|~\*|[-+*/%=<>~(),.\[\]])
    )""",
    re.VERBOSE,
)
_COMPARISONS = ("=", "<>", "!=", "<", "<=", ">", ">=", "~", "~*", "!~", "!~*", "~~", "!~~")
_INTEGER_TYPES = ("smallint", "integer", "bigint", "int2", "int4", "int8")
_DECIMAL_TYPES = ("numeric", "real", "double precision", "float4", "float8")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ParseError(f"unexpected text at {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else ("end", "")

    def next(self) -> tuple[str, str]:
        token = self.peek()
        self.index += 1
        return token

    def keyword(self, *words: str) -> bool:
        kind, value = self.peek()
        if kind == "word" and value.upper() in words:
            self.index += 1
            return True
        return False

    def expect(self, value: str) -> None:
        _kind, found = self.next()
        if found != value:
            raise ParseError(f"expected {value!r}, found {found!r}")

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek()[0] != "end":
            raise ParseError(f"unexpected {self.peek()[1]!r}")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.keyword("OR"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.keyword("AND"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self.keyword("NOT"):
            return Not(self.not_expr())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        if self.keyword("IS"):
            negated = self.keyword("NOT")
            if not self.keyword("NULL"):
                raise ParseError("only IS [NOT] NULL is supported")
            return IsNull(left, negated)
        kind, value = self.peek()
        if kind == "op" and value in _COMPARISONS:
            self.index += 1
            op = "<>" if value == "!=" else value
            if self.peek()[0] == "word" and self.peek()[1].upper() in ("ANY", "ALL", "SOME"):
                quantifier = "ALL" if self.next()[1].upper() == "ALL" else "ANY"
                self.expect("(")
                array = self.or_expr()
                self.expect(")")
                return Quantified(op, quantifier, left, array)
            return Compare(op, left, self.operand())
        return left

    def operand(self) -> Node:
        node = self.primary()
        while self.peek()[1] == "::":
            self.index += 1
            node = _cast(node, self.type_name())
        return node

    def type_name(self) -> str:
        words: list[str] = []
        while self.peek()[0] in ("word", "quoted") or self.peek()[1] == ".":
            words.append(self.next()[1])
        if not words:
            raise ParseError("expected a type name")
        if self.peek()[1] == "(":
            while self.next()[1] != ")":
                if self.peek()[0] == "end":
                    raise ParseError("unterminated type modifier")
        while self.peek()[1] == "[":
            self.index += 1
            self.expect("]")
            words.append("[]")
        return " ".join(words).lower()

    def primary(self) -> Node:
        kind, value = self.next()
        if value == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if value == "-":
            inner = self.operand()
            if isinstance(inner, Const) and isinstance(inner.value, int | Decimal):
                return Const(-inner.value)
            raise ParseError("unary minus on a non-constant")
        if kind == "string":
            body = value[2:-1] if value.startswith("E") else value[1:-1]
            if value.startswith("E"):
                raise ParseError("escape string constants are not supported")
            return Const(body.replace("''", "'"))
        if kind == "number":
            return Const(Decimal(value) if "." in value or "e" in value.lower() else int(value))
        if kind == "quoted":
            return ColumnRef(value[1:-1].replace('""', '"'))
        if kind == "word":
            upper = value.upper()
            if upper == "ARRAY" and self.peek()[1] == "[":
                self.index += 1
                items: list[Node] = []
                if self.peek()[1] != "]":
                    items.append(self.or_expr())
                    while self.peek()[1] == ",":
                        self.index += 1
                        items.append(self.or_expr())
                self.expect("]")
                return ArrayOf(tuple(items))
            if upper in ("TRUE", "FALSE"):
                return Const(upper == "TRUE")
            if upper == "NULL":
                return Const(None)
            if self.peek()[1] == "(":
                self.index += 1
                args: list[Node] = []
                if self.peek()[1] != ")":
                    args.append(self.or_expr())
                    while self.peek()[1] == ",":
                        self.index += 1
                        args.append(self.or_expr())
                self.expect(")")
                return Call(value.lower(), tuple(args))
            if self.peek()[1] == ".":
                raise ParseError("qualified names are not supported")
            return ColumnRef(value)
        raise ParseError(f"unexpected {value!r}")


def _cast(node: Node, type_name: str) -> Node:
    """Apply ``::type``: constants are converted, casts of columns/arrays are dropped."""
    if isinstance(node, Const) and isinstance(node.value, str):
        if type_name in _INTEGER_TYPES:
            try:
                return Const(int(node.value))
            except ValueError as exc:
                raise ParseError(f"bad integer constant {node.value!r}") from exc
        if type_name.split(" (")[0] in _DECIMAL_TYPES:
            try:
                return Const(Decimal(node.value))
            except ArithmeticError as exc:
                raise ParseError(f"bad numeric constant {node.value!r}") from exc
        if type_name in ("boolean", "bool"):
            return Const(node.value.lower() in ("t", "true", "on", "yes", "1"))
    if isinstance(node, Const) and isinstance(node.value, int) and type_name in _DECIMAL_TYPES:
        return Const(Decimal(node.value))
    return node


def parse_expression(text: str) -> Node:
    """Parse a deparsed CHECK expression; raises :class:`ParseError`."""
    return _Parser(text).parse()
