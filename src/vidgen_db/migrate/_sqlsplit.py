"""Split a SQL script into statements, the way psql and the Supabase CLI do.

Semicolons inside quotes, quoted identifiers, dollar-quoted bodies and comments do not end
a statement. The text of each statement is kept as written (comments included).
"""

from __future__ import annotations

import re

__all__ = ["normalize_statements", "split_statements"]

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)?\$")


def split_statements(script: str) -> list[str]:
    """The statements of ``script``, stripped, without their terminating semicolons."""
    statements: list[str] = []
    start = 0
    i = 0
    n = len(script)
    while i < n:
        ch = script[i]
        nxt = script[i + 1] if i + 1 < n else ""
        if ch == "-" and nxt == "-":
            end = script.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "/" and nxt == "*":
            i = _skip_block_comment(script, i)
        elif ch == "'":
            i = _skip_quoted(script, i, "'", backslash=_is_escape_string(script, i))
        elif ch == '"':
            i = _skip_quoted(script, i, '"', backslash=False)
        elif ch == "$" and not _is_ident_char(script, i - 1):
            match = _DOLLAR_TAG.match(script, i)
            if match:
                tag = match.group(0)
                end = script.find(tag, match.end())
                if end < 0:
                    raise ValueError(f"unterminated dollar-quoted string starting {tag}")
                i = end + len(tag)
            else:
                i += 1
        elif ch == ";":
            _append(statements, script[start:i])
            i += 1
            start = i
        else:
            i += 1
    _append(statements, script[start:])
    return statements


def normalize_statements(statements: list[str]) -> str:
    """One comparable form of a list of statements: comments dropped, whitespace folded.

    Two migrations with the same normalized form do the same thing; it is what decides
    whether an applied migration file was edited.
    """
    parts: list[str] = []
    for statement in statements:
        parts.append(_strip_comments(statement, fold=True).strip())
    return ";".join(p for p in parts if p)


def _append(statements: list[str], text: str) -> None:
    text = text.strip()
    if _strip_comments(text).strip():
        statements.append(text)


def _is_ident_char(script: str, index: int) -> bool:
    return index >= 0 and (script[index].isalnum() or script[index] in "_$")


def _is_escape_string(script: str, quote_index: int) -> bool:
    """Whether the quote at ``quote_index`` opens an E'...' string (backslash escapes)."""
    i = quote_index
    return i > 0 and script[i - 1] in "eE" and not _is_ident_char(script, i - 2)


def _skip_block_comment(script: str, i: int) -> int:
    depth = 0
    n = len(script)
    while i < n:
        if script.startswith("/*", i):
            depth += 1
            i += 2
        elif script.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise ValueError("unterminated /* comment")


def _skip_quoted(script: str, i: int, quote: str, *, backslash: bool) -> int:
    n = len(script)
    i += 1
    while i < n:
        ch = script[i]
        if backslash and ch == "\\":
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and script[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    kind = "identifier" if quote == '"' else "string"
    raise ValueError(f"unterminated quoted {kind}")


def _strip_comments(text: str, *, fold: bool = False) -> str:
    """``text`` without comments; with ``fold``, whitespace outside literals folded to one space."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch == "-" and nxt == "-":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif ch == "/" and nxt == "*":
            i = _skip_block_comment(text, i)
            out.append(" ")
        elif fold and ch.isspace():
            if out and not out[-1].endswith(" "):
                out.append(" ")
            i += 1
        elif ch in "'\"":
            j = _skip_quoted(text, i, ch, backslash=ch == "'" and _is_escape_string(text, i))
            out.append(text[i:j])
            i = j
        elif ch == "$" and not _is_ident_char(text, i - 1):
            match = _DOLLAR_TAG.match(text, i)
            if match:
                end = text.find(match.group(0), match.end())
                j = n if end < 0 else end + len(match.group(0))
                out.append(text[i:j])
                i = j
            else:
                out.append(ch)
                i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)
