"""The exceptions vidgen_db raises.

Every error the SDK raises derives from one root, so callers can catch it in one place.
Each carries ``http_status`` (what an API service should answer), ``code``,
``user_message`` (safe to show), ``upstream_status`` and ``request_id``; docs/errors.md is
the reference. The number is each class's ``http_status``::

    VidgenDBError                          500
     ├── InvalidArgumentError          422 a bad argument, refused before sending (a ValueError)
     ├── ConfigurationError            500 bad settings: a missing URL, a wrong kind of key
     │    └── MissingExtraError        500 an optional extra is not installed (an ImportError)
     ├── WatchTimeoutError             504 jobs.watch() timed out: the job is not done
     ├── MigrationError                500 a migration failed or the history disagrees
     │    ├── MigrationEditedError     500 an applied migration file was changed afterwards
     │    └── MigrationFailedError     500 a statement failed; the database is as it was
     └── APIError                      500 the data API (PostgREST) refused a request
          ├── BadRequestError          400 malformed input the database refused
          │    └── CheckViolationError       422 23514: a CHECK constraint
          ├── AuthenticationError      401 missing, invalid or expired JWT
          ├── PermissionDeniedError    403 RLS or grants (42501); 401 when anonymous
          ├── NotFoundError            404 no such row, user, job, table or function
          │    └── UnknownWorkerError        404 VG301: a worker that never registered
          ├── ConflictError            409
          │    ├── UniqueViolationError        23505
          │    ├── ForeignKeyViolationError    23503
          │    ├── IdempotencyKeyReusedError   VG107: a key reused with other arguments
          │    ├── CreditStateError            VG102-VG106: credits already settled...
          │    ├── IllegalJobTransitionError   VG201: a move the pipeline forbids
          │    ├── LeaseLostError              VG302: the worker no longer holds the job
          │    ├── JobCancelledError           VG303: the job's owner cancelled it
          │    └── ActiveJobError              VG304: a project or job with an active job
          ├── InsufficientCreditsError 402 VG101: the balance is too low
          ├── ServerError              500 unexpected 5xx
          └── TransientError           503 worth retrying (vidgen_db retries when safe)
               ├── RateLimitError            429 too many requests (Retry-After honoured)
               ├── NetworkError              503 the connection failed or broke
               ├── RequestTimeoutError       503 no answer in time
               ├── ServiceUnavailableError   503 502, 503, 504, 520 upstream
               └── SerializationFailureError 503 40001, 40P01: rolled back

``vidgen_db._error_mapping`` is the one place that turns responses and transport failures
into these classes.
"""

from __future__ import annotations

import json
import re
from typing import ClassVar
from uuid import UUID

__all__ = [
    "APIError",
    "ActiveJobError",
    "AuthenticationError",
    "BadRequestError",
    "CheckViolationError",
    "ConfigurationError",
    "ConflictError",
    "CreditStateError",
    "ForeignKeyViolationError",
    "IdempotencyKeyReusedError",
    "IllegalJobTransitionError",
    "InsufficientCreditsError",
    "InvalidArgumentError",
    "JobCancelledError",
    "LeaseLostError",
    "MigrationEditedError",
    "MigrationError",
    "MigrationFailedError",
    "MissingExtraError",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "SerializationFailureError",
    "ServerError",
    "ServiceUnavailableError",
    "TransientError",
    "UniqueViolationError",
    "UnknownWorkerError",
    "VidgenDBError",
    "WatchTimeoutError",
]


class VidgenDBError(Exception):
    """Root of every error raised by vidgen_db.

    Every error carries the same documented fields (docs/errors.md), so an API service can
    answer from them alone: ``http_status`` (what to answer with), ``code`` (stable,
    machine-readable), ``user_message`` (safe to show: no SQL, no internal names),
    ``upstream_status`` (the data API's own HTTP status, ``None`` if there was none) and
    ``request_id`` (the upstream's request id when it sent one).
    """

    #: The HTTP status an API service should answer with.
    http_status: int = 500
    #: The code when the server gave none: a stable snake_case name of the condition.
    default_code: ClassVar[str] = "internal_error"
    #: What the end user may be told.
    default_user_message: ClassVar[str] = "Something went wrong on our side. Please try again."

    code: str
    upstream_status: int | None = None
    request_id: str | None = None

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.code = self.default_code

    @property
    def user_message(self) -> str:
        """A message safe to show to the end user."""
        return self.default_user_message


class InvalidArgumentError(VidgenDBError, ValueError):
    """An argument the SDK refuses before sending anything (a negative amount, a page size
    out of range, a field the caller may not set): both a VidgenDBError and a ValueError."""

    http_status = 422
    default_code = "invalid_argument"
    default_user_message = "The request is not valid."


