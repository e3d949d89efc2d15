"""A job a worker claimed: everything the handler does to it goes through its lease.

The handler gets one of these per job. It runs the stages not yet done (a job recovered
from a dead worker keeps its finished steps), each in a step, and returns the output:

    async def handler(job: AsyncClaimedJob) -> str:
        for stage in job.remaining_stages():
            async with job.step(stage) as step:
                ...
        return output_url

Every write carries the claim's fencing token: if the worker lost the job (its lease
expired and it was recovered), the database refuses the write (LeaseLostError), so two
workers never act on one job at once.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import JsonValue

from .._client_async import AsyncServiceDB
from .._errors import InvalidArgumentError
from ..models import Asset, AssetInsert, Job, LogLevel
from ..repos._jobs_step_async import AsyncRunningStep
from ._options import STAGES

__all__ = ["AsyncClaimedJob"]


class AsyncClaimedJob:
    """A claimed job and its lease (see the module docstring).

    ``stop_reason`` is set by the runner when the job must stop: ``"lost"`` (another worker
    has it), ``"cancelled"`` (its owner cancelled it) or ``"shutdown"`` (the worker is
    stopping; the job is given back). ``should_stop`` tells a long computation to stop.
    """

    def __init__(
        self, db: AsyncServiceDB, job: Job, completed_steps: frozenset[str] = frozenset()
    ) -> None:
        if job.lease_token is None:
            raise InvalidArgumentError(f"job {job.id} is not claimed (it has no lease token)")
        self._db = db
        self.job = job
        self.lease: int = job.lease_token
        self.completed_steps = completed_steps
        self.stop_reason: str | None = None
        #: True once the job was finished, failed or released through this object.
        self.done = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(id='{self.id}', attempt={self.job.attempt}, lease={self.lease})"
        )

    @property
    def id(self) -> UUID:
        return self.job.id

    @property
    def should_stop(self) -> bool:
        """Whether the runner asked this job to stop (its lease lost, it was cancelled,
        or the worker is shutting down)."""
        return self.stop_reason is not None

    def remaining_stages(self) -> list[str]:
        """The pipeline's stages not yet completed, in order."""
        return [stage for stage in STAGES if stage not in self.completed_steps]

    def step(self, step_name: str, *, min_interval: float = 1.0) -> AsyncRunningStep:
        """One step of the job under its lease (see ``db.jobs.step``)."""
        return self._db.jobs.step(self.id, step_name, min_interval=min_interval, lease=self.lease)

    async def log(
        self,
        message: str,
        *,
        level: LogLevel | str = LogLevel.INFO,
        step_name: str | None = None,
        data: JsonValue | None = None,
    ) -> int:
        """Append a line to the job's log; returns its id."""
        return await self._db.logs.append(
            self.id,
            message,
            level=LogLevel(level),
            step_name=step_name,
            data=data,
            lease=self.lease,
        )

    async def add_asset(self, asset: AssetInsert) -> Asset:
        """Record a file the job produced (``asset.job_id`` must be this job's id)."""
        if asset.job_id != self.id:
            raise InvalidArgumentError(f"the asset is of job {asset.job_id}, not of job {self.id}")
        return await self._db.assets.create(asset, lease=self.lease)

    async def heartbeat(self) -> Job:
        """Renew the lease now (the runner does it in the background)."""
        return await self._db.jobs.heartbeat(self.id, self.lease)

    async def finish(
        self,
        output_url: str,
        *,
        final_credits: int | None = None,
        manifest: JsonValue | None = None,
    ) -> Job:
        """READY: settle the credits, record the output, end the lease."""
        job = await self._db.jobs.finish(
            self.id, output_url, final_credits=final_credits, manifest=manifest, lease=self.lease
        )
        self.done = True
        return job

    async def fail(
        self, error_code: str, error_message: str, *, failed_step: str | None = None
    ) -> Job:
        """FAILED: record the error, refund the credits, end the lease."""
        job = await self._db.jobs.fail(
            self.id, error_code, error_message, failed_step=failed_step, lease=self.lease
        )
        self.done = True
        return job

    async def release(self) -> Job:
        """Give the job back to the queue (no attempt charged), ending the lease."""
        job = await self._db.jobs.release(self.id, self.lease)
        self.done = True
        return job
