"""Test tools: the pytest plugin and the stacks and tokens test suites use.

The pytest plugin (``vidgen_stack``, ``vidgen_db_isolated``, ``vidgen_service``,
``vidgen_user_factory``) is registered automatically when vidgen-db is installed; see
``docs/local-stack.md``. The names below are re-exported from :mod:`vidgen_db.local`:
``LocalStack`` runs PostgreSQL with vidgen's migrations behind the PostgREST-compatible
gateway (the ``local`` extra), ``LiveStack`` is the same interface over a real Supabase
project, and the token helpers sign keys and access tokens with a secret chosen at run time.
``UserFactory`` is the type of the ``vidgen_user_factory`` fixture.
"""

from ..local import (
    LIVE_ENV,
    LiveStack,
    LocalStack,
    Stack,
    make_access_token,
    make_api_key,
    new_jwt_secret,
    sign_jwt,
)
from ._plugin import UserFactory

__all__ = [
    "LIVE_ENV",
    "LiveStack",
    "LocalStack",
    "Stack",
    "UserFactory",
    "make_access_token",
    "make_api_key",
    "new_jwt_secret",
    "sign_jwt",
]
