"""HTTP contract of db.credits (user: own balance and history; service: every credit move)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import respx

# The shared contract tests, run here over this module's CASES and INVALID tables.
from repo_contract_tests import (
    test_async,  # noqa: F401
    test_refused_before_any_request_async,  # noqa: F401
    test_refused_before_any_request_sync,  # noqa: F401
    test_sync,  # noqa: F401
)
from test_repos_clients import (
    ANY_UUID,
    ENTRY,
    JOB,
    KEYS,
    OTHER_USER,
    REST,
    URL,
    USER,
    Case,
    Invalid,
    ledger_row,
    pgrst_error,
)
from vidgen_db import (
    ClientSettings,
    CreditStateError,
    Cursor,
    IdempotencyKeyReusedError,
    NetworkError,
    PermissionDeniedError,
    VidgenDB,
)
from vidgen_db.models import CreditLedgerEntry, LedgerEntryType

NEWEST_FIRST = "created_at.desc,id.desc"
USAGE = ledger_row(
    id=str(uuid.UUID(int=9)),
    type="usage",
    amount=-28,
    balance_after=12,
    note=None,
    job_id=str(JOB),
    created_at="2026-11-28T11:00:00+00:00",
)

#: Where a page ending with USAGE ends.
LAST_SEEN = Cursor(datetime(2026, 11, 28, 11, tzinfo=UTC), uuid.UUID(int=9))


def rpc(covers: str, name: str, call: object, body: dict[str, object], **kw: object) -> Case:
    """A service-role credit function call."""
    return Case(covers, "service", call, "POST", f"/rpc/{name}", body=body, **kw)  # type: ignore[arg-type]


CASES = [
    # -- user --------------------------------------------------------------------------
    Case(
        "credits.balance",
        "user",
        lambda db: db.credits.balance(),
        "POST",
        "/rpc/get_credit_balance",
        body={"p_user_id": str(USER)},
        response=40,
        check=lambda balance: balance == 40,
    ),
    Case(
        "credits.balance",
        "user",
        lambda db: db.credits.balance(),
        "POST",
        "/rpc/get_credit_balance",
        body={"p_user_id": str(USER)},
        status=403,
        response=pgrst_error(
            "42501", "permission denied: a user may only read their own credit balance"
        ),
        raises=PermissionDeniedError,
        check=lambda e: e.code == "42501",
        label="denied",
    ),
    Case(
        "credits.history",
        "user",
        lambda db: db.credits.history(limit=1),
        "GET",
        "/credit_ledger",
        params={"select": "*", "user_id": f"eq.{USER}", "order": NEWEST_FIRST, "limit": "2"},
        response=[USAGE, ledger_row()],
        check=lambda page: (
            isinstance(page.items[0], CreditLedgerEntry)
            and page.items[0].type is LedgerEntryType.USAGE
            and page.items[0].amount == -28
            and page.next_cursor == Cursor(datetime(2026, 11, 28, 11, tzinfo=UTC), uuid.UUID(int=9))
        ),
    ),
    # -- service -----------------------------------------------------------------------
    rpc(
        "credits.balance",
        "get_credit_balance",
        lambda db: db.credits.balance(OTHER_USER),
        {"p_user_id": str(OTHER_USER)},
        response=0,
        check=lambda balance: balance == 0,
    ),
    Case(
        "credits.history",
        "service",
        lambda db: db.credits.history(OTHER_USER),
        "GET",
        "/credit_ledger",
        params={
            "select": "*",
            "user_id": f"eq.{OTHER_USER}",
            "order": NEWEST_FIRST,
            "limit": "21",
        },
        response=[ledger_row(user_id=str(OTHER_USER))],
        check=lambda page: page.items[0].id == ENTRY and page.next_cursor is None,
    ),
    Case(
        "credits.history",
        "service",
        lambda db: db.credits.history(OTHER_USER, limit=1, before=str(LAST_SEEN)),
        "GET",
        "/credit_ledger",
        params={
            "select": "*",
            "user_id": f"eq.{OTHER_USER}",
            "created_at": "lte.2026-11-28T11:00:00+00:00",
            "or": f'(created_at.lt."2026-11-28T11:00:00+00:00",id.lt.{uuid.UUID(int=9)})',
            "order": NEWEST_FIRST,
            "limit": "2",
        },
        response=[ledger_row(user_id=str(OTHER_USER))],
        check=lambda page: page.items[0].id == ENTRY and page.next_cursor is None,
        label="next-page",
    ),
    rpc(
        "credits.reserve",
        "reserve_credits",
        lambda db: db.credits.reserve(USER, JOB, 30),
        {"p_user_id": str(USER), "p_job_id": str(JOB), "p_amount": 30},
        response=True,
        check=lambda reserved: reserved is True,
    ),
    rpc(
        "credits.reserve",
        "reserve_credits",
        lambda db: db.credits.reserve(USER, JOB, 30),
        {"p_user_id": str(USER), "p_job_id": str(JOB), "p_amount": 30},
        response=False,
        check=lambda reserved: reserved is False,
        label="short",
    ),
    rpc(
        "credits.reserve",
        "reserve_credits",
        lambda db: db.credits.reserve(USER, JOB, 40),
        {"p_user_id": str(USER), "p_job_id": str(JOB), "p_amount": 40},
        status=400,
        response=pgrst_error("VG102", f"job {JOB} already has 30 credits reserved, not 40"),
        raises=CreditStateError,
        check=lambda e: e.code == "VG102",
        label="other-amount",
    ),
    rpc(
        "credits.settle",
        "settle_job_credits",
        lambda db: db.credits.settle(JOB, 28),
        {"p_job_id": str(JOB), "p_final_amount": 28},
        response=28,
        check=lambda charged: charged == 28,
    ),
    rpc(
        "credits.settle",
        "settle_job_credits",
        lambda db: db.credits.settle(JOB, 28),
        {"p_job_id": str(JOB), "p_final_amount": 28},
        status=400,
        response=pgrst_error("VG105", f"job {JOB} has no reservation to settle"),
        raises=CreditStateError,
        check=lambda e: e.code == "VG105",
        label="nothing-reserved",
    ),
    rpc(
        "credits.refund",
        "refund_job_credits",
        lambda db: db.credits.refund(JOB),
        {"p_job_id": str(JOB)},
        response=30,
        check=lambda refunded: refunded == 30,
    ),
    rpc(
        "credits.grant",
        "grant_credits",
        lambda db: db.credits.grant(OTHER_USER, 50, note="support goodwill"),
        # A new key per call: the client's own retries resend it, so it grants once.
        {
            "p_user_id": str(OTHER_USER),
            "p_amount": 50,
            "p_note": "support goodwill",
            "p_idempotency_key": ANY_UUID,
        },
        response=60,
        check=lambda balance: balance == 60,
    ),
    rpc(
        "credits.grant",
        "grant_credits",
        lambda db: db.credits.grant(OTHER_USER, 50, idempotency_key="ticket-4711"),
        {"p_user_id": str(OTHER_USER), "p_amount": 50, "p_idempotency_key": "ticket-4711"},
        response=60,
        check=lambda balance: balance == 60,
        label="own-key",
    ),
    rpc(
        "credits.grant",
        "grant_credits",
        lambda db: db.credits.grant(OTHER_USER, 60, idempotency_key="ticket-4711"),
        {"p_user_id": str(OTHER_USER), "p_amount": 60, "p_idempotency_key": "ticket-4711"},
        status=400,
        response=pgrst_error(
            "VG107",
            "idempotency key ticket-4711 was already used with different arguments (grant_credits)",
        ),
        raises=IdempotencyKeyReusedError,
        check=lambda e: e.code == "VG107",
        label="key-reused",
    ),
    rpc(
        "credits.record_purchase",
        "record_purchase",
        lambda db: db.credits.record_purchase(OTHER_USER, 100, "pi_3Q1x9"),
        {"p_user_id": str(OTHER_USER), "p_amount": 100, "p_stripe_payment_id": "pi_3Q1x9"},
        response=160,
        check=lambda balance: balance == 160,
    ),
    rpc(
        "credits.record_purchase",
        "record_purchase",
        lambda db: db.credits.record_purchase(USER, 100, "pi_3Q1x9"),
        {"p_user_id": str(USER), "p_amount": 100, "p_stripe_payment_id": "pi_3Q1x9"},
        status=400,
        response=pgrst_error("VG106", "payment pi_3Q1x9 was recorded for another user or amount"),
        raises=CreditStateError,
        check=lambda e: e.code == "VG106",
        label="replayed-elsewhere",
    ),
    rpc(
        "credits.expire",
        "expire_credits",
        lambda db: db.credits.expire(OTHER_USER, 25),
        {"p_user_id": str(OTHER_USER), "p_amount": 25, "p_idempotency_key": ANY_UUID},
        response=10,
        check=lambda expired: expired == 10,
    ),
    rpc(
        "credits.expire",
        "expire_credits",
        lambda db: db.credits.expire(OTHER_USER, 25, note="yearly", idempotency_key="exp-2026"),
        {
            "p_user_id": str(OTHER_USER),
            "p_amount": 25,
            "p_note": "yearly",
            "p_idempotency_key": "exp-2026",
        },
        response=10,
        check=lambda expired: expired == 10,
        label="own-key",
    ),
]

INVALID = [
    Invalid("credits.history", "user", lambda db: db.credits.history(limit=1001), "limit"),
    Invalid("credits.reserve", "service", lambda db: db.credits.reserve(USER, JOB, 0), "amount"),
    Invalid("credits.settle", "service", lambda db: db.credits.settle(JOB, -1), "final_amount"),
    Invalid("credits.grant", "service", lambda db: db.credits.grant(USER, -5), "amount"),
    Invalid(
        "credits.record_purchase",
        "service",
        lambda db: db.credits.record_purchase(USER, 10, ""),
        "stripe_payment_id",
    ),
    Invalid("credits.expire", "service", lambda db: db.credits.expire(USER, True), "amount"),
    Invalid(
        "credits.grant",
        "service",
        lambda db: db.credits.grant(USER, 5, idempotency_key=""),
        "idempotency_key",
        "empty-key",
    ),
    Invalid(
        "credits.expire",
        "service",
        lambda db: db.credits.expire(USER, 5, idempotency_key="k" * 256),
        "idempotency_key",
        "long-key",
    ),
    Invalid(
        "credits.grant", "service", lambda db: db.credits.grant(USER, 5, note="n" * 501), "note"
    ),
]


def test_only_idempotent_credit_functions_are_retried() -> None:
    fast = ClientSettings(max_retries=2, initial_retry_delay=0.0, max_retry_delay=0.0)
    with respx.mock() as mock:
        reserve = mock.post(f"{REST}/rpc/reserve_credits").mock(
            side_effect=[httpx.Response(503, text="busy"), httpx.Response(200, json=True)]
        )
        grant = mock.post(f"{REST}/rpc/grant_credits").mock(
            side_effect=[httpx.ReadError("connection reset"), httpx.Response(200, json=15)]
        )
        purchase = mock.post(f"{REST}/rpc/record_purchase").mock(
            side_effect=[httpx.Response(503, text="busy"), httpx.Response(200, json=15)]
        )
        with VidgenDB.service(URL, KEYS["service"], settings=fast) as db:
            assert db.credits.reserve(USER, JOB, 30) is True
            assert db.credits.grant(USER, 5) == 15
            assert db.credits.record_purchase(USER, 5, "pi_1") == 15
            # Without its key a grant is not safe to repeat: never retried.
            with pytest.raises(NetworkError):
                grant.side_effect = [httpx.ReadError("connection reset")]
                db._rest.rpc("grant_credits", {"p_user_id": str(USER), "p_amount": 5}).execute()
    assert reserve.call_count == 2  # reserve_credits is idempotent per job
    assert purchase.call_count == 2  # record_purchase is once per payment id
    # The grant was sent twice with one key: the database applies it once.
    keys = [json.loads(c.request.content)["p_idempotency_key"] for c in grant.calls[:2]]
    assert keys[0] == keys[1] and grant.call_count == 3
