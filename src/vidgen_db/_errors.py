"""The exceptions vidgen_db raises.

Every error the SDK raises derives from one root, so callers can catch it in one place::

    VidgenDBError
     ├── InvalidArgumentError          a bad argument, refused before sending (also a ValueError)
     ├── ConfigurationError            bad settings: a missing URL, a key of the wrong kind
     │    └── MissingExtraError        an optional extra is not installed (also an ImportError)
     ├── WatchTimeoutError             jobs.watch() timed out: the job is not done (a TimeoutError)
     ├── MigrationError                a migration could not be applied or the history disagrees
     │    ├── MigrationEditedError     an applied migration file was changed afterwards
     │    └── MigrationFailedError     a statement failed; the database is left as it was
     └── APIError                      the data API (PostgREST) refused a request
          ├── BadRequestError          400: malformed input the database refused
          │    └── CheckViolationError       23514: a CHECK constraint
          ├── AuthenticationError      401: missing, invalid or expired JWT
          ├── PermissionDeniedError    403: RLS or grants (42501)
          ├── NotFoundError            404: no such row, user, job, table or function
          │    └── UnknownWorkerError          VG301: a worker that never registered
          ├── ConflictError            409
          │    ├── UniqueViolationError        23505
          │    ├── ForeignKeyViolationError    23503
          │    ├── CreditStateError            the job's credits are not in a state for this
          │    ├── IllegalJobTransitionError   a job status move the pipeline forbids
          │    ├── LeaseLostError              VG302: the worker no longer holds the job
          │    ├── JobCancelledError           VG303: the job's owner cancelled it
          │    └── ActiveJobError              VG304: a project or job with an active job
          ├── InsufficientCreditsError the balance is too low
          ├── ServerError              500 and other unexpected statuses
          └── TransientError           worth retrying (vidgen_db retries these itself when safe)
               ├── RateLimitError            429: too many requests (Retry-After honoured)
               ├── NetworkError              the connection failed or broke
               ├── RequestTimeoutError       no answer in time
               ├── ServiceUnavailableError   502, 503, 504, 520
               └── SerializationFailureError 40001, 40P01: the transaction was rolled back

An ``APIError`` carries what PostgREST said (``code``, ``message``, ``details``, ``hint``)
and the HTTP ``status_code``. ``vidgen_db._error_mapping`` is the one place that turns
responses and transport failures into these classes.
"""

from __future__ import annotations

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
    """Root of every error raised by vidgen_db."""


class InvalidArgumentError(VidgenDBError, ValueError):
    """An argument the SDK refuses before sending anything (a negative amount, a page size
    out of range, a field the caller may not set): both a VidgenDBError and a ValueError."""


class ConfigurationError(VidgenDBError):
    """The SDK was configured in a way it cannot work with."""


class WatchTimeoutError(VidgenDBError, TimeoutError):
    """``jobs.watch(timeout=...)`` ran out before the job was READY or FAILED. Not a
    transient error: the job is simply not done; watch again (or longer) if it should be."""


class MissingExtraError(ConfigurationError, ImportError):
    """A feature needs an optional extra that is not installed; the message says which
    (``pip install "vidgen-db[local]"``)."""


class MigrationError(VidgenDBError):
    """A migration could not be applied, or the recorded history disagrees with the files."""


class MigrationEditedError(MigrationError):
    """A migration file was changed after it had been applied."""

    def __init__(self, version: str, filename: str) -> None:
        self.version = version
        self.filename = filename
        super().__init__(
            f"migration {filename} was edited after it was applied (version {version}); "
            "never change an applied migration: add a new one with 'vidgen-db new NAME'"
        )


class MigrationFailedError(MigrationError):
    """A statement of a migration failed; its transaction was rolled back."""

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


class APIError(VidgenDBError):
    """The data API refused a request, or could not be reached.

    ``code`` is the SQLSTATE or PostgREST code (``"23505"``, ``"PGRST116"``, ``"VG101"``),
    ``None`` when the response had none (a proxy's HTML error page, a network failure).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: str | None = None,
        hint: str | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.details = details
        self.hint = hint
        self.status_code = status_code
        super().__init__(message)

    def __str__(self) -> str:
        parts = []
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        if self.code:
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
            f"status_code={self.status_code!r})"
        )


class BadRequestError(APIError):
    """The request or its values were refused as invalid (HTTP 400)."""


class CheckViolationError(BadRequestError):
    """A value broke a CHECK constraint (SQLSTATE 23514)."""


class AuthenticationError(APIError):
    """The JWT was missing, invalid or expired (HTTP 401)."""


class PermissionDeniedError(APIError):
    """Row level security or a grant refused the request (42501, HTTP 401/403)."""


class NotFoundError(APIError):
    """No such row, user, job, table or function."""


class ConflictError(APIError):
    """The request conflicts with the database's current state (HTTP 409)."""


class UniqueViolationError(ConflictError):
    """A row with the same key exists (SQLSTATE 23505)."""


class ForeignKeyViolationError(ConflictError):
    """A referenced row does not exist, or is still referenced (SQLSTATE 23503)."""


class CreditStateError(ConflictError):
    """A job's credits are not in a state for this (already settled or refunded, ...)."""


class IllegalJobTransitionError(ConflictError):
    """A job status move the pipeline forbids (VG201)."""


class UnknownWorkerError(NotFoundError):
    """A worker claimed jobs without registering first (VG301)."""


class LeaseLostError(ConflictError):
    """The worker's lease on the job is gone (VG302): it expired and the job was
    recovered, or another worker holds it now. Stop working on the job; nothing was
    changed."""


class JobCancelledError(ConflictError):
    """The job's owner cancelled it while a worker held it (VG303). Stop working on it;
    failing it with the lease records the cancellation and refunds the credits."""


class ActiveJobError(ConflictError):
    """A project (or a job) with an active job cannot be deleted (VG304): cancel the job
    first."""


class InsufficientCreditsError(APIError):
    """The user's balance is too low (VG101)."""


class ServerError(APIError):
    """The server failed in a way not worth retrying blindly (HTTP 5xx)."""


class TransientError(APIError):
    """A failure worth retrying; vidgen_db already retried it when that was safe."""


class RateLimitError(TransientError):
    """Too many requests (HTTP 429): retried, after the server's Retry-After, when the
    request is safe to repeat."""


class NetworkError(TransientError):
    """The connection could not be made, or broke."""


class RequestTimeoutError(TransientError):
    """No answer in time."""


class ServiceUnavailableError(TransientError):
    """A gateway or the API was unavailable (HTTP 502, 503, 504, 520)."""


class SerializationFailureError(TransientError):
    """The transaction was rolled back by a serialization failure or deadlock."""
