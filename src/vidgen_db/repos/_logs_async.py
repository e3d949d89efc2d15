"""Job logs: per-job (and per-step) log lines, in insertion order. Users read their jobs'
logs (follow a job with ``after_id``); the worker appends them."""

from __future__ import annotations

import builtins
from uuid import UUID

from postgrest.types import ReturnMethod
from pydantic import JsonValue

from .._errors import InvalidArgumentError
from ..models import JobLog, JobLogInsert, LogLevel
from ._base_async import AsyncRepository
from ._limits import check_column
from ._pagination import check_limit

__all__ = ["AsyncJobLogs", "AsyncServiceJobLogs"]


class AsyncJobLogs(AsyncRepository):
    """``db.logs`` of a user client (read only)."""

    async def list(
        self, job_id: UUID, *, after_id: int | None = None, limit: int = 100
    ) -> builtins.list[JobLog]:
        """Up to ``limit`` lines of the job in id order, after line ``after_id`` if given
        (pass the last id seen to get only newer lines)."""
        check_limit(limit)
        query = self._rest.table("job_logs").select("*").eq("job_id", str(job_id))
        if after_id is not None:
            if not isinstance(after_id, int) or isinstance(after_id, bool) or after_id < 0:
                raise InvalidArgumentError(
                    f"after_id must be a log id (an integer >= 0), got {after_id!r}"
                )
            query = query.gt("id", str(after_id))
        return await self._all(JobLog, query.order("id").limit(limit))


class AsyncServiceJobLogs(AsyncJobLogs):
    """``db.logs`` of the service client: appending lines."""

    async def append(
        self,
        job_id: UUID,
        message: str,
        *,
        level: LogLevel = LogLevel.INFO,
        step_name: str | None = None,
        data: JsonValue | None = None,
        lease: int | None = None,
    ) -> int:
        """Append one line; returns its id. Not idempotent: never retried once sent.
        ``lease``: the claim holding the job (see ``db.job_steps``)."""
        value: int = await self._rpc_value(
            "append_job_log",
            int,
            p_job_id=job_id,
            p_message=check_column(JobLogInsert, "message", message, "message"),
            p_level=LogLevel(level).value,
            p_step_name=check_column(JobLogInsert, "step_name", step_name, "step_name"),
            p_data=check_column(JobLogInsert, "data", data, "data"),
            p_lease=lease,
        )
        return value

    async def append_many(self, job_id: UUID, lines: builtins.list[JobLogInsert]) -> None:
        """Append ``lines`` (all of job ``job_id``) in one bulk insert, in order; unset
        columns take their defaults. Not idempotent: never retried once sent."""
        if not lines:
            return
        others = {line.job_id for line in lines} - {job_id}
        if others:
            raise InvalidArgumentError(
                f"every line must be of job {job_id}, got lines of {sorted(map(str, others))}"
            )
        await (
            self._rest.table("job_logs")
            .insert(
                [line.to_postgrest() for line in lines],
                returning=ReturnMethod.minimal,
                default_to_null=False,
            )
            .execute()
        )
