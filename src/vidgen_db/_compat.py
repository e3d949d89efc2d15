"""What differs between the releases of vidgen_db's dependencies it supports."""

from __future__ import annotations

import functools
import inspect
import os
import ssl
from typing import Any, TypeVar

import certifi
from postgrest import AsyncPostgrestClient, SyncPostgrestClient

__all__ = [
    "POSTGREST_OPTIONS",
    "plain_context",
    "read_request",
    "rest_client_with_bearer",
    "tls_context",
]

R = TypeVar("R", AsyncPostgrestClient, SyncPostgrestClient)

#: Keyword arguments for postgrest-py's clients. Since 2.34 it retries requests itself,
#: by default; vidgen_db owns retries (only what is safe to repeat), so they are turned
#: off where they exist. Earlier releases do not retry and do not take the argument.
POSTGREST_OPTIONS: dict[str, Any] = (
    {"retry_enabled": False}
    if "retry_enabled" in inspect.signature(AsyncPostgrestClient.__init__).parameters
    else {}
)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The certificate store every https client shares, built once: httpx's default
    (certifi's bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set)."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    return ssl.create_default_context(cafile=certifi.where())


@functools.cache
def plain_context() -> ssl.SSLContext:
    """What clients of ``http://`` URLs hand httpx, which wants an SSL context even for
    plain HTTP: one, shared, with no certificate store (it is never used)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def read_request(builder: Any) -> tuple[Any, str, Any, Any, Any] | None:
    """``(session, method, path, headers, params)`` of a postgrest-py request builder,
    wherever the release keeps them (2.x: ``builder.request``; 1.x: the builder itself);
    None when it keeps them elsewhere (the caller then falls back to ``execute()``). The
    repositories send reads themselves, so the rows are validated straight from the JSON
    bytes instead of parsed twice."""
    target = getattr(builder, "request", builder)
    try:
        return target.session, target.http_method, target.path, target.headers, target.params
    except AttributeError:
        return None


def rest_client_with_bearer(template: R, bearer: str) -> R:
    """A copy of the postgrest-py client ``template`` that sends ``bearer``: the same URL,
    schema, options and HTTP client, headers of its own. A fraction of building a client
    (no URL or header parsing), and ``as_user`` builds one per request. Every supported
    postgrest-py keeps a client's state in its attributes, ``headers`` included."""
    client = object.__new__(type(template))
    client.__dict__.update(template.__dict__)
    client.headers = template.headers.copy()
    client.headers["Authorization"] = f"Bearer {bearer}"
    return client