class ConfigurationError(VidgenDBError):
    """The SDK was configured in a way it cannot work with."""

    default_code = "configuration_error"


class WatchTimeoutError(VidgenDBError, TimeoutError):
    """``jobs.watch(timeout=...)`` ran out before the job was READY or FAILED. Not a
    transient error: the job is simply not done; watch again (or longer) if it should be."""

    http_status = 504
    default_code = "watch_timeout"
    default_user_message = "The video is still being made. Check again in a moment."


class MissingExtraError(ConfigurationError, ImportError):
    """A feature needs an optional extra that is not installed; the message says which
    (``pip install "vidgen-db[local]"``)."""

    default_code = "missing_extra"


class MigrationError(VidgenDBError):
    """A migration could not be applied, or the recorded history disagrees with the files."""

    default_code = "migration_error"


class MigrationEditedError(MigrationError):
    """A migration file was changed after it had been applied."""

    default_code = "migration_edited"

    def __init__(self, version: str, filename: str) -> None:
        self.version = version
        self.filename = filename
        super().__init__(
            f"migration {filename} was edited after it was applied (version {version}); "
            "never change an applied migration: add a new one with 'vidgen-db new NAME'"
        )


class MigrationFailedError(MigrationError):
    """A statement of a migration failed; its transaction was rolled back."""

    default_code = "migration_failed"

    def __init__(
        self, filename: str, index: int, statement: str, sqlstate: str | None, message: str
    ) -> None:
        self.filename = filename
        self.statement_index = index
        self.statement = statement
        self.sqlstate = sqlstate
        preview = " ".join(statement.split())
        if len(preview) > 200:
            preview = preview[:197] + "..."
        super().__init__(
            f"migration {filename} failed at statement {index + 1} "
            f"[{sqlstate or 'no SQLSTATE'}] {message.strip()}\n  statement: {preview}\n"
            "  the migration was rolled back; the database is as it was before it"
        )
        if sqlstate:
            self.code = sqlstate


class APIError(VidgenDBError):
    """The data API refused a request, or could not be reached.

    ``code`` is the SQLSTATE or PostgREST code the server sent (``"23505"``,
    ``"PGRST116"``, ``"VG101"``), else the class's ``default_code`` (a proxy's HTML error
    page, a network failure). ``message``, ``details`` and ``hint`` are the server's words:
    for logs, not for end users (``user_message`` is). ``status_code`` is
    ``upstream_status`` under its older name.
    """

    default_code = "api_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: str | None = None,
        hint: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details
        self.hint = hint
        self.upstream_status = status_code
        self.request_id = request_id
        self.http_status = self._answer_status()

    @property
    def status_code(self) -> int | None:
        """The data API's HTTP status (same as ``upstream_status``)."""
        return self.upstream_status

    def _answer_status(self) -> int:
        return type(self).http_status

    def __str__(self) -> str:
        parts = []
        if self.upstream_status is not None:
            parts.append(f"HTTP {self.upstream_status}")
        if self.code != self.default_code:
            parts.append(self.code)
        prefix = f"[{' '.join(parts)}] " if parts else ""
        text = prefix + self.message
        if self.details:
            text += f" (details: {self.details})"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, code={self.code!r}, "
            f"upstream_status={self.upstream_status!r})"
        )


class BadRequestError(APIError):
    """The request or its values were refused as invalid (HTTP 400)."""

    http_status = 400
    default_code = "bad_request"
    default_user_message = "The request is not valid."


class CheckViolationError(BadRequestError):
    """A value broke a CHECK constraint (SQLSTATE 23514)."""

    http_status = 422
    default_user_message = "A value is out of range or not allowed."


class AuthenticationError(APIError):
    """The JWT was missing, invalid or expired (HTTP 401)."""

    http_status = 401
    default_code = "unauthenticated"
    default_user_message = "Please sign in again."


class PermissionDeniedError(APIError):
    """Row level security or a grant refused the request (42501, HTTP 401/403). Answered
    401 when the caller was anonymous (upstream 401), else 403."""

    http_status = 403
    default_code = "permission_denied"
    default_user_message = "You are not allowed to do that."

    def _answer_status(self) -> int:
        return 401 if self.upstream_status == 401 else 403


class NotFoundError(APIError):
    """No such row, user, job, table or function; also what RLS makes of another user's
    row."""

    http_status = 404
    default_code = "not_found"
    default_user_message = "Not found."


class ConflictError(APIError):
    """The request conflicts with the database's current state (HTTP 409)."""

    http_status = 409
    default_code = "conflict"
    default_user_message = "That conflicts with the current state. Reload and try again."


class UniqueViolationError(ConflictError):
    """A row with the same key exists (SQLSTATE 23505)."""

    default_user_message = "That already exists."


