"""Builders shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from vidgen_db.models import JobInsert, JobStatus, NichePreset, ProjectInsert

#: The pipeline's work stages, in order.
STAGES = (
    JobStatus.SCRIPTING,
    JobStatus.VOICE_GEN,
    JobStatus.ALIGNMENT,
    JobStatus.VISUAL_PLAN,
    JobStatus.IMAGE_GEN,
    JobStatus.TIMELINE,
    JobStatus.RENDERING,
    JobStatus.PACKAGING,
)


def project_for(user_id: UUID, **fields: Any) -> ProjectInsert:
    values: dict[str, Any] = {
        "user_id": user_id,
        "title": "A test video",
        "prompt_text": "Explain tides in one minute",
        "niche_preset": NichePreset.SCIENCE,
        "target_minutes": 1,
    }
    values.update(fields)
    return ProjectInsert(**values)


def job_for(project_id: UUID, user_id: UUID) -> JobInsert:
    return JobInsert(project_id=project_id, user_id=user_id)
