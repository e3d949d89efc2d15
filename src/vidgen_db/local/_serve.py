"""``vidgen-db serve``: the local stack in the foreground, until Ctrl-C.

PostgreSQL (the embedded server in the per-user data folder, or ``database_url``), vidgen's
migrations, and the PostgREST-compatible gateway on ``host:port``, with an anon key and a
service-role key signed with a fresh JWT secret (or ``jwt_secret``), printed for
supabase-py / supabase-js. A development tool: it binds to 127.0.0.1 by default.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import psycopg

from .._errors import VidgenDBError
from ..migrate._dsn import redact
from ._embedded import default_data_dir
from ._local_stack import LocalStack

__all__ = ["serve"]


def _banner(url: str, anon_key: str, service_key: str, jwt_secret: str, database_url: str) -> str:
    return "\n".join(
        [
            "vidgen-db local stack is running (Ctrl-C to stop)",
            "",
            f"  API URL           {url}",
            f"  REST URL          {url}/rest/v1",
            f"  anon key          {anon_key}",
            f"  service_role key  {service_key}",
            f"  JWT secret        {jwt_secret}",
            f"  DB URL            {redact(database_url)}",
            "",
            "  supabase-py:  create_client(API_URL, ANON_KEY)",
            "  supabase-js:  createClient(API_URL, ANON_KEY)",
            "  environment (vidgen_db: VidgenDB.from_env()):",
            f"    export SUPABASE_URL={url}",
            f"    export SUPABASE_ANON_KEY={anon_key}",
            f"    export SUPABASE_SERVICE_ROLE_KEY={service_key}",
            "",
        ]
    )


def serve(
    *,
    port: int = 54321,
    database_url: str | None = None,
    migrate: bool = True,
    schemas: Sequence[str] = ("public",),
    anon_role: str | None = "anon",
    jwt_secret: str | None = None,
    host: str = "127.0.0.1",
    migrations_dir: Path | None = None,
    workers: int = 1,
    plan_enabled: bool = False,
) -> int:
    """Run the local stack until interrupted (SIGINT or SIGTERM); returns the exit status.

    Without ``database_url`` the data lives in the embedded PostgreSQL of the other
    ``vidgen-db`` commands (per-user folder, ``VIDGEN_DB_DATA_DIR`` overrides), so it
    survives restarts. ``migrate=False`` serves the database as it is. ``workers``: gateway
    processes (one event loop each); ``plan_enabled``: answer ``Accept:
    application/vnd.pgrst.plan`` with the query plan (PostgREST's ``db-plan-enabled``).
    """
    stack = LocalStack(
        database_url=database_url,
        migrate=migrate,
        host=host,
        port=port,
        schemas=schemas,
        anon_role=anon_role,
        jwt_secret=jwt_secret,
        data_dir=None if database_url else default_data_dir(),
        migrations_dir=migrations_dir,
        gateway_options={"plan_enabled": True} if plan_enabled else None,
        workers=workers,
    )
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: cannot serve on {host}:{port} ({exc}; is the port in use?)", file=sys.stderr)
        return 1
    except psycopg.OperationalError as exc:
        print(f"error: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    except (VidgenDBError, psycopg.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        print(
            _banner(
                stack.url, stack.anon_key, stack.service_key, stack.jwt_secret, stack.database_url
            ),
            flush=True,
        )
        while not stop.wait(0.25):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", file=sys.stderr, flush=True)
        stack.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print("stopped", file=sys.stderr, flush=True)
    return 0
