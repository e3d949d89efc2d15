"""vidgen_db: the typed data layer of the vidgen video-generation product on Supabase."""

from ._errors import (
    ConfigurationError,
    MigrationEditedError,
    MigrationError,
    MigrationFailedError,
    VidgenDBError,
)
from ._version import __version__

__all__ = [
    "ConfigurationError",
    "MigrationEditedError",
    "MigrationError",
    "MigrationFailedError",
    "VidgenDBError",
    "__version__",
]
