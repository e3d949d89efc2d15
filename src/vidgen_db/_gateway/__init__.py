"""A PostgREST-compatible HTTP gateway, for running the SDK end to end without PostgREST.

``create_app(GatewayConfig(db_url=..., jwt_secret=...))`` returns an ASGI app that serves
``/rest/v1`` the way Supabase's API gateway and PostgREST do. See ``docs/local-stack.md``.
"""

from ._app import Gateway, create_app
from ._config import GatewayConfig, TxEnd
from ._errors import ApiError
from ._jwt import decode_jwt, encode_jwt
from ._server import serve_in_thread

__all__ = [
    "ApiError",
    "Gateway",
    "GatewayConfig",
    "TxEnd",
    "create_app",
    "decode_jwt",
    "encode_jwt",
    "serve_in_thread",
]
