"""vidgen_db: the typed data layer of the vidgen video-generation product on Supabase.

Clients: :class:`VidgenDB` and :class:`AsyncVidgenDB` (``.service()``, ``.for_user()``,
``.anonymous()``, ``.from_env()``, ``.from_supabase()``). Models: :mod:`vidgen_db.models`.
Errors: one tree rooted at :class:`VidgenDBError`, each with ``http_status``, ``code`` and
``user_message`` (docs/errors.md).
"""

from ._client import AnonDB, ServiceDB, UserDB, VidgenDB
from ._client_async import AsyncAnonDB, AsyncServiceDB, AsyncUserDB, AsyncVidgenDB
from ._errors import (
    ActiveJobError,
    APIError,
    AuthenticationError,
    BadRequestError,
    CheckViolationError,
    ConfigurationError,
    ConflictError,
    CreditStateError,
    ForeignKeyViolationError,
    IdempotencyKeyReusedError,
    IllegalJobTransitionError,
    InsufficientCreditsError,
    InvalidArgumentError,
    JobCancelledError,
    LeaseLostError,
    MigrationEditedError,
    MigrationError,
    MigrationFailedError,
    MissingExtraError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    SerializationFailureError,
    ServerError,
    ServiceUnavailableError,
    TransientError,
    UniqueViolationError,
    UnknownWorkerError,
    VidgenDBError,
    WatchTimeoutError,
)
from ._retry import RetryPolicy, retry_options
from ._settings import ClientSettings, SupabaseSettings
from ._version import __version__
from .repos import Cursor, Page
from .repos._jobs_step import RunningStep
from .repos._jobs_step_async import AsyncRunningStep

__all__ = [
    "APIError",
    "ActiveJobError",
    "AnonDB",
    "AsyncAnonDB",
    "AsyncRunningStep",
    "AsyncServiceDB",
    "AsyncUserDB",
    "AsyncVidgenDB",
    "AuthenticationError",
    "BadRequestError",
    "CheckViolationError",
    "ClientSettings",
    "ConfigurationError",
    "ConflictError",
    "CreditStateError",
    "Cursor",
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
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "RetryPolicy",
    "RunningStep",
    "SerializationFailureError",
    "ServerError",
    "ServiceDB",
    "ServiceUnavailableError",
    "SupabaseSettings",
    "TransientError",
    "UniqueViolationError",
    "UnknownWorkerError",
    "UserDB",
    "VidgenDB",
    "VidgenDBError",
    "WatchTimeoutError",
    "__version__",
    "retry_options",
]
