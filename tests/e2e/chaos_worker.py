"""A worker process for the chaos test (tests/e2e/test_chaos.py): the sync runner over
HTTP, with short leases. Stages take a few milliseconds; a few jobs fail on purpose."""

from __future__ import annotations

import logging
import os
import random
import time

from vidgen_db.worker import ClaimedJob, run


class FlakyStage(Exception):
    error_code = "FLAKY_STAGE"


def handler(job: ClaimedJob) -> str:
    seconds = float(os.environ.get("CHAOS_STAGE_SECONDS", "0.03"))
    for stage in job.remaining_stages():
        with job.step(stage, min_interval=0) as step:
            time.sleep(random.uniform(0.5, 1.5) * seconds)
            step.progress(50)
            if stage == "RENDERING" and random.random() < 0.03:
                raise FlakyStage("the renderer crashed")
    return f"https://cdn.example.com/{job.id}.mp4"


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run(
        handler,
        concurrency=2,
        lease_seconds=2,
        heartbeat_interval=0.4,
        poll_interval=0.05,
        max_poll_interval=0.3,
        shutdown_timeout=float(os.environ.get("CHAOS_SHUTDOWN_TIMEOUT", "5")),
    )
