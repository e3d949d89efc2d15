"""The gateway's settings (the subset of PostgREST's configuration it honours)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["GatewayConfig", "TxEnd"]

TxEnd = Literal["commit", "commit-allow-override", "rollback", "rollback-allow-override"]


@dataclass(frozen=True)
class GatewayConfig:
    """How the gateway connects, authenticates and serves.

    ``db_url`` must connect as a role that may ``SET ROLE`` to every API role (a superuser or
    an authenticator role granted them). ``jwt_role_claim_key`` is a dotted path into the
    claims (``"role"``, ``"app_metadata.role"``). ``api_keys``, when given, lists the values
    the ``apikey`` header may take; otherwise any non-empty ``apikey`` is accepted.
    ``db_channel`` is the channel whose ``NOTIFY ..., 'reload schema'`` reloads the schema
    cache (``None`` disables listening). ``prepared_statements`` (PostgREST's
    ``db-prepared-statements``) lets connections prepare the statements they run often;
    behind a transaction-mode pooler that does not keep them, the gateway turns it off by
    itself on the first request that finds its statements gone (and runs it again).
    """

    db_url: str
    jwt_secret: str | None = None
    schemas: Sequence[str] = ("public",)
    anon_role: str | None = "anon"
    jwt_role_claim_key: str = "role"
    jwt_aud: str | None = None
    max_rows: int | None = None
    path_prefix: str = "/rest/v1"
    require_apikey: bool = True
    api_keys: frozenset[str] | None = None
    extra_search_path: Sequence[str] = ("public",)
    plan_enabled: bool = False
    aggregates_enabled: bool = False
    tx_end: TxEnd = "commit"
    pre_request: str | None = None
    db_channel: str | None = "pgrst"
    cors_allowed_origins: frozenset[str] | None = None
    pool_min_size: int = 1
    pool_max_size: int = 10
    pool_timeout: float = 10.0
    prepared_statements: bool = True

    @classmethod
    def supabase(cls, db_url: str, jwt_secret: str, **overrides: Any) -> GatewayConfig:
        """The settings of a hosted Supabase project's Data API (anon role ``anon``,
        ``db-extra-search-path = public, extensions``, ``db-max-rows = 1000``)."""
        values: dict[str, Any] = {
            "anon_role": "anon",
            "schemas": ("public",),
            "extra_search_path": ("public", "extensions"),
            "max_rows": 1000,
        }
        values.update(overrides)
        return cls(db_url=db_url, jwt_secret=jwt_secret, **values)

    def to_json(self) -> str:
        """The settings as JSON (for worker processes; it holds the JWT secret)."""
        values = {
            f.name: sorted(v) if isinstance(v := getattr(self, f.name), frozenset) else v
            for f in dataclasses.fields(self)
        }
        return json.dumps(values)

    @classmethod
    def from_json(cls, text: str) -> GatewayConfig:
        """The settings :meth:`to_json` wrote."""
        values: dict[str, Any] = json.loads(text)
        for name in ("api_keys", "cors_allowed_origins"):
            if values.get(name) is not None:
                values[name] = frozenset(values[name])
        return cls(**values)

    def __post_init__(self) -> None:
        if not self.schemas:
            raise ValueError("GatewayConfig.schemas must name at least one schema")
        object.__setattr__(self, "schemas", tuple(self.schemas))
        object.__setattr__(self, "extra_search_path", tuple(self.extra_search_path))
        object.__setattr__(self, "path_prefix", "/" + self.path_prefix.strip("/"))
        if self.path_prefix == "/":
            object.__setattr__(self, "path_prefix", "")
