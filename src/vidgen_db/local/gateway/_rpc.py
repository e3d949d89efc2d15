"""Which function an ``/rpc`` request calls, the way PostgREST resolves overloads."""

from __future__ import annotations

import difflib

from ._errors import ApiError
from ._query import parse_field
from ._query_params import parse_filter
from ._schema_cache import Function, SchemaCache

__all__ = ["RAW_BODY_TYPES", "find_function", "find_raw_function", "is_rpc_argument"]


def is_rpc_argument(key: str, value: str) -> bool:
    """On ``GET /rpc``, a parameter whose value is not a filter is a function argument."""
    if key in ("select", "columns", "on_conflict", "order", "limit", "offset", "and", "or"):
        return False
    if "." in key:
        return False
    try:
        parse_filter(parse_field(key), value)
    except ApiError:
        return True
    return False


def _matches(fn: Function, keys: set[str]) -> bool:
    """Every argument names a parameter and every parameter without a default is given."""
    if not fn.params:
        return not keys
    names = {p.name for p in fn.params}
    required = {p.name for p in fn.params if not p.has_default}
    return keys <= names and required <= keys


def _ambiguous(fns: list[Function]) -> ApiError:
    return ApiError(
        300,
        "PGRST203",
        "Could not choose the best candidate function between: "
        + ", ".join(f.signature() for f in fns),
        None,
        "Try renaming the parameters or the function itself in the database so function "
        "overloading can be resolved",
    )


def find_function(
    cache: SchemaCache, schema: str, name: str, keys: set[str], is_post: bool
) -> tuple[Function, bool]:
    """The function to call and whether it takes the whole JSON body as its single argument.

    PGRST202 when nothing matches (with PostgREST's message, details and hint), PGRST203 when
    several overloads do.
    """
    candidates = cache.functions.get((schema, name), [])
    matches = [fn for fn in candidates if _matches(fn, keys)]
    if len(matches) == 1:
        return matches[0], False
    if len(matches) > 1:
        raise _ambiguous(matches)
    if is_post:
        singles = [
            fn
            for fn in candidates
            if len(fn.params) == 1
            and fn.params[0].name == ""
            and fn.params[0].type in ("json", "jsonb")
        ]
        if len(singles) == 1:
            return singles[0], True
        if singles:
            raise _ambiguous(singles)
    shown = sorted(keys)
    func = f"{schema}.{name}"
    if shown:
        plural = "s" if len(shown) > 1 else ""
        prms = f" with parameter{plural} " + ", ".join(shown)
        sig = f"{func}({', '.join(shown)})"
    else:
        prms = " without parameters"
        sig = f"{func} without parameters"
    if is_post:
        prms += " or with a single unnamed json/jsonb parameter"
    hint: str | None = None
    if candidates:
        alts = sorted({"(" + ", ".join(sorted(p.name for p in f.params)) + ")" for f in candidates})
        hint = f"Perhaps you meant to call the function {func}{alts[0]}"
    else:
        names = [n for (s, n) in cache.functions if s == schema]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        if close:
            hint = f"Perhaps you meant to call the function {schema}.{close[0]}"
    raise ApiError(
        404,
        "PGRST202",
        f"Could not find the function {sig} in the schema cache",
        f"Searched for the function {func}{prms}, but no matches were found in the schema cache.",
        hint,
    )


RAW_BODY_TYPES = {"text/plain": "text", "application/octet-stream": "bytea", "text/xml": "xml"}
"""Request media types whose body goes whole to a single unnamed parameter of this type."""


def find_raw_function(cache: SchemaCache, schema: str, name: str, param_type: str) -> Function:
    """The function with a single unnamed ``text``/``bytea``/``xml`` parameter."""
    fns = [
        fn
        for fn in cache.functions.get((schema, name), [])
        if len(fn.params) == 1 and fn.params[0].name == "" and fn.params[0].type == param_type
    ]
    if len(fns) == 1:
        return fns[0]
    if fns:
        raise _ambiguous(fns)
    func = f"{schema}.{name}"
    raise ApiError(
        404,
        "PGRST202",
        f"Could not find the function {func} in the schema cache",
        f"Searched for the function {func} with a single unnamed {param_type} parameter, "
        "but no matches were found in the schema cache.",
    )
