# Generated from src/vidgen_db/_http_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""The HTTP layer under the clients: one connection pool, retries, errors mapped.

postgrest-py builds each request; it is sent through an httpx client whose transport
retries what is safe to retry (see ``_retry``), with tenacity, and turns every failure
into a vidgen_db error (see ``_error_mapping``). postgrest-py's own retrying is turned
off, so the two never stack. A request that succeeds at once creates no retry machinery:
tenacity takes over only after a first failure. Each retry is logged at DEBUG on the
``vidgen_db.http`` logger (method, path, attempt, delay, reason).
"""

from __future__ import annotations

import logging

import httpx
from tenacity import RetryCallState, Retrying, stop_after_attempt

from ._compat import plain_context, tls_context
from ._constants import DEFAULT_CONNECTION_LIMITS, DEFAULT_TIMEOUT
from ._error_mapping import (
    RATE_LIMITED,
    error_from_response,
    error_from_transport,
    is_transient_body,
)
from ._errors import TransientError
from ._replicas import ReplicaRouter
from ._retry import RetryPolicy, effective_max_retries, is_idempotent

__all__ = [
    "ReplicaTransport",
    "RetryTransport",
    "create_http_client",
    "pooled_transport",
]

logger = logging.getLogger("vidgen_db.http")

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


class _RetryableResponse(Exception):
    """Internal: a response worth another attempt."""

    def __init__(self, response: httpx.Response, body: bytes) -> None:
        self.response = response
        self.body = body


def _reason(exc: BaseException | None) -> str:
    if isinstance(exc, _RetryableResponse):
        after = exc.response.headers.get("retry-after")
        return f"HTTP {exc.response.status_code}" + (f" (Retry-After {after})" if after else "")
    return type(exc).__name__


class RetryTransport(httpx.BaseTransport):
    """Sends through ``inner``, retrying per ``policy``; raises vidgen_db errors."""

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy) -> None:
        self._inner = inner
        self._policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._send_once(request)
        except (_RetryableResponse, httpx.TransportError) as failure:
            response = self._retry(request, failure)
        if response.status_code >= 400:
            body = response.read()
            response.close()
            raise error_from_response(
                response.status_code, body, response.reason_phrase, response.headers
            )
        return response

    def _retry(self, request: httpx.Request, failure: Exception) -> httpx.Response:
        """The attempts after a failed first one, while the policy allows; raises the last
        failure as a vidgen_db error."""
        safe = is_idempotent(request, self._policy)
        replay: list[Exception] = [failure]

        def attempt() -> httpx.Response:
            if replay:
                raise replay.pop()  # the first attempt's failure, already had
            return self._send_once(request)

        def should_retry(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _RetryableResponse):
                if self._policy.delay(state.attempt_number, exc.response) is None:
                    return False  # Retry-After asks for longer than we wait
                # A rolled-back transaction (40001/40P01, HTTP 500) applied nothing.
                return safe or exc.response.status_code == 500
            if isinstance(exc, _NEVER_SENT):
                return True
            return isinstance(exc, httpx.TransportError) and safe

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            response = exc.response if isinstance(exc, _RetryableResponse) else None
            return self._policy.delay(state.attempt_number, response) or 0.0

        def log(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            logger.debug(
                "retrying %s %s (retry %d of %d) in %.2f s: %s",
                request.method,
                request.url.path,
                state.attempt_number,
                effective_max_retries(self._policy),
                delay,
                _reason(exc),
            )

        retrying = Retrying(
            stop=stop_after_attempt(effective_max_retries(self._policy) + 1),
            retry=should_retry,
            wait=wait,
            before_sleep=log,
            reraise=True,
        )
        try:
            response: httpx.Response = retrying(attempt)
        except _RetryableResponse as last:
            raise error_from_response(
                last.response.status_code,
                last.body,
                last.response.reason_phrase,
                last.response.headers,
            ) from None
        except httpx.TransportError as exc:
            raise error_from_transport(exc) from exc
        return response

    def _send_once(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        status = response.status_code
        if status >= 500 or status == RATE_LIMITED:
            body = response.read()
            response.close()
            if status == RATE_LIMITED or is_transient_body(status, body):
                raise _RetryableResponse(response, body)
            return httpx.Response(status, headers=response.headers, content=body, request=request)
        return response

    def close(self) -> None:
        self._inner.close()


class ReplicaTransport(httpx.BaseTransport):
    """Sends the reads ``router`` allows to the read replica, the rest to the primary; a
    read the replica could not serve (down, unreachable, overloaded, after retries) is
    sent to the primary."""

    def __init__(self, inner: httpx.BaseTransport, router: ReplicaRouter) -> None:
        self._inner = inner
        self._router = router

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        routed = self._router.to_replica(request)
        if routed is None:
            return self._inner.handle_request(request)
        try:
            return self._inner.handle_request(routed)
        except TransientError as exc:
            logger.warning("the read replica failed (%s): reading from the primary", exc)
            return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def pooled_transport(*, tls: bool = True) -> httpx.HTTPTransport:
    """The connection pool: HTTP/1.1 (HTTP/2 connections go stale behind some proxies).
    No pool builds an SSL context of its own: https pools share one certificate store
    (building it costs tens of milliseconds), ``http://`` ones (``tls=False``) need none."""
    return httpx.HTTPTransport(
        limits=DEFAULT_CONNECTION_LIMITS,
        http2=False,
        verify=tls_context() if tls else plain_context(),
    )


def create_http_client(
    policy: RetryPolicy,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    inner: httpx.BaseTransport | None = None,
    router: ReplicaRouter | None = None,
) -> httpx.Client:
    """An HTTP client sending through ``inner`` (a new pool by default) with ``policy``'s
    retries, and reads to a replica when there is a ``router``; clients with other
    timeouts or retries may share one pool (and one router)."""
    transport: httpx.BaseTransport = RetryTransport(inner or pooled_transport(), policy)
    if router is not None:
        transport = ReplicaTransport(transport, router)
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)
