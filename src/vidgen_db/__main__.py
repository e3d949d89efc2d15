"""``python -m vidgen_db`` runs the ``vidgen-db`` command."""

import sys

from .cli import main

sys.exit(main())
