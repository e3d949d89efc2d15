# Generated from src/vidgen_db/repos/_credits_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Credits: balances and the append-only ledger. Users read their own balance and history;
the service role reserves, settles and refunds job credits and grants, sells and expires
credits, all through the credit SQL functions (docs/credits-and-jobs.md)."""

from __future__ import annotations

from uuid import UUID

from .._errors import InvalidArgumentError
from ..models import CreditLedgerEntry, CreditLedgerEntryInsert
from ._base import Repository, positive
from ._limits import check_column, idempotency_key_for
from ._pagination import Cursor, Page

__all__ = ["Credits", "ServiceCredits"]


class Credits(Repository):
    """``db.credits`` of a user client: the user's own credits (read only)."""

    def balance(self) -> int:
        """The user's balance (one row read, however long the history)."""
        value: int = self._rpc_value("get_credit_balance", int, p_user_id=self._me())
        return value

    def history(
        self, *, limit: int = 20, before: Cursor | str | None = None
    ) -> Page[CreditLedgerEntry]:
        """The user's ledger entries, newest first, a page at a time (``before``: the
        previous page's ``next_cursor``, or its string)."""
        query = self._rest.table("credit_ledger").select("*").eq("user_id", str(self._me()))
        return self._page(CreditLedgerEntry, query, limit, before)


class ServiceCredits(Repository):
    """``db.credits`` of the service client: any user's credits, and every credit move."""

    def balance(self, user_id: UUID) -> int:
        """The balance of ``user_id``."""
        value: int = self._rpc_value("get_credit_balance", int, p_user_id=user_id)
        return value

    def history(
        self, user_id: UUID, *, limit: int = 20, before: Cursor | str | None = None
    ) -> Page[CreditLedgerEntry]:
        """The ledger entries of ``user_id``, newest first, a page at a time."""
        query = self._rest.table("credit_ledger").select("*").eq("user_id", str(user_id))
        return self._page(CreditLedgerEntry, query, limit, before)

    def reserve(self, user_id: UUID, job_id: UUID, amount: int) -> bool:
        """Reserve ``amount`` for the job: True when reserved, False when the balance is
        short (nothing changes). Idempotent per job."""
        value: bool = self._rpc_value(
            "reserve_credits",
            bool,
            p_user_id=user_id,
            p_job_id=job_id,
            p_amount=positive("amount", amount),
        )
        return value

    def settle(self, job_id: UUID, final_amount: int) -> int:
        """Release the job's reservation and charge ``final_amount`` (capped by the
        balance); returns the charge. Exactly once: a repeat returns the same charge."""
        if not isinstance(final_amount, int) or isinstance(final_amount, bool) or final_amount < 0:
            raise InvalidArgumentError(
                f"final_amount must be an integer >= 0, got {final_amount!r}"
            )
        value: int = self._rpc_value(
            "settle_job_credits", int, p_job_id=job_id, p_final_amount=final_amount
        )
        return value

    def refund(self, job_id: UUID) -> int:
        """Give the job's reservation back; returns the credits refunded (0 if none were
        reserved). Exactly once."""
        value: int = self._rpc_value("refund_job_credits", int, p_job_id=job_id)
        return value

    def grant(
        self,
        user_id: UUID,
        amount: int,
        *,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> int:
        """Grant ``amount`` credits; returns the new balance. Exactly once per
        ``idempotency_key`` (a new one per call unless given, reused by the client's own
        retries): the same key again grants nothing more and returns the first call's
        balance; with other arguments it is IdempotencyKeyReusedError (VG107)."""
        value: int = self._rpc_value(
            "grant_credits",
            int,
            p_user_id=user_id,
            p_amount=positive("amount", amount),
            p_note=check_column(CreditLedgerEntryInsert, "note", note, "note"),
            p_idempotency_key=idempotency_key_for(idempotency_key),
        )
        return value

    def record_purchase(self, user_id: UUID, amount: int, stripe_payment_id: str) -> int:
        """Credit a Stripe payment once per payment id (a replayed webhook adds nothing);
        returns the balance."""
        if not stripe_payment_id:
            raise InvalidArgumentError("stripe_payment_id must not be empty")
        check_column(
            CreditLedgerEntryInsert, "stripe_payment_id", stripe_payment_id, "stripe_payment_id"
        )
        value: int = self._rpc_value(
            "record_purchase",
            int,
            p_user_id=user_id,
            p_amount=positive("amount", amount),
            p_stripe_payment_id=stripe_payment_id,
        )
        return value

    def expire(
        self,
        user_id: UUID,
        amount: int,
        *,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> int:
        """Expire up to ``amount`` credits (never below zero); returns the credits expired.
        Exactly once per ``idempotency_key``, as :meth:`grant`."""
        value: int = self._rpc_value(
            "expire_credits",
            int,
            p_user_id=user_id,
            p_amount=positive("amount", amount),
            p_note=check_column(CreditLedgerEntryInsert, "note", note, "note"),
            p_idempotency_key=idempotency_key_for(idempotency_key),
        )
        return value
