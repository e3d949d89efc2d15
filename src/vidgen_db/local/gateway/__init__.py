"""A PostgREST-compatible HTTP gateway, for running the SDK end to end without PostgREST.

``create_app(GatewayConfig(db_url=..., jwt_secret=...))`` returns an ASGI app that serves
``/rest/v1`` the way Supabase's API gateway and PostgREST do; ``serve_in_thread`` runs it
with uvicorn in a thread, ``run_server`` / ``serve_in_process`` with several worker
processes. See ``docs/local-stack.md``. Needs the ``local`` extra.
"""

from .._extras import require_extra

require_extra("local", "vidgen_db.local.gateway")

from ._app import Gateway, create_app  # noqa: E402
from ._config import GatewayConfig, TxEnd  # noqa: E402
from ._errors import ApiError  # noqa: E402
from ._jwt import decode_jwt  # noqa: E402
from ._server import run_server, serve_in_process, serve_in_thread  # noqa: E402

__all__ = [
    "ApiError",
    "Gateway",
    "GatewayConfig",
    "TxEnd",
    "create_app",
    "decode_jwt",
    "run_server",
    "serve_in_process",
    "serve_in_thread",
]
