"""Test and development tools: a local Supabase-like stack and a pytest plugin.

``LocalStack`` runs PostgreSQL (embedded, or a server you name) with vidgen's migrations
behind the PostgREST-compatible gateway on 127.0.0.1, with freshly signed keys, so the SDK
(and supabase-py / supabase-js) can be used end to end without Docker. ``LiveStack`` gives
the same interface over a real Supabase project. The pytest plugin (``vidgen_stack``,
``vidgen_db_isolated``, ``vidgen_service``, ``vidgen_user_factory``) is registered
automatically when vidgen-db is installed; see ``docs/local-stack.md``.

The local stack needs the ``local`` extra (``pip install "vidgen-db[local]"``).
"""

from ._base import Stack
from ._live import LIVE_ENV, LiveStack
from ._local import LocalStack
from ._tokens import make_access_token, make_api_key, new_jwt_secret, sign_jwt

__all__ = [
    "LIVE_ENV",
    "LiveStack",
    "LocalStack",
    "Stack",
    "make_access_token",
    "make_api_key",
    "new_jwt_secret",
    "sign_jwt",
]
