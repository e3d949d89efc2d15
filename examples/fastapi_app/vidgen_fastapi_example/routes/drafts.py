"""A visitor's draft prompt, saved before sign-up and claimed after."""

from __future__ import annotations

from fastapi import APIRouter

from vidgen_db.models import DraftPromptInsert
from vidgen_fastapi_example.deps import AnonDB, UserDB
from vidgen_fastapi_example.schemas import ClaimedDraft, DraftClaim, NewDraft

router = APIRouter(prefix="/drafts", tags=["drafts"])


@router.post("", status_code=204, response_model=None)
async def save_draft(body: NewDraft, anon: AnonDB) -> None:
    """Keep a visitor's prompt under their browser's session token (no sign-in needed;
    visitors can store drafts, never read them)."""
    draft = DraftPromptInsert(session_token=body.session_token, prompt_text=body.prompt_text)
    await anon.drafts.save(draft)


@router.post("/claim")
async def claim_draft(body: DraftClaim, db: UserDB) -> ClaimedDraft:
    """After sign-up: the session's drafts become the user's. Safe to repeat: claiming
    again returns the draft already claimed."""
    return ClaimedDraft(draft_id=await db.drafts.claim(body.session_token))
