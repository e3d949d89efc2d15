"""Python names for tables, columns, enums and functions."""

from __future__ import annotations

import keyword
import re

from pydantic import BaseModel

__all__ = [
    "CLASS_NAME_OVERRIDES",
    "ENUM_NAME_OVERRIDES",
    "class_name",
    "enum_member",
    "enum_name",
    "field_name",
    "module_name",
    "pascal",
    "singular",
]

#: Tables whose row class is not simply the singular of the table's name.
CLASS_NAME_OVERRIDES: dict[str, str] = {
    # A ledger's rows are entries: CreditLedger would read as the whole ledger.
    "credit_ledger": "CreditLedgerEntry",
}

#: CHECK (col IN (...)) enums named other than by the generic rule.
ENUM_NAME_OVERRIDES: dict[tuple[str, str], str] = {
    ("credit_ledger", "type"): "LedgerEntryType",
    ("job_logs", "level"): "LogLevel",
}

#: Plurals no suffix rule gets right (last word of a table name).
_IRREGULAR: dict[str, str] = {
    "people": "person",
    "children": "child",
    "men": "man",
    "women": "woman",
    "mice": "mouse",
    "geese": "goose",
    "indices": "index",
    "matrices": "matrix",
    "vertices": "vertex",
    "analyses": "analysis",
    "crises": "crisis",
    "theses": "thesis",
    "criteria": "criterion",
    "phenomena": "phenomenon",
    "statuses": "status",
    "aliases": "alias",
    "buses": "bus",
    "series": "series",
    "species": "species",
    "news": "news",
    "data": "data",
    "media": "media",
    "metadata": "metadata",
    "movies": "movie",
    "cookies": "cookie",
}

#: Column names too generic to name an enum alone (assets.type -> AssetType).
_GENERIC_COLUMNS = frozenset({"type", "kind", "level", "status", "state", "category", "mode"})
_RESERVED_FIELDS = frozenset(dir(BaseModel))
_RESERVED_MODULES = frozenset({"enums", "rpc"})


def singular(word: str) -> str:
    """The singular of an English plural noun (best effort; see :data:`_IRREGULAR`)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for suffix, replacement in (
        ("ies", "y"),
        ("sses", "ss"),
        ("shes", "sh"),
        ("ches", "ch"),
        ("xes", "x"),
        ("zzes", "z"),
        ("ves", "f") if word.endswith(("lves", "aves")) else ("\0", ""),
    ):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def pascal(name: str) -> str:
    """``draft_prompts`` -> ``DraftPrompts``; other characters split words too."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", name) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words) or "X"
    return f"X{text}" if text[0].isdigit() else text


def class_name(table: str) -> str:
    """The row class of a table or view: singular PascalCase, or its override."""
    if table in CLASS_NAME_OVERRIDES:
        return CLASS_NAME_OVERRIDES[table]
    head, _, last = table.rpartition("_")
    return pascal(f"{head}_{singular(last)}" if head else singular(last))


def enum_name(table: str, column: str) -> str:
    """The StrEnum of a column's ``CHECK (col IN (...))`` list."""
    if (table, column) in ENUM_NAME_OVERRIDES:
        return ENUM_NAME_OVERRIDES[(table, column)]
    if column in _GENERIC_COLUMNS:
        return class_name(table) + pascal(column)
    return pascal(column)


def enum_member(value: str, taken: set[str]) -> str:
    """An UPPER_CASE member name for an enum value, unique within ``taken``."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", value).strip("_").upper() or "EMPTY"
    if name[0].isdigit():
        name = f"V_{name}"
    candidate, counter = name, 2
    while candidate in taken:
        candidate = f"{name}_{counter}"
        counter += 1
    taken.add(candidate)
    return candidate


def field_name(column: str) -> str:
    """The attribute of a column; an alias carries the real name when they differ."""
    name = re.sub(r"\W", "_", column)
    if not name or name[0].isdigit():
        name = f"f_{name}"
    if keyword.iskeyword(name) or name in _RESERVED_FIELDS or name.startswith(("model_", "_")):
        name = f"{name.lstrip('_')}_"
    return name


def module_name(table: str) -> str:
    """The module of a table's models."""
    name = re.sub(r"\W", "_", table).lower()
    if keyword.iskeyword(name) or name in _RESERVED_MODULES or name.startswith("_"):
        name = f"{name.lstrip('_')}_table"
    return name
