"""Hand-written base classes and helper types of the generated models (not generated).

* :class:`RowModel`: a row as PostgREST returns it; unknown keys are ignored, so a newer
  schema with more columns does not break an older client.
* :class:`InsertModel`, :class:`UpdateModel`, :class:`RpcParams`: what is sent; unknown
  keys are refused, so a misspelt column fails loudly. :meth:`WriteModel.to_postgrest`
  gives the JSON body: only the fields that were set, uuids/datetimes as strings, enums
  as their values.
* :class:`JsonObject`: base of typed JSON sub-models (keeps keys it does not know).
* :func:`json_max_bytes`: the validator of ``CHECK (octet_length(col::text) <= n)``, a
  bound on the size of a JSON column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationInfo,
)

__all__ = [
    "DB_DEFAULT",
    "FROM_DATABASE",
    "UNCHANGED",
    "InsertModel",
    "Int2",
    "Int4",
    "Int8",
    "JsonObject",
    "JsonValue",
    "RowModel",
    "RpcFunction",
    "RpcParams",
    "UpdateModel",
    "WriteModel",
    "json_max_bytes",
    "json_text_bytes",
    "not_in",
]

#: The validation context of what the database returned: the bounds it enforces itself
#: are not checked again (a JSON column's size would cost a serialisation per row).
FROM_DATABASE: dict[str, Any] = {"vidgen_db.from_database": True}

#: Default of an Insert field (or RPC argument) whose column has a default: left unset,
#: the field is not sent and the database's default applies. It reads as None.
DB_DEFAULT: Any = None
#: Default of every Update field: left unset, the column is not sent and keeps its value.
UNCHANGED: Any = None

#: PostgreSQL's integer types: the database rejects values outside their range.
Int2 = Annotated[int, Field(ge=-32768, le=32767)]
Int4 = Annotated[int, Field(ge=-2147483648, le=2147483647)]
Int8 = Annotated[int, Field(ge=-9223372036854775808, le=9223372036854775807)]


def not_in(*values: object) -> AfterValidator:
    """A validator for ``CHECK (col <> value)`` / ``CHECK (col <> ALL (ARRAY[...]))``."""
    refused = frozenset(values)

    def check(value: Any) -> Any:
        if value in refused:
            shown = ", ".join(repr(v) for v in values)
            raise ValueError(f"must not be {shown}")
        return value

    return AfterValidator(check)


def json_text_bytes(value: Any) -> int:
    """The size in bytes (UTF-8) of ``value``'s JSON text as PostgreSQL writes a jsonb value
    (``{"a": 1, "b": [1, 2]}``): what ``octet_length(col::text)`` measures. Exact for
    strings, integers, booleans, null and the containers of them; a float may print a few
    characters apart (``1e+16``), and the database has the last word."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True)
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return len(text.encode("utf-8"))


def json_max_bytes(limit: int) -> AfterValidator:
    """A validator for ``CHECK (octet_length(col::text) <= limit)`` on a JSON column."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if info.context is not None and info.context.get("vidgen_db.from_database"):
            return value
        size = json_text_bytes(value)
        if size > limit:
            raise ValueError(f"must be at most {limit} bytes as JSON text, got {size}")
        return value

    return AfterValidator(check)


class RowModel(BaseModel):
    """A row (or a view's row) as selected; extra keys are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class WriteModel(BaseModel):
    """A body sent to PostgREST; extra keys are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_postgrest(self) -> dict[str, Any]:
        """The JSON body PostgREST expects: set fields only, JSON-compatible values."""
        # include= rather than exclude_unset: a JSON sub-model is sent whole, defaults too.
        data: dict[str, Any] = self.model_dump(
            mode="json", by_alias=True, include=set(self.model_fields_set)
        )
        return data


class InsertModel(WriteModel):
    """The columns of an INSERT; a field left unset takes the column's default."""


class UpdateModel(WriteModel):
    """The columns of a PATCH; only the fields that were set are sent."""


class RpcParams(WriteModel):
    """The named arguments of a function called through ``/rpc``."""


class JsonObject(BaseModel):
    """A JSON object with a known shape; unknown keys are kept, so a read-modify-write
    round trip never loses what a newer client stored."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True)
class RpcFunction:
    """A public SQL function callable over ``/rpc/<name>``.

    ``result`` is the type of the decoded JSON response (``list[...]`` for set-returning
    functions); :meth:`parse_result` validates a response into it.
    """

    name: str
    params: type[RpcParams]
    result: Any
    returns_set: bool = False

    @cached_property
    def result_adapter(self) -> TypeAdapter[Any]:
        """A TypeAdapter of :attr:`result`."""
        return TypeAdapter(self.result)

    def parse_result(self, data: Any) -> Any:
        """Validate a decoded ``/rpc`` response into :attr:`result`."""
        return self.result_adapter.validate_python(data, context=FROM_DATABASE)

    def body(self, **arguments: Any) -> dict[str, Any]:
        """Validate ``arguments`` and return the JSON body of the call."""
        return self.params(**arguments).to_postgrest()
