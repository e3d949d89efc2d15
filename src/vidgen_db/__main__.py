"""``python -m vidgen_db`` runs the ``vidgen-db`` command."""

import sys

from ._cli import main

sys.exit(main())
