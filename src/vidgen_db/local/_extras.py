"""Guards for the optional extras: a clear error naming the extra instead of a traceback."""

from __future__ import annotations

import importlib.util

from .._errors import MissingExtraError

__all__ = ["require_extra"]

#: The modules each extra brings, as ``import`` names.
EXTRAS: dict[str, tuple[str, ...]] = {
    "embedded": ("pgserver",),
    "local": ("pgserver", "starlette", "uvicorn"),
}


def require_extra(extra: str, feature: str) -> None:
    """MissingExtraError naming ``pip install "vidgen-db[<extra>]"`` unless every module
    of ``extra`` can be imported; ``feature`` says what needed it."""
    missing = [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"{feature} needs the '{extra}' extra ({', '.join(missing)} not installed): "
            f'pip install "vidgen-db[{extra}]"'
        )
