# Generated from src/vidgen_db/repos/_drafts_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Draft prompts: what a visitor writes before signing up, claimed into their account
after. Visitors may only store drafts (never read them back); users manage their own."""

from __future__ import annotations

from uuid import UUID

from postgrest.types import ReturnMethod

from .._errors import InvalidArgumentError
from ..models import DraftPrompt, DraftPromptInsert, DraftPromptUpdate
from ._base import Repository, only_fields
from ._pagination import Cursor, Page

__all__ = ["AnonDrafts", "ServiceDrafts", "UserDrafts"]

#: Columns each role may write (the table's column grants).
ANON_INSERTABLE = frozenset({"session_token", "prompt_text", "template_id", "options"})
USER_INSERTABLE = ANON_INSERTABLE | {"id", "user_id"}
USER_EDITABLE = frozenset({"prompt_text", "template_id", "options"})


def _check_token(session_token: str) -> str:
    if not isinstance(session_token, str) or not 16 <= len(session_token) <= 256:
        raise InvalidArgumentError("session_token must be a string of 16 to 256 characters")
    return session_token


class AnonDrafts(Repository):
    """``db.drafts`` of the anonymous client: store a visitor's draft."""

    def save(self, draft: DraftPromptInsert) -> None:
        """Store an unowned draft. Nothing is returned: visitors cannot read drafts, so
        it is sent with ``Prefer: return=minimal``; the session token claims it later."""
        if draft.user_id is not None:
            raise InvalidArgumentError(
                "a visitor's draft has no owner: leave user_id unset (a signed-in user "
                "saves drafts with a user client, or claims this one with its session_token)"
            )
        only_fields(draft, ANON_INSERTABLE, "a visitor")
        (
            self._rest.table("draft_prompts")
            .insert(draft.to_postgrest(), returning=ReturnMethod.minimal)
            .execute()
        )


class UserDrafts(Repository):
    """``db.drafts`` of a user client: the signed-in user's drafts."""

    def save(self, draft: DraftPromptInsert) -> DraftPrompt:
        """Store a draft owned by the user and return it. Safe to retry (client-chosen id)."""
        me = self._me()
        if "user_id" in draft.model_fields_set and draft.user_id != me:
            raise InvalidArgumentError("a user's drafts are their own: leave user_id unset")
        only_fields(draft, USER_INSERTABLE, "a user")
        draft = draft.model_copy(update={"user_id": me})
        draft.model_fields_set.add("user_id")
        return self._create("draft_prompts", DraftPrompt, draft)

    def list(self, *, limit: int = 20, before: Cursor | str | None = None) -> Page[DraftPrompt]:
        """The user's drafts, newest first, a page at a time (``before``: the previous
        page's ``next_cursor``, or its string)."""
        query = self._rest.table("draft_prompts").select("*").eq("user_id", str(self._me()))
        return self._page(DraftPrompt, query, limit, before)

    def get(self, draft_id: UUID) -> DraftPrompt:
        """The draft; NotFoundError if there is none (or it is not the user's)."""
        return self._get("draft_prompts", DraftPrompt, "id", draft_id)

    def update(self, draft_id: UUID, changes: DraftPromptUpdate) -> DraftPrompt:
        """Change the prompt text, template or options of one of the user's drafts."""
        only_fields(changes, USER_EDITABLE, "a user")
        return self._update("draft_prompts", DraftPrompt, "id", draft_id, changes)

    def delete(self, draft_id: UUID) -> None:
        """Delete one of the user's drafts; NotFoundError if there was none."""
        self._delete("draft_prompts", draft_id)

    def claim(self, session_token: str) -> UUID | None:
        """Claim the visitor drafts stored under ``session_token`` (unexpired, unclaimed)
        for the user; returns the newest one's id, or None if there was none."""
        result: UUID | None = self._rpc(
            "claim_draft_prompt", p_session_token=_check_token(session_token), p_user_id=self._me()
        )
        return result


class ServiceDrafts(Repository):
    """``db.drafts`` of the service client."""

    def claim(self, session_token: str, user_id: UUID) -> UUID | None:
        """Claim the drafts stored under ``session_token`` for ``user_id``; the newest
        one's id, or None if there was none."""
        result: UUID | None = self._rpc(
            "claim_draft_prompt", p_session_token=_check_token(session_token), p_user_id=user_id
        )
        return result

    def list(
        self,
        *,
        user_id: UUID | None = None,
        limit: int = 20,
        before: Cursor | str | None = None,
    ) -> Page[DraftPrompt]:
        """Drafts newest first, a page at a time: everyone's, or ``user_id``'s."""
        query = self._rest.table("draft_prompts").select("*")
        if user_id is not None:
            query = query.eq("user_id", str(user_id))
        return self._page(DraftPrompt, query, limit, before)

    def delete_expired(self) -> int:
        """Delete the visitors' drafts (unclaimed) whose expiry has passed, by the
        database's clock; returns how many. Claimed drafts belong to a user and are kept."""
        deleted: int = self._rpc_value("delete_expired_drafts", int)
        return deleted
