"""The service's configuration, read from the environment at start-up."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """``SUPABASE_URL``, ``SUPABASE_ANON_KEY``, ``SUPABASE_SERVICE_ROLE_KEY`` and
    ``PAYMENT_WEBHOOK_SECRET`` (the secret the payment provider signs its webhooks with);
    the keys are ``SecretStr``, never shown in a repr or a log."""

    model_config = SettingsConfigDict(extra="ignore")

    supabase_url: str
    supabase_anon_key: SecretStr
    supabase_service_role_key: SecretStr
    payment_webhook_secret: SecretStr
    #: The price of a video: credits per minute of its target length.
    credits_per_minute: int = Field(default=2, ge=1)

    @classmethod
    def from_env(cls) -> Settings:
        # pydantic-settings fills the fields from the environment, which mypy cannot know.
        return cls()  # type: ignore[call-arg]
