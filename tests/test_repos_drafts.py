"""HTTP contract of db.drafts (visitor: store only; user: their own; service: claim, expire)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

# The shared contract tests, run here over this module's CASES and INVALID tables.
from repo_contract_tests import (
    test_async,  # noqa: F401
    test_refused_before_any_request_async,  # noqa: F401
    test_refused_before_any_request_sync,  # noqa: F401
    test_sync,  # noqa: F401
)
from test_repos_clients import (
    DELETE_BODY,
    DRAFT,
    OTHER_USER,
    SESSION_TOKEN,
    USER,
    Case,
    Invalid,
    draft_row,
    pgrst_error,
)
from vidgen_db import Cursor, NotFoundError, PermissionDeniedError
from vidgen_db.models import DraftPrompt, DraftPromptInsert, DraftPromptUpdate

OBJECT = "application/vnd.pgrst.object+json"
NEWEST_FIRST = "created_at.desc,id.desc"
PROMPT = "Five facts about octopuses"


def visitor_draft(**fields: object) -> DraftPromptInsert:
    return DraftPromptInsert(session_token=SESSION_TOKEN, prompt_text=PROMPT, **fields)  # type: ignore[arg-type]


#: Where the first page of drafts.list(limit=1) ends.
PAGE_END = Cursor(datetime(2026, 11, 28, 10, 0, 0, 123456, UTC), DRAFT)

CASES = [
    # -- visitor -----------------------------------------------------------------------
    Case(
        "drafts.save",
        "anon",
        lambda db: db.drafts.save(visitor_draft(options={"voice": "calm"})),
        "POST",
        "/draft_prompts",
        prefer={"return=minimal"},
        body={"session_token": SESSION_TOKEN, "prompt_text": PROMPT, "options": {"voice": "calm"}},
        status=201,
        check=lambda result: result is None,
    ),
    Case(
        "drafts.save",
        "anon",
        lambda db: db.drafts.save(visitor_draft()),
        "POST",
        "/draft_prompts",
        prefer={"return=minimal"},
        body={"session_token": SESSION_TOKEN, "prompt_text": PROMPT},
        status=401,
        response=pgrst_error(
            "42501", 'new row violates row-level security policy for table "draft_prompts"'
        ),
        raises=PermissionDeniedError,
        check=lambda e: e.code == "42501",
        label="denied",
    ),
    # -- user --------------------------------------------------------------------------
    Case(
        "drafts.save",
        "user",
        lambda db: db.drafts.save(visitor_draft(id=DRAFT)),
        "POST",
        "/draft_prompts",
        params={"on_conflict": "id"},
        prefer={"return=representation", "resolution=ignore-duplicates"},
        body={
            "id": str(DRAFT),
            "session_token": SESSION_TOKEN,
            "prompt_text": PROMPT,
            "user_id": str(USER),
        },
        status=201,
        response=[draft_row()],
        check=lambda d: isinstance(d, DraftPrompt) and d.user_id == USER,
    ),
    Case(
        "drafts.list",
        "user",
        lambda db: db.drafts.list(limit=1),
        "GET",
        "/draft_prompts",
        params={"select": "*", "user_id": f"eq.{USER}", "order": NEWEST_FIRST, "limit": "2"},
        response=[draft_row(), draft_row(id=str(uuid.UUID(int=3)))],
        check=lambda page: (
            [d.id for d in page] == [DRAFT]
            and page.next_cursor == Cursor(datetime(2026, 11, 28, 10, 0, 0, 123456, UTC), DRAFT)
        ),
    ),
    Case(
        "drafts.list",
        "user",
        lambda db: db.drafts.list(limit=1, before=str(PAGE_END)),
        "GET",
        "/draft_prompts",
        params={
            "select": "*",
            "user_id": f"eq.{USER}",
            "created_at": "lte.2026-11-28T10:00:00.123456+00:00",
            "or": f'(created_at.lt."2026-11-28T10:00:00.123456+00:00",id.lt.{DRAFT})',
            "order": NEWEST_FIRST,
            "limit": "2",
        },
        response=[draft_row(id=str(uuid.UUID(int=3)))],
        check=lambda page: len(page) == 1 and page.next_cursor is None,
        label="next-page",
    ),
    Case(
        "drafts.get",
        "user",
        lambda db: db.drafts.get(DRAFT),
        "GET",
        "/draft_prompts",
        params={"select": "*", "id": f"eq.{DRAFT}"},
        accept=OBJECT,
        response=draft_row(),
        check=lambda d: d.prompt_text == PROMPT and d.options == {},
    ),
    Case(
        "drafts.update",
        "user",
        lambda db: db.drafts.update(DRAFT, DraftPromptUpdate(prompt_text="Six facts")),
        "PATCH",
        "/draft_prompts",
        params={"id": f"eq.{DRAFT}"},
        prefer={"return=representation"},
        body={"prompt_text": "Six facts"},
        response=[draft_row(prompt_text="Six facts")],
        check=lambda d: d.prompt_text == "Six facts",
    ),
    Case(
        "drafts.delete",
        "user",
        lambda db: db.drafts.delete(DRAFT),
        "DELETE",
        "/draft_prompts",
        body=DELETE_BODY,
        params={"id": f"eq.{DRAFT}"},
        prefer={"return=representation"},
        response=[draft_row()],
        check=lambda result: result is None,
    ),
    Case(
        "drafts.delete",
        "user",
        lambda db: db.drafts.delete(DRAFT),
        "DELETE",
        "/draft_prompts",
        body=DELETE_BODY,
        params={"id": f"eq.{DRAFT}"},
        prefer={"return=representation"},
        response=[],
        raises=NotFoundError,
        label="missing",
    ),
    Case(
        "drafts.claim",
        "user",
        lambda db: db.drafts.claim(SESSION_TOKEN),
        "POST",
        "/rpc/claim_draft_prompt",
        body={"p_session_token": SESSION_TOKEN, "p_user_id": str(USER)},
        response=str(DRAFT),
        check=lambda draft_id: draft_id == DRAFT,
    ),
    Case(
        "drafts.claim",
        "user",
        lambda db: db.drafts.claim(SESSION_TOKEN),
        "POST",
        "/rpc/claim_draft_prompt",
        body={"p_session_token": SESSION_TOKEN, "p_user_id": str(USER)},
        response=None,
        check=lambda draft_id: draft_id is None,
        label="nothing-to-claim",
    ),
    Case(
        "drafts.claim",
        "user",
        lambda db: db.drafts.claim(SESSION_TOKEN),
        "POST",
        "/rpc/claim_draft_prompt",
        body={"p_session_token": SESSION_TOKEN, "p_user_id": str(USER)},
        status=403,
        response=pgrst_error(
            "42501", "permission denied: a user may only claim drafts for themselves"
        ),
        raises=PermissionDeniedError,
        check=lambda e: e.status_code == 403 and e.code == "42501",
        label="denied",
    ),
    # -- service -----------------------------------------------------------------------
    Case(
        "drafts.claim",
        "service",
        lambda db: db.drafts.claim(SESSION_TOKEN, OTHER_USER),
        "POST",
        "/rpc/claim_draft_prompt",
        body={"p_session_token": SESSION_TOKEN, "p_user_id": str(OTHER_USER)},
        response=str(DRAFT),
        check=lambda draft_id: draft_id == DRAFT,
    ),
    Case(
        "drafts.list",
        "service",
        lambda db: db.drafts.list(user_id=OTHER_USER),
        "GET",
        "/draft_prompts",
        params={
            "select": "*",
            "user_id": f"eq.{OTHER_USER}",
            "order": NEWEST_FIRST,
            "limit": "21",
        },
        response=[draft_row(user_id=str(OTHER_USER))],
        check=lambda page: page.items[0].user_id == OTHER_USER and page.next_cursor is None,
    ),
    Case(
        "drafts.list",
        "service",
        lambda db: db.drafts.list(limit=5),
        "GET",
        "/draft_prompts",
        params={"select": "*", "order": NEWEST_FIRST, "limit": "6"},
        response=[draft_row(user_id=None)],
        check=lambda page: page.items[0].user_id is None,
        label="everyone",
    ),
    Case(
        "drafts.delete_expired",
        "service",
        lambda db: db.drafts.delete_expired(),
        "POST",
        "/rpc/delete_expired_drafts",
        body={},
        response=3,
        check=lambda deleted: deleted == 3,
    ),
]

INVALID = [
    Invalid(
        "drafts.save",
        "anon",
        lambda db: db.drafts.save(visitor_draft(user_id=USER)),
        "a visitor's draft has no owner",
    ),
    Invalid(
        "drafts.save",
        "anon",
        lambda db: db.drafts.save(visitor_draft(id=DRAFT)),
        "may not set id",
        "id",
    ),
    Invalid(
        "drafts.save",
        "user",
        lambda db: db.drafts.save(visitor_draft(user_id=OTHER_USER)),
        "their own",
    ),
    Invalid(
        "drafts.save",
        "user",
        lambda db: db.drafts.save(visitor_draft(expires_at=datetime(2030, 1, 1, tzinfo=UTC))),
        "may not set expires_at",
        "expiry",
    ),
    Invalid(
        "drafts.update",
        "user",
        lambda db: db.drafts.update(DRAFT, DraftPromptUpdate(user_id=OTHER_USER)),
        "may not set user_id",
    ),
    Invalid("drafts.claim", "user", lambda db: db.drafts.claim("short"), "session_token"),
    Invalid("drafts.list", "user", lambda db: db.drafts.list(limit=0), "limit"),
]
