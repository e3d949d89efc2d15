"""Check an SQL function's argument against the bound of the column it is stored in, before
anything is sent: the bounds are the generated models' (the migrations' CHECKs), so they
cannot drift from the database's. docs/security.md lists them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from .._errors import InvalidArgumentError

__all__ = ["MAX_IDEMPOTENCY_KEY", "check_column", "check_idempotency_key", "idempotency_key_for"]

#: The longest idempotency key the database takes (characters), as Stripe's.
MAX_IDEMPOTENCY_KEY = 255

_adapters: dict[tuple[type[BaseModel], str], TypeAdapter[Any]] = {}


def _adapter(model: type[BaseModel], field: str) -> TypeAdapter[Any]:
    key = (model, field)
    adapter = _adapters.get(key)
    if adapter is None:
        info = model.model_fields[field]
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        adapter = _adapters[key] = TypeAdapter(annotation)
    return adapter


def check_column(model: type[BaseModel], field: str, value: Any, name: str) -> Any:
    """``value`` if ``model.field`` (a generated Insert model's column) accepts it, else
    InvalidArgumentError naming the argument ``name`` (never quoting the value)."""
    if value is None:
        return None
    try:
        _adapter(model, field).validate_python(value)
    except ValidationError as exc:
        problems = "; ".join(error["msg"] for error in exc.errors())
        raise InvalidArgumentError(f"{name}: {problems}") from None
    return value


def check_idempotency_key(key: str) -> str:
    """``key`` if it is 1 to MAX_IDEMPOTENCY_KEY characters."""
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        shown = f"{len(key)} characters" if isinstance(key, str) else type(key).__name__
        raise InvalidArgumentError(
            f"idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY} characters, got {shown}"
        )
    return key


def idempotency_key_for(key: str | None) -> str:
    """The key a call sends: the caller's (checked), else a new random one. The client's
    own retries resend the same request, and so the same key."""
    return str(uuid.uuid4()) if key is None else check_idempotency_key(key)
