"""Job logs: per-job (and per-step) log lines, in insertion order. Users read their jobs'
logs (follow a job with ``after_line``); the worker appends them, and retention prunes
those of long-finished jobs."""

from __future__ import annotations

import builtins
from uuid import UUID

from pydantic import JsonValue

from .._errors import InvalidArgumentError
from ..models import JobLog, JobLogInsert, LogLevel
from ._base_async import AsyncRepository, only_fields, positive
from ._limits import check_column, idempotency_key_for
from ._pagination import check_limit
from ._retention import check_batch, check_days

__all__ = ["AsyncJobLogs", "AsyncServiceJobLogs"]

#: What a signed-in user may select of a line: every column but the global ``id``
#: (``select=*`` would be refused).
USER_COLUMNS = ",".join(name for name in JobLog.model_fields if name != "id")
#: What a line of ``append_many`` may give; the database sets the rest.
LINE_FIELDS = frozenset({"message", "level", "step_name", "data"})
#: Most lines one ``append_many`` call may append (the SQL function's bound).
MAX_LINES_PER_CALL = 1000


class AsyncJobLogs(AsyncRepository):
    """``db.logs`` of a user client (read only)."""

    #: The columns ``list`` selects (the service role's client reads ``id`` too).
    _columns = USER_COLUMNS

    async def list(
        self, job_id: UUID, *, after_line: int | None = None, limit: int = 100
    ) -> builtins.list[JobLog]:
        """Up to ``limit`` lines of the job in order (``line_no``: 1, 2, 3... within the
        job), after line ``after_line`` if given (pass the last ``line_no`` seen to get only
        newer lines)."""
        check_limit(limit)
        query = self._rest.table("job_logs").select(self._columns).eq("job_id", str(job_id))
        if after_line is not None:
            if not isinstance(after_line, int) or isinstance(after_line, bool) or after_line < 0:
                raise InvalidArgumentError(
                    f"after_line must be a line number (an integer >= 0), got {after_line!r}"
                )
            query = query.gt("line_no", str(after_line))
        return await self._all(JobLog, query.order("line_no").limit(limit))


class AsyncServiceJobLogs(AsyncJobLogs):
    """``db.logs`` of the service client: appending lines."""

    _columns = "*"

    async def append(
        self,
        job_id: UUID,
        message: str,
        *,
        level: LogLevel = LogLevel.INFO,
        step_name: str | None = None,
        data: JsonValue | None = None,
        lease: int | None = None,
        idempotency_key: str | None = None,
    ) -> int:
        """Append one line; returns its number in the job (``line_no``). Exactly once per
        ``idempotency_key`` (a new one per call unless given, reused by the client's own
        retries): the same key again adds nothing and returns the first line's number.
        ``lease``: the claim holding the job (see ``db.job_steps``)."""
        try:
            level_value = LogLevel(level).value
        except ValueError:
            raise InvalidArgumentError(
                f"level must be one of the LogLevel values, got {level!r}"
            ) from None
        value: int = await self._rpc_value(
            "append_job_log",
            int,
            p_job_id=job_id,
            p_message=check_column(JobLogInsert, "message", message, "message"),
            p_level=level_value,
            p_step_name=check_column(JobLogInsert, "step_name", step_name, "step_name"),
            p_data=check_column(JobLogInsert, "data", data, "data"),
            p_lease=lease,
            p_idempotency_key=idempotency_key_for(idempotency_key),
        )
        return value

    async def append_many(
        self,
        job_id: UUID,
        lines: builtins.list[JobLogInsert],
        *,
        lease: int | None = None,
        idempotency_key: str | None = None,
    ) -> int | None:
        """Append ``lines`` (all of job ``job_id``, at most 1,000) in one call, in order;
        returns the number (``line_no``) of the last one, None for no lines (nothing is
        sent). Each line gives its ``message`` and optionally ``level`` (default info),
        ``step_name`` and ``data``. Exactly once per ``idempotency_key``, as ``append``:
        a retry after a lost response adds nothing. ``lease``: the claim holding the job."""
        if not lines:
            return None
        if len(lines) > MAX_LINES_PER_CALL:
            raise InvalidArgumentError(
                f"at most {MAX_LINES_PER_CALL} lines per call, got {len(lines)}"
            )
        body = []
        include = set(LINE_FIELDS)
        for n, line in enumerate(lines):
            if line.job_id != job_id:
                raise InvalidArgumentError(
                    f"every line must be of job {job_id}, got line {n} of job {line.job_id}"
                )
            only_fields(line, LINE_FIELDS | {"job_id"}, f"line {n}")
            body.append(line.model_dump(mode="json", include=include, exclude_unset=True))
        value: int = await self._rpc_value(
            "append_job_logs",
            int,
            p_job_id=job_id,
            p_lines=body,
            p_lease=lease,
            p_idempotency_key=idempotency_key_for(idempotency_key),
        )
        return value

    async def prune(
        self,
        *,
        older_than_days: int | None = None,
        batch_size: int = 10_000,
        limit: int | None = None,
    ) -> int:
        """Delete the log lines of jobs that finished more than ``older_than_days`` days
        ago (default: the database's ``vidgen.job_log_retention_days``, else 30); returns
        how many. One request, one short transaction, per ``batch_size`` lines, until none
        is left (or ``limit`` lines are gone). Workers appending lines meanwhile are never
        blocked, and concurrent runs share the work. Not retried once sent: after an
        error, run it again (it resumes where it stopped)."""
        days = check_days(older_than_days)
        batch = check_batch("batch_size", batch_size)
        cap = None if limit is None else positive("limit", limit)
        total = 0
        while cap is None or total < cap:
            size = batch if cap is None else min(batch, cap - total)
            deleted: int = await self._rpc_value(
                "prune_job_logs", int, p_older_than_days=days, p_max_rows=size
            )
            total += deleted
            if deleted < size:
                break
        return total
