"""Serving the gateway with uvicorn: in a background thread (tests, the local stack), in the
foreground, or with several worker processes (one event loop per process) in a child process.

Worker processes get the configuration from an environment variable (it holds the JWT
secret: it is passed to child processes only, never on a command line).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette

from ._app import create_app
from ._config import GatewayConfig

__all__ = ["run_server", "serve_in_process", "serve_in_thread"]

_CONFIG_ENV = "VIDGEN_GATEWAY_CONFIG"
_FACTORY = "vidgen_db.local.gateway._server:app_from_environment"


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


def app_from_environment() -> Starlette:
    """The app of a worker process (uvicorn's factory), configured by its parent."""
    return create_app(GatewayConfig.from_json(os.environ[_CONFIG_ENV]))


def run_server(
    config: GatewayConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 54321,
    workers: int = 1,
    log_level: str = "warning",
) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; ``workers > 1``: that many processes,
    each with its own event loop, connection pool (``pool_max_size`` each) and schema cache,
    sharing the listening socket (uvicorn's workers)."""
    if workers <= 1:
        uvicorn.run(create_app(config), host=host, port=port, log_level=log_level)
        return
    os.environ[_CONFIG_ENV] = config.to_json()
    uvicorn.run(_FACTORY, factory=True, host=host, port=port, workers=workers, log_level=log_level)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _answers(host: str, port: int) -> bool:
    """Whether an HTTP server answers on host:port (any response: a worker has started)."""
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


@contextmanager
def serve_in_process(
    config: GatewayConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    workers: int = 2,
    startup_timeout: float = 60.0,
) -> Iterator[str]:
    """Run the gateway with ``workers`` processes (:func:`run_server` in a child process);
    yields its base URL. ``port=0`` picks a free port. Stops the workers when the block exits."""
    port = port or _free_port(host)
    env = dict(os.environ, **{_CONFIG_ENV: config.to_json()})
    args = ["--host", host, "--port", str(port), "--workers", str(workers)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vidgen_db.local.gateway._server", *args],
            env=env,
            stderr=errors,
        )
        try:
            deadline = time.monotonic() + startup_timeout
            while not _answers(host, port):
                if proc.poll() is not None:
                    errors.seek(0)
                    text = errors.read().decode(errors="replace").strip()
                    raise RuntimeError(f"the gateway workers stopped during startup: {text}")
                if time.monotonic() > deadline:
                    raise TimeoutError("the gateway workers did not start in time")
                time.sleep(0.05)
            yield f"http://{host}:{port}{config.path_prefix}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m vidgen_db.local.gateway._server``: the child of :func:`serve_in_process`."""
    parser = argparse.ArgumentParser(description="the gateway's worker processes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    config = GatewayConfig.from_json(os.environ[_CONFIG_ENV])
    run_server(config, host=args.host, port=args.port, workers=args.workers)


if __name__ == "__main__":
    main()
