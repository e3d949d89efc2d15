"""Idempotency keys: the id a new row gets from its owner and the caller's key, so that a
repeated request (a double-submitted form, a retry after a lost response) names the same
row, and a key reused for another request is recognised."""

from __future__ import annotations

import uuid
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel

from .._errors import IdempotencyKeyReusedError, InvalidArgumentError

R = TypeVar("R", bound=BaseModel)

__all__ = [
    "IDEMPOTENT_JOBS",
    "IDEMPOTENT_PROJECTS",
    "id_for",
    "require_same_request",
    "with_key",
]

#: The namespaces of the ids derived from idempotency keys, one per kind of row.
IDEMPOTENT_JOBS = UUID("5f6c9a4e-2d1b-4c7e-9a51-7c1f0e3b8d24")
IDEMPOTENT_PROJECTS = UUID("b3e1d2a0-7c4f-4e8b-9d26-1f5a0c9e7b13")


def id_for(
    namespace: UUID, row: BaseModel, owner: UUID | None, idempotency_key: str | None
) -> UUID:
    """The id a new row gets: its own if set, else one derived from its owner and the
    idempotency key (the same key of the same owner always names the same row), else a
    random one."""
    own = getattr(row, "id", None)
    if "id" in row.model_fields_set and own is not None:
        if idempotency_key is not None:
            raise InvalidArgumentError("pass the row's id or an idempotency_key, not both")
        return UUID(str(own))
    if idempotency_key is None:
        return uuid.uuid4()
    if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 255:
        raise InvalidArgumentError("idempotency_key must be a string of 1 to 255 characters")
    return uuid.uuid5(namespace, f"{owner}/{idempotency_key}")


def with_key(namespace: UUID, row: R, owner: UUID | None, idempotency_key: str) -> R:
    """``row`` with the id its idempotency key names."""
    keyed = row.model_copy(update={"id": id_for(namespace, row, owner, idempotency_key)})
    keyed.model_fields_set.add("id")
    return keyed


def require_same_request(row: BaseModel, existing: BaseModel, idempotency_key: str) -> None:
    """IdempotencyKeyReusedError unless ``existing`` is what inserting ``row`` made: every
    field the caller set has the value it was given."""
    if all(
        getattr(existing, name, None) == getattr(row, name)
        for name in row.model_fields_set
        if name != "id"
    ):
        return
    raise IdempotencyKeyReusedError(
        f"idempotency key {idempotency_key!r} already made {getattr(existing, 'id', '')} "
        "with other values",
        code="VG107",
        hint="an idempotency key names one request: use a new key for a new one",
    )
