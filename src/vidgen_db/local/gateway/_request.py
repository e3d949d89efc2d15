"""HTTP-level parsing: Prefer, Accept, Range, bodies, and the query string as a whole."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl

from ._errors import ApiError
from ._query import NodeParams, SelectItem, StarItem, parse_columns, parse_field, parse_select
from ._query_params import parse_filter, parse_logic, parse_nonneg_int, parse_order, split_key

__all__ = [
    "Media",
    "ParsedQuery",
    "Preferences",
    "compute_range",
    "negotiate",
    "parse_body",
    "parse_preferences",
    "parse_query",
    "parse_range_header",
]


@dataclass
class Preferences:
    """The ``Prefer`` header, PostgREST's way."""

    return_: Literal["minimal", "headers-only", "representation"] | None = None
    count: Literal["exact", "planned", "estimated"] | None = None
    resolution: Literal["merge-duplicates", "ignore-duplicates"] | None = None
    missing: Literal["default", "null"] | None = None
    handling: Literal["lenient", "strict"] | None = None
    tx: Literal["commit", "rollback"] | None = None
    max_affected: int | None = None
    timezone: str | None = None
    invalid: list[str] = field(default_factory=list)


_PREF_VALUES: dict[str, tuple[str, ...]] = {
    "return": ("minimal", "headers-only", "representation"),
    "count": ("exact", "planned", "estimated"),
    "resolution": ("merge-duplicates", "ignore-duplicates"),
    "missing": ("default", "null"),
    "handling": ("lenient", "strict"),
    "tx": ("commit", "rollback"),
}


def parse_preferences(values: list[str]) -> Preferences:
    """Every ``Prefer`` header value, comma-separated preferences in each."""
    prefs = Preferences()
    for raw in ",".join(values).split(","):
        token = raw.strip()
        if not token:
            continue
        key, _, value = token.partition("=")
        key, value = key.strip(), value.strip()
        if key in _PREF_VALUES and value in _PREF_VALUES[key]:
            attr = "return_" if key == "return" else key
            if getattr(prefs, attr) is None:  # the first occurrence wins
                setattr(prefs, attr, value)
        elif key == "max-affected" and value.isdigit():
            if prefs.max_affected is None:
                prefs.max_affected = int(value)
        elif key == "timezone" and value:
            if prefs.timezone is None:
                prefs.timezone = value
        else:
            prefs.invalid.append(token)
    if prefs.handling == "strict" and prefs.invalid:
        raise ApiError(
            400,
            "PGRST122",
            "Invalid preferences given with handling=strict",
            "Invalid preferences: " + ", ".join(prefs.invalid),
        )
    return prefs


@dataclass(frozen=True)
class Media:
    """The negotiated response format."""

    kind: Literal["json", "object", "csv", "plan"]
    content_type: str
    strip_nulls: bool = False
    plan_format: Literal["json", "text"] = "text"
    plan_options: tuple[str, ...] = ()


