"""The local stack: a Supabase-like project on this machine, without Docker.

PostgreSQL (the embedded server, or yours), vidgen's migrations, and the
PostgREST-compatible gateway (:mod:`vidgen_db.local.gateway`) on 127.0.0.1 with freshly
signed keys: :class:`LocalStack` in Python, ``vidgen-db serve`` in a terminal,
``vidgen-db demo`` to watch the product's path end to end. :class:`LiveStack` gives the
same interface over a real Supabase project.

Everything here imports with the base install; starting a stack needs the ``local``
extra (``pip install "vidgen-db[local]"``), and says so when it is missing. The runtime
SDK never imports this package.
"""

from ._demo import DemoError, run_demo
from ._embedded import EmbeddedPostgres, default_data_dir, start_embedded, temporary_embedded
from ._live_stack import LIVE_ENV, LiveStack
from ._local_stack import LocalStack
from ._serve import serve
from ._stack import Stack
from ._tokens import make_access_token, make_api_key, new_jwt_secret, sign_jwt

__all__ = [
    "LIVE_ENV",
    "DemoError",
    "EmbeddedPostgres",
    "LiveStack",
    "LocalStack",
    "Stack",
    "default_data_dir",
    "make_access_token",
    "make_api_key",
    "new_jwt_secret",
    "run_demo",
    "serve",
    "sign_jwt",
    "start_embedded",
    "temporary_embedded",
]
