"""Serving the gateway with uvicorn from a background thread (tests, ``vidgen-db serve``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from ._app import create_app
from ._config import GatewayConfig

__all__ = ["serve_in_thread"]


@contextmanager
def serve_in_thread(
    config: GatewayConfig, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 20.0
) -> Iterator[str]:
    """Run the gateway under uvicorn in a daemon thread; yields its base URL (with the prefix).

    ``port=0`` picks a free port. The server stops (and its pool closes) when the block exits.
    """
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host=host, port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="vidgen-db-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the gateway server stopped during startup")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError("the gateway server did not start in time")
        time.sleep(0.01)
    try:
        bound = server.servers[0].sockets[0].getsockname()
        yield f"http://{host}:{bound[1]}{config.path_prefix}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
