"""``vidgen-db credits balance | grant | history``: users' credits, as the service role."""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING

from .._errors import NotFoundError
from ..repos._limits import MAX_IDEMPOTENCY_KEY
from ._options import Parents, Subparsers, int_arg, service_db, uuid_arg
from ._output import print_table

if TYPE_CHECKING:
    from .._client import ServiceDB

__all__ = ["register"]

#: The largest credit amount the database takes (integer columns).
MAX_AMOUNT = 2_147_483_647


def require_user(db: ServiceDB, user_id: uuid.UUID) -> None:
    """NotFoundError "unknown user" unless ``user_id`` has a profile (every user has one);
    the balance of an unknown id would read as 0 and its history as empty."""
    try:
        db.profiles.get(user_id)
    except NotFoundError:
        raise NotFoundError(f"unknown user {user_id}") from None


def _cmd_balance(args: argparse.Namespace) -> int:
    with service_db(args) as db:
        require_user(db, args.user_id)
        balance = db.credits.balance(args.user_id)
    print_table(["USER", "BALANCE"], [[args.user_id, balance]], right=[1])
    return 0


def _cmd_grant(args: argparse.Namespace) -> int:
    key = args.idempotency_key or str(uuid.uuid4())
    with service_db(args) as db:
        balance = db.credits.grant(args.user_id, args.amount, note=args.note, idempotency_key=key)
    print(f"granted {args.amount} credits to {args.user_id}: balance {balance}")
    print(f"idempotency key: {key} (run again with --idempotency-key {key}: nothing more)")
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    with service_db(args) as db:
        require_user(db, args.user_id)
        page = db.credits.history(args.user_id, limit=args.limit)
    if not page.items:
        print(f"no ledger entries for {args.user_id}")
        return 0
    print_table(
        ["WHEN (UTC)", "TYPE", "AMOUNT", "BALANCE", "JOB", "NOTE"],
        [
            [
                e.created_at,
                e.type.value,
                f"{e.amount:+d}",
                e.balance_after,
                e.job_id,
                e.note or e.stripe_payment_id,
            ]
            for e in page.items
        ],
        right=[2, 3],
    )
    if page.next_cursor is not None:
        print(f"(older entries not shown: raise --limit, now {args.limit})")
    return 0


def _idempotency_key(value: str) -> str:
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY:
        raise argparse.ArgumentTypeError(
            f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters, got {len(value)}"
        )
    return value


def register(sub: Subparsers, parents: Parents) -> None:
    """Add ``credits`` and its actions."""
    credits = sub.add_parser("credits", help="see and grant users' credits (service role)")
    actions = credits.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(
            name, parents=[parents.service], help=help_text, description=description
        )
        parser.add_argument(
            "user_id", type=uuid_arg, metavar="USER_ID", help="the user's id (a UUID)"
        )
        return parser

    action("balance", "a user's balance", "A user's balance.").set_defaults(handler=_cmd_balance)
    grant = action(
        "grant",
        "grant credits to a user",
        "Grant credits to a user (a 'grant' ledger entry); prints the new balance and the "
        "idempotency key it used. Running it again with --idempotency-key KEY grants nothing "
        "more and prints the first run's balance (a run whose outcome is unknown, a lost "
        "connection, is safe to repeat so); without it, each run grants.",
    )
    grant.add_argument(
        "amount",
        type=int_arg(1, MAX_AMOUNT, "AMOUNT"),
        metavar="AMOUNT",
        help="credits to grant (a positive integer)",
    )
    grant.add_argument("--note", help="why, recorded on the ledger entry")
    grant.add_argument(
        "--idempotency-key",
        metavar="KEY",
        type=_idempotency_key,
        help="names this grant (1 to 255 characters; default: a new one, printed): the same "
        "key again grants nothing more; with another user, amount or note it is an error",
    )
    grant.set_defaults(handler=_cmd_grant)
    history = action(
        "history",
        "a user's ledger entries, newest first",
        "A user's credit ledger entries, newest first.",
    )
    history.add_argument(
        "--limit",
        type=int_arg(1, 1000, "--limit"),
        default=20,
        help="entries to show (1..1000, default 20)",
    )
    history.set_defaults(handler=_cmd_history)
