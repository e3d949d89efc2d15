"""Request and response bodies. Rows are answered with the SDK's own row models
(``vidgen_db.models.Project``, ``Job``...); these are the rest."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

import vidgen_db
from vidgen_db.models import NichePreset

T = TypeVar("T")

# The bounds of the columns these fields go to (tests/ checks they match the SDK's models).
SessionToken = Annotated[str, Field(min_length=16, max_length=256)]
DraftText = Annotated[str, Field(min_length=1, max_length=20000)]
Title = Annotated[str, Field(max_length=200)]
PromptText = Annotated[str, Field(max_length=20000)]
TargetMinutes = Annotated[int, Field(ge=1, le=10)]


class NewDraft(BaseModel):
    session_token: SessionToken
    prompt_text: DraftText


class DraftClaim(BaseModel):
    session_token: SessionToken


class ClaimedDraft(BaseModel):
    #: The newest draft the session's visitor wrote, now the user's; None if there was none.
    draft_id: UUID | None


class NewProject(BaseModel):
    title: Title
    prompt_text: PromptText
    niche_preset: NichePreset
    target_minutes: TargetMinutes = 1


class Balance(BaseModel):
    balance: int


class PaymentEvent(BaseModel):
    """The payment provider's event, once its signature is checked."""

    payment_id: str = Field(min_length=1, max_length=255)
    user_id: UUID
    credits: int = Field(gt=0)


class PageOut(BaseModel, Generic[T]):
    """A page of a list; ``next_cursor`` (None on the last page) gets the next one."""

    items: list[T]
    next_cursor: str | None

    @classmethod
    def of(cls, page: vidgen_db.Page[T]) -> PageOut[T]:
        """The SDK's page as a response: its cursor is already a URL-safe string."""
        return cls(items=page.items, next_cursor=page.next_cursor)
