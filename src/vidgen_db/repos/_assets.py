# Generated from src/vidgen_db/repos/_assets_async.py by tools/async_to_sync.py: do not edit.
# Change the async source and run `python tools/async_to_sync.py`.
"""Assets: the files a job produced (video, audio, images, captions...). Users read their
jobs' assets; the worker records and removes them."""

from __future__ import annotations

import builtins
import uuid
from uuid import UUID

from ..models import Asset, AssetInsert
from ._base import Repository

__all__ = ["Assets", "ServiceAssets"]


class Assets(Repository):
    """``db.assets`` of a user client (read only)."""

    def list(self, job_id: UUID) -> builtins.list[Asset]:
        """The job's assets, oldest first."""
        query = (
            self._rest.table("assets")
            .select("*")
            .eq("job_id", str(job_id))
            .order("created_at")
            .order("id")
        )
        return self._all(Asset, query)

    def get(self, asset_id: UUID) -> Asset:
        """The asset; NotFoundError if there is none (or it is not the user's)."""
        return self._get("assets", Asset, "id", asset_id)


class ServiceAssets(Assets):
    """``db.assets`` of the service client."""

    def create(self, asset: AssetInsert, *, lease: int | None = None) -> Asset:
        """Record an asset and return it. Safe to retry: the id is chosen here (unless
        given) and a repeated insert of the same id adds nothing. With ``lease`` (the
        claim holding the job, see ``db.job_steps``) it is recorded under the job's lease
        (``add_job_asset``), which it renews."""
        if lease is None:
            return self._create("assets", Asset, asset)
        fields = asset.model_fields_set
        return self._rpc_row(
            "add_job_asset",
            Asset,
            p_job_id=asset.job_id,
            p_type=asset.type,
            p_url=asset.url,
            p_storage_path=asset.storage_path,
            p_size_bytes=asset.size_bytes,
            p_mime_type=asset.mime_type,
            p_metadata=asset.metadata_json if "metadata_json" in fields else None,
            p_asset_id=asset.id if "id" in fields else uuid.uuid4(),
            p_lease=lease,
        )

    def delete(self, asset_id: UUID) -> None:
        """Delete the asset's row (not the stored file); NotFoundError if there was none."""
        self._delete("assets", asset_id)
