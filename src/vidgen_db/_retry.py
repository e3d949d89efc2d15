"""When a request may be retried, and how long to wait: the policy behind the transports.

A request is retried only if repeating it cannot do anything twice: reads, PUT/PATCH/
DELETE (they set values, they do not add), upserts, the SQL functions that are
idempotent by design, and those that take an idempotency key when the request carries one
(the SDK always sends one: the database applies a key once). A request that never reached
the server (the connection could not be made) and one the database rolled back
(serialization failure, deadlock) are safe to repeat whatever they were.
"""

from __future__ import annotations

import contextvars
import email.utils
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import httpx

from ._constants import (
    DEFAULT_MAX_RETRIES,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRY_JITTER,
)
from ._errors import InvalidArgumentError

__all__ = [
    "IDEMPOTENT_FUNCTIONS",
    "KEYED_FUNCTIONS",
    "RetryPolicy",
    "is_idempotent",
    "retry_options",
]

#: SQL functions that do nothing twice when called twice with the same arguments.
IDEMPOTENT_FUNCTIONS = frozenset(
    {
        "get_credit_balance",
        "get_dashboard",
        "reserve_credits",
        "settle_job_credits",
        "refund_job_credits",
        "record_purchase",
        "claim_draft_prompt",
        "queue_job",
        "advance_job",
        "start_job_step",
        "update_job_step",
        "complete_job_step",
        "finish_job",
        "fail_job",
        # The worker fleet: a claim names its request (p_claim_id, always sent by the SDK)
        # and a repeat returns the same jobs; a worker's id and an asset's id are chosen by
        # the client; the others change nothing twice.
        "register_worker",
        "claim_jobs",
        "heartbeat_job",
        "release_job",
        "recover_jobs",
        "job_queue_stats",
        "cancel_job",
        "add_job_asset",
        # Fewer round trips: a transition completes a step (idempotent) and starts the next
        # (a restart); a job created and queued is named by its id.
        "next_job_step",
        "create_and_queue_job",
    }
)


#: SQL functions that do nothing twice when called twice with the same idempotency key
#: (``p_idempotency_key``): safe to repeat only when the request carries one.
KEYED_FUNCTIONS = frozenset(
    {"grant_credits", "expire_credits", "append_job_log", "append_job_logs"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries. ``max_retries=0`` turns retrying off."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    jitter: float = RETRY_JITTER
    max_retry_after: float = MAX_RETRY_AFTER
    idempotent_functions: frozenset[str] = field(default=IDEMPOTENT_FUNCTIONS)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise InvalidArgumentError("max_retries must be zero or more")
        if self.initial_delay < 0 or self.max_delay < 0 or not 0 <= self.jitter <= 1:
            raise InvalidArgumentError("retry delays must be >= 0 and jitter within 0..1")

    def delay(self, attempt: int, response: httpx.Response | None = None) -> float | None:
        """Seconds to wait before retry number ``attempt`` (1-based); None: do not retry
        (the server's Retry-After asks for more than max_retry_after)."""
        backoff = min(self.max_delay, self.initial_delay * 2.0 ** (attempt - 1))
        backoff += backoff * self.jitter * random.random()
        if response is not None:
            after = retry_after_seconds(response)
            if after is not None:
                if after > self.max_retry_after:
                    return None
                return after if after > 0 else backoff
        return backoff


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The Retry-After header in seconds (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class _Override:
    max_retries: int | None = None
    idempotent: bool | None = None


_NO_OVERRIDE = _Override()
_override: contextvars.ContextVar[_Override | None] = contextvars.ContextVar(
    "vidgen_db_retry_override", default=None
)


def _current_override() -> _Override:
    return _override.get() or _NO_OVERRIDE


@contextmanager
def retry_options(
    *, max_retries: int | None = None, idempotent: bool | None = None
) -> Iterator[None]:
    """Override the retry policy for the requests made inside the block (this task or
    thread only): ``max_retries`` for these calls, ``idempotent=True`` to declare a write
    safe to repeat (or False to never repeat it)."""
    current = _current_override()
    token = _override.set(
        replace(
            current,
            max_retries=current.max_retries if max_retries is None else max_retries,
            idempotent=current.idempotent if idempotent is None else idempotent,
        )
    )
    try:
        yield
    finally:
        _override.reset(token)


def effective_max_retries(policy: RetryPolicy) -> int:
    override = _current_override().max_retries
    return policy.max_retries if override is None else override


def is_idempotent(request: httpx.Request, policy: RetryPolicy) -> bool:
    """Whether repeating ``request`` is safe (see the module docstring)."""
    declared = _current_override().idempotent
    if declared is not None:
        return declared
    method = request.method.upper()
    if method in {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}:
        return True
    if method != "POST":
        return False
    path = request.url.path
    if "/rpc/" in path:
        name = path.rsplit("/rpc/", 1)[1].strip("/")
        if name in policy.idempotent_functions:
            return True
        return name in KEYED_FUNCTIONS and _carries_idempotency_key(request)
    prefer = request.headers.get("prefer", "")
    return "resolution=ignore-duplicates" in prefer or "resolution=merge-duplicates" in prefer


def _carries_idempotency_key(request: httpx.Request) -> bool:
    """Whether the call's JSON body names its request with a ``p_idempotency_key``."""
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        return False
    key = body.get("p_idempotency_key") if isinstance(body, dict) else None
    return isinstance(key, str) and key != ""
