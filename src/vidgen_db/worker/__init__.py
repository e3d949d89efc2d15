"""Running jobs with a fleet of workers (the service role).

:func:`run` (threads) and :func:`run_async` (asyncio) register a worker, claim queued jobs
and run a handler on each under its lease, with heartbeats, until SIGTERM or SIGINT; see
:mod:`vidgen_db.worker._runner_async` for what ends a job. The handler gets a
:class:`ClaimedJob` (:class:`AsyncClaimedJob`) whose every write carries the claim's
fencing token, and returns the output URL or a :class:`JobResult`. docs/usage.md, "Running
workers", covers deployment, leases, shutdown and recovery.
"""

from ._claimed import ClaimedJob
from ._claimed_async import AsyncClaimedJob
from ._options import STAGES, JobOutput, JobResult, RunnerOptions
from ._runner import Handler, WorkerRunner, run
from ._runner_async import AsyncHandler, AsyncWorkerRunner, run_async

__all__ = [
    "STAGES",
    "AsyncClaimedJob",
    "AsyncHandler",
    "AsyncWorkerRunner",
    "ClaimedJob",
    "Handler",
    "JobOutput",
    "JobResult",
    "RunnerOptions",
    "WorkerRunner",
    "run",
    "run_async",
]
