"""Credits: the user's balance, and the payment provider's webhook that adds to it."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError

from vidgen_fastapi_example.deps import AppSettings, ServiceDB, UserDB
from vidgen_fastapi_example.errors import AppError
from vidgen_fastapi_example.schemas import Balance, PaymentEvent

router = APIRouter(tags=["credits"])

#: The header carrying the hex HMAC-SHA256 of the raw body, keyed with the shared secret.
SIGNATURE_HEADER = "X-Payment-Signature"


@router.get("/credits/balance")
async def balance(db: UserDB) -> Balance:
    """The user's balance. A quick read for a badge on every page: answer within 2 s or
    not at all, rather than the client's default timeout."""
    return Balance(balance=await db.with_options(timeout=2).credits.balance())


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is the HMAC-SHA256 of ``body``, compared in constant time."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return signature is not None and hmac.compare_digest(expected.encode(), signature.encode())


@router.post("/webhooks/payments")
async def payment_webhook(
    request: Request,
    service: ServiceDB,
    settings: AppSettings,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> Balance:
    """A payment succeeded: credit the user, once per payment id. Providers deliver a
    webhook again until it is answered 2xx, so a replay must change nothing:
    ``record_purchase`` is idempotent per payment id."""
    body = await request.body()  # the raw bytes: the signature is over them, not the JSON
    if not signature_ok(settings.payment_webhook_secret.get_secret_value(), body, signature):
        raise AppError(400, "bad_signature", "The webhook signature does not match.")
    try:
        event = PaymentEvent.model_validate_json(body)
    except ValidationError:
        raise AppError(400, "bad_event", "The webhook body is not a payment event.") from None
    # The provider gives up on a delivery after a few seconds and delivers it again later:
    # better a quick 503 than an answer it no longer waits for.
    fast = service.with_options(timeout=5)
    new_balance = await fast.credits.record_purchase(event.user_id, event.credits, event.payment_id)
    return Balance(balance=new_balance)
