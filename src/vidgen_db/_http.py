# Generated from src/vidgen_db/_http_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""The HTTP layer under the clients: one connection pool, retries, errors mapped.

postgrest-py builds each request; it is sent through an httpx client whose transport
retries what is safe to retry (see ``_retry``), with tenacity, and turns every failure
into a vidgen_db error (see ``_error_mapping``). postgrest-py's own retrying is turned
off, so the two never stack.
"""

from __future__ import annotations

import httpx
from tenacity import RetryCallState, Retrying, stop_after_attempt

from ._constants import DEFAULT_CONNECTION_LIMITS, DEFAULT_TIMEOUT
from ._error_mapping import error_from_response, error_from_transport, is_transient_body
from ._retry import RetryPolicy, effective_max_retries, is_idempotent

__all__ = ["RetryTransport", "create_async_http_client"]

_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


class _RetryableResponse(Exception):
    """Internal: a response worth another attempt."""

    def __init__(self, response: httpx.Response, body: bytes) -> None:
        self.response = response
        self.body = body


class RetryTransport(httpx.BaseTransport):
    """Sends through ``inner``, retrying per ``policy``; raises vidgen_db errors."""

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy) -> None:
        self._inner = inner
        self._policy = policy

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        safe = is_idempotent(request, self._policy)

        def should_retry(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _RetryableResponse):
                rolled_back = exc.response.status_code == 500  # 40001/40P01: nothing applied
                if self._policy.delay(state.attempt_number, exc.response) is None:
                    return False  # Retry-After asks for longer than we wait
                return safe or rolled_back
            if isinstance(exc, _NEVER_SENT):
                return True
            return isinstance(exc, httpx.TransportError) and safe

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            response = exc.response if isinstance(exc, _RetryableResponse) else None
            return self._policy.delay(state.attempt_number, response) or 0.0

        retrying = Retrying(
            stop=stop_after_attempt(effective_max_retries(self._policy) + 1),
            retry=should_retry,
            wait=wait,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._send_once(request)
        except _RetryableResponse as last:
            raise error_from_response(
                last.response.status_code, last.body, last.response.reason_phrase
            ) from None
        except httpx.TransportError as exc:
            raise error_from_transport(exc) from exc
        if response.status_code >= 400:
            body = response.read()
            response.close()
            raise error_from_response(response.status_code, body, response.reason_phrase)
        return response

    def _send_once(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if response.status_code >= 500:
            body = response.read()
            response.close()
            if is_transient_body(response.status_code, body):
                raise _RetryableResponse(response, body)
            return httpx.Response(
                response.status_code, headers=response.headers, content=body, request=request
            )
        return response

    def close(self) -> None:
        self._inner.close()


def create_async_http_client(
    policy: RetryPolicy,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    inner: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """One pooled HTTP/1.1 client (HTTP/2 connections go stale behind some proxies)."""
    transport = inner or httpx.HTTPTransport(limits=DEFAULT_CONNECTION_LIMITS, http2=False)
    return httpx.Client(
        transport=RetryTransport(transport, policy),
        timeout=timeout,
        follow_redirects=False,
    )
