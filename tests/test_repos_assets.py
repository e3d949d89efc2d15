"""HTTP contract of db.assets (user: read; service: record and delete)."""

from __future__ import annotations

import uuid

# The shared contract tests, run here over this module's CASES and INVALID tables.
from repo_contract_tests import (
    test_async,  # noqa: F401
    test_sync,  # noqa: F401
)
from test_repos_clients import (
    ASSET,
    DELETE_BODY,
    JOB,
    NOT_FOUND,
    Case,
    asset_row,
)
from vidgen_db import NotFoundError
from vidgen_db.models import Asset, AssetInsert, AssetType

OBJECT = "application/vnd.pgrst.object+json"
CAPTIONS = asset_row(
    id=str(uuid.UUID(int=4)),
    type="captions",
    url="https://cdn.example.com/captions/final.srt",
    storage_path=f"captions/{JOB}/final.srt",
    size_bytes=2048,
    mime_type="application/x-subrip",
    metadata_json={},
)
NEW_ASSET = AssetInsert(
    id=ASSET,
    job_id=JOB,
    type=AssetType.VIDEO,
    url="https://cdn.example.com/videos/final.mp4",
    storage_path=f"videos/{JOB}/final.mp4",
    size_bytes=48_213_004,
    mime_type="video/mp4",
)

CASES = [
    *(
        Case(
            "assets.list",
            role,
            lambda db: db.assets.list(JOB),
            "GET",
            "/assets",
            params={"select": "*", "job_id": f"eq.{JOB}", "order": "created_at.asc,id.asc"},
            response=[asset_row(), CAPTIONS],
            check=lambda assets: (
                [a.type for a in assets] == [AssetType.VIDEO, AssetType.CAPTIONS]
                and all(isinstance(a, Asset) for a in assets)
            ),
        )
        for role in ("user", "service")
    ),
    *(
        Case(
            "assets.get",
            role,
            lambda db: db.assets.get(ASSET),
            "GET",
            "/assets",
            params={"select": "*", "id": f"eq.{ASSET}"},
            accept=OBJECT,
            response=asset_row(),
            check=lambda a: a.size_bytes == 48_213_004 and a.metadata_json == {"duration_s": 62.5},
        )
        for role in ("user", "service")
    ),
    Case(
        "assets.get",
        "user",
        lambda db: db.assets.get(ASSET),
        "GET",
        "/assets",
        params={"select": "*", "id": f"eq.{ASSET}"},
        accept=OBJECT,
        status=NOT_FOUND[0],
        response=NOT_FOUND[1],
        raises=NotFoundError,
        label="missing",
    ),
    Case(
        "assets.create",
        "service",
        lambda db: db.assets.create(NEW_ASSET),
        "POST",
        "/assets",
        params={"on_conflict": "id"},
        prefer={"return=representation", "resolution=ignore-duplicates"},
        body={
            "id": str(ASSET),
            "job_id": str(JOB),
            "type": "video",
            "url": "https://cdn.example.com/videos/final.mp4",
            "storage_path": f"videos/{JOB}/final.mp4",
            "size_bytes": 48_213_004,
            "mime_type": "video/mp4",
        },
        status=201,
        response=[asset_row()],
        check=lambda a: isinstance(a, Asset) and a.id == ASSET,
    ),
    Case(
        "assets.delete",
        "service",
        lambda db: db.assets.delete(ASSET),
        "DELETE",
        "/assets",
        params={"id": f"eq.{ASSET}"},
        prefer={"return=representation"},
        body=DELETE_BODY,
        response=[asset_row()],
        check=lambda result: result is None,
    ),
    Case(
        "assets.delete",
        "service",
        lambda db: db.assets.delete(ASSET),
        "DELETE",
        "/assets",
        params={"id": f"eq.{ASSET}"},
        prefer={"return=representation"},
        body=DELETE_BODY,
        response=[],
        raises=NotFoundError,
        label="missing",
    ),
    Case(
        "assets.create",
        "service",
        lambda db: db.assets.create(NEW_ASSET, lease=41),
        "POST",
        "/rpc/add_job_asset",
        body={
            "p_job_id": str(JOB),
            "p_type": "video",
            "p_url": "https://cdn.example.com/videos/final.mp4",
            "p_storage_path": f"videos/{JOB}/final.mp4",
            "p_size_bytes": 48_213_004,
            "p_mime_type": "video/mp4",
            "p_asset_id": str(ASSET),
            "p_lease": 41,
        },
        response=asset_row(),
        check=lambda a: isinstance(a, Asset) and a.id == ASSET,
        label="lease",
    ),
]
