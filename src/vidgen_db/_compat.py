"""What differs between the releases of vidgen_db's dependencies it supports."""

from __future__ import annotations

import inspect
from typing import Any

from postgrest import AsyncPostgrestClient

__all__ = ["POSTGREST_OPTIONS"]

#: Keyword arguments for postgrest-py's clients. Since 2.34 it retries requests itself,
#: by default; vidgen_db owns retries (only what is safe to repeat), so they are turned
#: off where they exist. Earlier releases do not retry and do not take the argument.
POSTGREST_OPTIONS: dict[str, Any] = (
    {"retry_enabled": False}
    if "retry_enabled" in inspect.signature(AsyncPostgrestClient.__init__).parameters
    else {}
)