def _media_params(parts: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in parts:
        k, _, v = p.strip().partition("=")
        out[k.strip().lower()] = v.strip().strip('"')
    return out


def _quality(entry: str) -> float:
    """The ``q`` parameter of an Accept entry (1 when absent or invalid)."""
    q = _media_params(entry.split(";")[1:]).get("q")
    try:
        return float(q) if q is not None else 1.0
    except ValueError:
        return 1.0


def negotiate(accept: str | None, plan_enabled: bool, *, allow_csv: bool = True) -> Media:
    """Pick the response media type from ``Accept`` (406 PGRST107 when none is available)."""
    if not accept or not accept.strip():
        return Media("json", "application/json; charset=utf-8")
    offered = [a.strip() for a in accept.split(",") if a.strip()]
    for entry in sorted(offered, key=_quality, reverse=True):  # stable: ties keep their order
        parts = entry.split(";")
        mtype = parts[0].strip().lower()
        params = _media_params(parts[1:])
        stripped = params.get("nulls") == "stripped"
        if mtype in ("*/*", "application/*", "application/json"):
            return Media("json", "application/json; charset=utf-8")
        if mtype == "application/vnd.pgrst.array+json":
            suffix = ";nulls=stripped" if stripped else ""
            return Media(
                "json", f"application/vnd.pgrst.array+json{suffix}; charset=utf-8", stripped
            )
        if mtype in ("application/vnd.pgrst.object+json", "application/vnd.pgrst.object"):
            suffix = ";nulls=stripped" if stripped else ""
            return Media(
                "object", f"application/vnd.pgrst.object+json{suffix}; charset=utf-8", stripped
            )
        if mtype == "text/csv" and allow_csv:
            return Media("csv", "text/csv; charset=utf-8")
        if plan_enabled and mtype in (
            "application/vnd.pgrst.plan",
            "application/vnd.pgrst.plan+text",
            "application/vnd.pgrst.plan+json",
        ):
            fmt: Literal["json", "text"] = "json" if mtype.endswith("+json") else "text"
            options = tuple(o for o in params.get("options", "").split("|") if o)
            target = params.get("for", "application/json")
            return Media(
                "plan",
                f'application/vnd.pgrst.plan+{fmt}; for="{target}"; charset=utf-8',
                plan_format=fmt,
                plan_options=options,
            )
    raise ApiError(
        406, "PGRST107", "None of these media types are available: " + ", ".join(offered)
    )


@dataclass
class ParsedQuery:
    """The query string split into select, columns, on_conflict and per-node parameters."""

    select: list[SelectItem]
    columns: list[str] | None
    on_conflict: list[str] | None
    by_path: dict[tuple[str, ...], NodeParams]


def parse_query(items: list[tuple[str, str]]) -> ParsedQuery:
    """Parse every query parameter (``apikey`` and RPC arguments already removed)."""
    select: list[SelectItem] = [StarItem()]
    columns: list[str] | None = None
    on_conflict: list[str] | None = None
    by_path: dict[tuple[str, ...], NodeParams] = {}
    for key, value in items:
        if key == "select":
            select = parse_select(value)
            continue
        if key == "columns":
            columns = parse_columns(value)
            continue
        if key == "on_conflict":
            on_conflict = parse_columns(value)
            continue
        path, last = split_key(key)
        node = by_path.setdefault(path, NodeParams())
        if last == "order":
            node.order = parse_order(value)
        elif last == "limit":
            node.limit = parse_nonneg_int("limit", value)
        elif last == "offset":
            node.offset = parse_nonneg_int("offset", value)
        elif last in ("or", "and", "not.or", "not.and"):
            negated = last.startswith("not.")
            op: Literal["and", "or"] = "or" if last.endswith("or") else "and"
            node.conditions.append(parse_logic(op, negated, value))
        else:
            node.conditions.append(parse_filter(parse_field(last), value))
    return ParsedQuery(select, columns, on_conflict, by_path)


def parse_range_header(value: str | None) -> tuple[int, int | None] | None:
    """``Range: 0-9`` (or ``items=0-9``); None when absent or unparsable, like PostgREST."""
    if not value:
        return None
    text = value.strip()
    if text.startswith("items="):
        text = text[len("items=") :]
    low, sep, high = text.partition("-")
    if not sep or not low.isdigit() or (high and not high.isdigit()):
        return None
    lower = int(low)
    upper = int(high) if high else None
    if upper is not None and lower > upper:
        raise ApiError(
            416,
            "PGRST103",
            "Requested range not satisfiable",
            "The lower boundary must be lower than or equal to the upper boundary in the Range "
            "header.",
        )
    return lower, upper


def compute_range(
    header: tuple[int, int | None] | None,
    limit: int | None,
    offset: int | None,
    max_rows: int | None,
) -> tuple[int, int | None]:
    """Intersect limit/offset with the Range header and max-rows: (offset, limit)."""
    lower = offset or 0
    upper = None if limit is None else lower + limit - 1
    if header is not None:
        h_low, h_up = header
        lower = max(lower, h_low)
        if h_up is not None:
            upper = h_up if upper is None else min(upper, h_up)
    if max_rows is not None:
        cap = lower + max_rows - 1
        upper = cap if upper is None else min(upper, cap)
    return lower, None if upper is None else max(upper - lower + 1, 0)


def _csv_rows(raw: bytes) -> list[dict[str, str | None]]:
    """A CSV payload (header line first) as JSON objects; unquoted ``NULL`` is null."""
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8", errors="replace"), newline="")))
    if not lines:
        raise ApiError(400, "PGRST102", "Empty or invalid json")
    header, body = lines[0], [line for line in lines[1:] if line]
    if any(len(line) != len(header) for line in body):
        raise ApiError(400, "PGRST102", "All lines must have same number of fields")
    return [
        {k: (None if v == "NULL" else v) for k, v in zip(header, line, strict=True)}
        for line in body
    ]


def parse_body(raw: bytes, content_type: str | None) -> tuple[str, Any]:
    """The payload as JSON text (passed to PostgreSQL verbatim) and its parsed value."""
    ctype = (content_type or "application/json").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        obj = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        return json.dumps(obj), obj
    if ctype == "text/csv":
        rows = _csv_rows(raw)
        return json.dumps(rows), rows
    if ctype not in ("application/json", "application/vnd.pgrst.object+json", "*/*", ""):
        raise ApiError(400, "PGRST102", f"Content-Type not acceptable: {ctype}")
    text = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(text, parse_float=Decimal) if text.strip() else None
    except ValueError:
        value = None
    if value is None:
        raise ApiError(400, "PGRST102", "Empty or invalid json")
    return text, value
