"""Configuration from the environment, as settings models.

``SupabaseSettings`` reads Supabase's usual variables (``SUPABASE_URL``,
``SUPABASE_ANON_KEY``, ``SUPABASE_SERVICE_ROLE_KEY``); ``ClientSettings`` the client's
tuning, prefixed ``VIDGEN_DB_`` (``VIDGEN_DB_TIMEOUT=5``, ``VIDGEN_DB_MAX_RETRIES=0``...).
"""

from __future__ import annotations

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._constants import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_READ_YOUR_WRITES_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    INITIAL_RETRY_DELAY,
    MAX_RETRIES_ALLOWED,
    MAX_RETRY_DELAY,
)
from ._retry import RetryPolicy

__all__ = ["ClientSettings", "SupabaseSettings"]


class SupabaseSettings(BaseSettings):
    """Where the project is and its keys; secrets never show in reprs."""

    model_config = SettingsConfigDict(env_prefix="SUPABASE_", extra="ignore")

    url: str | None = None
    #: A read replica's API URL (``SUPABASE_READ_URL``): reads go there (docs/scaling.md).
    read_url: str | None = None
    anon_key: SecretStr | None = None
    service_role_key: SecretStr | None = None


class ClientSettings(BaseSettings):
    """Timeouts and retries of a client (env prefix ``VIDGEN_DB_``)."""

    model_config = SettingsConfigDict(env_prefix="VIDGEN_DB_", extra="ignore")

    timeout: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0)
    connect_timeout: float = Field(default=DEFAULT_CONNECT_TIMEOUT_SECONDS, gt=0)
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, le=MAX_RETRIES_ALLOWED)
    initial_retry_delay: float = Field(default=INITIAL_RETRY_DELAY, ge=0)
    max_retry_delay: float = Field(default=MAX_RETRY_DELAY, ge=0)
    #: With a read replica: seconds for which a caller that wrote reads from the primary.
    read_your_writes: float = Field(default=DEFAULT_READ_YOUR_WRITES_SECONDS, ge=0)

    def http_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=self.connect_timeout)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_retries=self.max_retries,
            initial_delay=self.initial_retry_delay,
            max_delay=self.max_retry_delay,
        )