class ForeignKeyViolationError(ConflictError):
    """A referenced row does not exist, or is still referenced (SQLSTATE 23503)."""

    default_user_message = "That refers to something that does not exist, or is still in use."


class IdempotencyKeyReusedError(ConflictError):
    """An idempotency key was used again with different arguments (VG107): the first
    request's result stands; use a new key for a new request."""

    default_user_message = "This request was already made with different values."


class _JobError(ConflictError):
    """A conflict about one job; ``job_id`` is the job the server named."""

    @property
    def job_id(self) -> UUID | None:
        """The job the server named, if it named one."""
        return _uuid_after("job", self.message)


class CreditStateError(_JobError):
    """A job's credits are not in a state for this (already settled or refunded, ...)."""

    default_user_message = "The credits of this job were already settled or refunded."


class IllegalJobTransitionError(_JobError):
    """A job status move the pipeline forbids (VG201); ``from_status`` and ``to_status``
    name it."""

    default_user_message = "The video cannot do that in its current state."

    @property
    def from_status(self) -> str | None:
        """The job's status before the refused move."""
        found = _TRANSITION.search(self.message)
        return found.group(1) if found else None

    @property
    def to_status(self) -> str | None:
        """The status the refused move asked for."""
        found = _TRANSITION.search(self.message)
        return found.group(2) if found else None


class UnknownWorkerError(NotFoundError):
    """A worker claimed jobs without registering first (VG301)."""

    @property
    def worker_id(self) -> UUID | None:
        """The worker the server did not know."""
        return _uuid_after("worker", self.message)


class LeaseLostError(_JobError):
    """The worker's lease on the job is gone (VG302): it expired and the job was
    recovered, or another worker holds it now. Stop working on the job; nothing was
    changed."""


class JobCancelledError(_JobError):
    """The job's owner cancelled it while a worker held it (VG303). Stop working on it;
    failing it with the lease records the cancellation and refunds the credits."""

    default_user_message = "The video was cancelled."


class ActiveJobError(_JobError):
    """A project (or a job) with an active job cannot be deleted (VG304): cancel the job
    first. ``project_id`` or ``job_id`` names what was refused."""

    default_user_message = "A video is still being made. Cancel it first."

    @property
    def project_id(self) -> UUID | None:
        """The project whose deletion was refused, if it was a project."""
        return _uuid_after("project", self.message)


class InsufficientCreditsError(APIError):
    """The user's balance is too low (VG101); ``required`` and ``balance`` say by how
    much (``None`` if the server did not say)."""

    http_status = 402
    default_code = "insufficient_credits"
    default_user_message = "Not enough credits."

    @property
    def required(self) -> int | None:
        """The credits the request needed."""
        return self._amount("required", 0)

    @property
    def balance(self) -> int | None:
        """The user's balance when the request was refused."""
        return self._amount("balance", 1)

    @property
    def user_message(self) -> str:
        if self.required is not None and self.balance is not None:
            return f"Not enough credits: this needs {self.required} and you have {self.balance}."
        return self.default_user_message

    def _amount(self, key: str, position: int) -> int | None:
        detail = _json_object(self.details)
        value = detail.get(key) if detail else None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        found = _AMOUNTS.search(self.message)
        return int(found.group(position + 1)) if found else None


class ServerError(APIError):
    """The server failed in a way not worth retrying blindly (HTTP 5xx)."""

    default_code = "server_error"


class TransientError(APIError):
    """A failure worth retrying; vidgen_db already retried it when that was safe."""

    http_status = 503
    default_code = "unavailable"
    default_user_message = "The service is busy. Please try again in a moment."


class RateLimitError(TransientError):
    """Too many requests (HTTP 429): retried, after the server's Retry-After, when the
    request is safe to repeat."""

    http_status = 429
    default_code = "rate_limited"
    default_user_message = "Too many requests. Please slow down and try again."


class NetworkError(TransientError):
    """The connection could not be made, or broke."""

    default_code = "network_error"


class RequestTimeoutError(TransientError):
    """No answer in time."""

    default_code = "timeout"


class ServiceUnavailableError(TransientError):
    """A gateway or the API was unavailable (HTTP 502, 503, 504, 520)."""


class SerializationFailureError(TransientError):
    """The transaction was rolled back by a serialization failure or deadlock."""


_UUID = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_TRANSITION = re.compile(r"illegal job transition ([A-Z_]+) -> ([A-Z_]+)")
_AMOUNTS = re.compile(r"needs (-?\d+), the balance is (-?\d+)")


def _uuid_after(word: str, message: str) -> UUID | None:
    found = re.search(rf"\b{word} {_UUID}", message)
    return UUID(found.group(1)) if found else None


def _json_object(text: str | None) -> dict[str, object] | None:
    if not text or not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
