"""The ``vidgen-db`` command (``vidgen-db --help``; ``python -m vidgen_db`` runs it too).

One module per command group (``_migrations``, ``_gen``, ``_local``, ``_credits``,
``_jobs``), each registering its commands on the parser :func:`build_parser` makes.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
