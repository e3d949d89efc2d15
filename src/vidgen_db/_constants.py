"""Default timeouts and retry settings of the clients, in one place."""

from __future__ import annotations

import httpx

#: Seconds for a whole request to be answered (supabase-py's default is 120).
DEFAULT_TIMEOUT_SECONDS = 10.0
#: Seconds to establish a connection.
DEFAULT_CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_TIMEOUT = httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, connect=DEFAULT_CONNECT_TIMEOUT_SECONDS)
#: One pool per client: connections kept for reuse, and at most this many at once.
DEFAULT_CONNECTION_LIMITS = httpx.Limits(
    max_connections=50, max_keepalive_connections=20, keepalive_expiry=30.0
)

#: Retries after the first attempt, for requests that are safe to repeat.
DEFAULT_MAX_RETRIES = 2
#: The most retries a client may be configured with.
MAX_RETRIES_ALLOWED = 10
#: Backoff: the first retry waits about this long, each next one twice as long ...
INITIAL_RETRY_DELAY = 0.5
#: ... but never longer than this, unless the server's Retry-After asks for more.
MAX_RETRY_DELAY = 8.0
#: Random extra delay, as a fraction of the delay, so that clients do not retry in step.
RETRY_JITTER = 0.25
#: A Retry-After longer than this is not waited for: the error is raised instead.
MAX_RETRY_AFTER = 60.0

#: With a read replica, how long a caller that wrote reads from the primary: well above
#: the replication lag Supabase's replicas usually show (under a second).
DEFAULT_READ_YOUR_WRITES_SECONDS = 5.0
