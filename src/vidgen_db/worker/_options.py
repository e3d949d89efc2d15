"""What the async and the sync worker runners share: the pipeline's stages, a handler's
output, the runners' options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from pydantic import JsonValue

__all__ = ["STAGES", "JobOutput", "JobResult", "RunnerOptions"]

#: The pipeline's work stages, in order: the steps of a job.
STAGES: tuple[str, ...] = (
    "SCRIPTING",
    "VOICE_GEN",
    "ALIGNMENT",
    "VISUAL_PLAN",
    "IMAGE_GEN",
    "TIMELINE",
    "RENDERING",
    "PACKAGING",
)


@dataclass(frozen=True)
class JobResult:
    """What a handler returns to finish its job (or just the output URL, as a string)."""

    output_url: str
    final_credits: int | None = None
    manifest: JsonValue | None = None


#: What a handler returns: the output URL, a JobResult, or None after finishing the job.
JobOutput = str | JobResult | None


class RunnerOptions(TypedDict, total=False):
    """The options of a runner (see :class:`AsyncWorkerRunner`)."""

    concurrency: int
    name: str | None
    lease_seconds: int
    heartbeat_interval: float | None
    poll_interval: float
    max_poll_interval: float
    shutdown_timeout: float
    max_running_per_user: int | None
    handle_signals: bool
