"""Request and response bodies. Rows are answered with the SDK's own row models
(``vidgen_db.models.Project``, ``Job``...); these are the rest."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

import vidgen_db
from vidgen_db.models import (
    CreditLedgerEntryStripePaymentId,
    DraftPromptPromptText,
    DraftPromptSessionToken,
    NichePreset,
    ProjectPromptText,
    ProjectTargetMinutes,
    ProjectTitle,
)

T = TypeVar("T")


# Each field is typed with the SDK's type of the column it goes to: its bounds are the
# column's own, and follow the schema when the SDK is upgraded.
class NewDraft(BaseModel):
    session_token: DraftPromptSessionToken
    prompt_text: DraftPromptPromptText


class DraftClaim(BaseModel):
    session_token: DraftPromptSessionToken


class ClaimedDraft(BaseModel):
    #: The newest draft the session's visitor wrote, now the user's; None if there was none.
    draft_id: UUID | None


class NewProject(BaseModel):
    title: ProjectTitle
    prompt_text: ProjectPromptText
    niche_preset: NichePreset
    target_minutes: ProjectTargetMinutes = 1


class Balance(BaseModel):
    balance: int


class PaymentEvent(BaseModel):
    """The payment provider's event, once its signature is checked."""

    #: credit_ledger.stripe_payment_id, never empty (record_purchase refuses '').
    payment_id: Annotated[CreditLedgerEntryStripePaymentId, Field(min_length=1)]
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
