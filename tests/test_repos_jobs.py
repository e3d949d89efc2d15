"""HTTP contract of db.jobs (user: read, cancel; service: create, the worker fleet's claims
and leases, the pipeline transitions)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import respx

# The shared contract tests, run here over this module's CASES and INVALID tables.
from repo_contract_tests import (
    test_async,  # noqa: F401
    test_refused_before_any_request_async,  # noqa: F401
    test_refused_before_any_request_sync,  # noqa: F401
    test_sync,  # noqa: F401
)
from test_repos_clients import (
    ANY_UUID,
    AT,
    JOB,
    KEYS,
    NOT_FOUND,
    PROJECT,
    REST,
    URL,
    USER,
    WORKER,
    Case,
    Invalid,
    job_row,
    pgrst_error,
)
from vidgen_db import (
    AsyncVidgenDB,
    ClientSettings,
    Cursor,
    IllegalJobTransitionError,
    InsufficientCreditsError,
    JobCancelledError,
    LeaseLostError,
    NotFoundError,
    PermissionDeniedError,
    UnknownWorkerError,
    VidgenDB,
)
from vidgen_db.models import Job, JobInsert, JobQueueStatsRow, JobStatus, RecoverJobsRow
from vidgen_db.models.enums import CreditState
from vidgen_db.repos._idempotency import IDEMPOTENT_JOBS

CURSOR = Cursor(datetime(2026, 11, 28, 9, 0, tzinfo=UTC), uuid.UUID(int=7))
# The page after CURSOR: an index range (created_at <= ts) and the tie-break on id.
UPTO = f"lte.{CURSOR.created_at.isoformat()}"
KEYSET = f'(created_at.lt."{CURSOR.created_at.isoformat()}",id.lt.{CURSOR.id})'
NEWEST_FIRST = "created_at.desc,id.desc"
OBJECT = "application/vnd.pgrst.object+json"
MANIFEST = {"video": "final.mp4", "duration_s": 62.5}
READY = job_row(
    status="READY",
    progress=100,
    cost_credits_final=28,
    credit_state="settled",
    output_url="https://cdn.example.com/videos/final.mp4",
    manifest_json=MANIFEST,
    started_at=AT,
    finished_at="2026-11-28T10:09:00+00:00",
)

CASES = [
    # -- user --------------------------------------------------------------------------
    Case(
        "jobs.get",
        "user",
        lambda db: db.jobs.get(JOB),
        "GET",
        "/jobs",
        params={"select": "*", "id": f"eq.{JOB}"},
        accept=OBJECT,
        response=job_row(),
        check=lambda job: (
            isinstance(job, Job)
            and job.status is JobStatus.QUEUED
            and job.credit_state is CreditState.RESERVED
            and job.cost_credits_reserved == 30
        ),
    ),
    Case(
        "jobs.get",
        "user",
        lambda db: db.jobs.get(JOB),
        "GET",
        "/jobs",
        params={"select": "*", "id": f"eq.{JOB}"},
        accept=OBJECT,
        status=NOT_FOUND[0],
        response=NOT_FOUND[1],
        raises=NotFoundError,
        check=lambda e: e.code == "PGRST116" and e.status_code == 406,
        label="missing",
    ),
    Case(
        "jobs.list",
        "user",
        lambda db: db.jobs.list(project_id=PROJECT, status=JobStatus.RENDERING, limit=1),
        "GET",
        "/jobs",
        params={
            "select": "*",
            "user_id": f"eq.{USER}",
            "project_id": f"eq.{PROJECT}",
            "status": "eq.RENDERING",
            "order": NEWEST_FIRST,
            "limit": "2",
        },
        response=[
            job_row(status="RENDERING"),
            job_row(id=str(uuid.UUID(int=1)), created_at="2026-11-28T09:00:00+00:00"),
        ],
        check=lambda page: (
            len(page) == 1
            and page.items[0].id == JOB
            and page.next_cursor == Cursor(datetime(2026, 11, 28, 10, 0, 0, 123456, UTC), JOB)
        ),
    ),
    Case(
        "jobs.list",
        "user",
        lambda db: db.jobs.list(before=CURSOR),
        "GET",
        "/jobs",
        params={
            "select": "*",
            "user_id": f"eq.{USER}",
            "created_at": UPTO,
            "or": KEYSET,
            "order": NEWEST_FIRST,
            "limit": "21",
        },
        response=[],
        check=lambda page: page.items == [] and page.next_cursor is None,
        label="next-page",
    ),
    Case(
        "jobs.list",
        "user",
        lambda db: db.jobs.list(status=JobStatus.READY, before=str(CURSOR)),
        "GET",
        "/jobs",
        params={
            "select": "*",
            "user_id": f"eq.{USER}",
            "status": "eq.READY",
            "created_at": UPTO,
            "or": KEYSET,
            "order": NEWEST_FIRST,
            "limit": "21",
        },
        response=[],
        check=lambda page: page.items == [] and page.next_cursor is None,
        label="string-cursor",
    ),
    Case(
        "jobs.list",
        "user",
        lambda db: db.jobs.list(status=JobStatus.READY, before=str(CURSOR)),
        "GET",
        "/jobs",
        params={
            "select": "*",
            "user_id": f"eq.{USER}",
            "status": "eq.READY",
            "created_at": UPTO,
            "or": KEYSET,
            "order": NEWEST_FIRST,
            "limit": "21",
        },
        response=[],
        check=lambda page: page.items == [] and page.next_cursor is None,
        label="string-cursor",
    ),
    # -- service -----------------------------------------------------------------------
    Case(
        "jobs.get",
        "service",
        lambda db: db.jobs.get(JOB),
        "GET",
        "/jobs",
        params={"select": "*", "id": f"eq.{JOB}"},
        accept=OBJECT,
        response=job_row(),
        check=lambda job: job.id == JOB,
    ),
    Case(
        "jobs.list",
        "service",
        lambda db: db.jobs.list(status="QUEUED"),
        "GET",
        "/jobs",
        params={"select": "*", "status": "eq.QUEUED", "order": NEWEST_FIRST, "limit": "21"},
        response=[job_row()],
        check=lambda page: [job.id for job in page] == [JOB],
    ),
    Case(
        "jobs.create",
        "service",
        lambda db: db.jobs.create(JobInsert(id=JOB, project_id=PROJECT, user_id=USER)),
        "POST",
        "/jobs",
        params={"on_conflict": "id"},
        prefer={"return=representation", "resolution=ignore-duplicates"},
        body={"id": str(JOB), "project_id": str(PROJECT), "user_id": str(USER)},
        status=201,
        response=[job_row(status="PENDING", cost_credits_reserved=0, credit_state="none")],
        check=lambda job: job.status is JobStatus.PENDING,
    ),
    Case(
        "jobs.queue",
        "service",
        lambda db: db.jobs.queue(JOB, 30),
        "POST",
        "/rpc/queue_job",
        body={"p_job_id": str(JOB), "p_credits": 30},
        response=job_row(),
        check=lambda job: isinstance(job, Job) and job.status is JobStatus.QUEUED,
    ),
    Case(
        "jobs.queue",
        "service",
        lambda db: db.jobs.queue(JOB, 30),
        "POST",
        "/rpc/queue_job",
        body={"p_job_id": str(JOB), "p_credits": 30},
        status=400,
        response=pgrst_error(
            "VG101", f"insufficient credits: job {JOB} needs 30, the balance is 10"
        ),
        raises=InsufficientCreditsError,
        check=lambda e: (
            e.code == "VG101" and e.required == 30 and e.balance == 10 and e.http_status == 402
        ),
        label="insufficient",
    ),
    Case(
        "jobs.queue",
        "service",
        lambda db: db.jobs.queue(JOB, 30),
        "POST",
        "/rpc/queue_job",
        body={"p_job_id": str(JOB), "p_credits": 30},
        response=None,
        raises=NotFoundError,
        label="null",
    ),
    Case(
        "jobs.advance",
        "service",
        lambda db: db.jobs.advance(JOB, JobStatus.SCRIPTING, progress=5, message="writing"),
        "POST",
        "/rpc/advance_job",
        body={
            "p_job_id": str(JOB),
            "p_status": "SCRIPTING",
            "p_progress": 5,
            "p_message": "writing",
        },
        response=job_row(status="SCRIPTING", progress=5, status_message="writing", started_at=AT),
        check=lambda job: job.status is JobStatus.SCRIPTING and job.progress == 5,
    ),
    Case(
        "jobs.advance",
        "service",
        lambda db: db.jobs.advance(JOB, JobStatus.SCRIPTING),
        "POST",
        "/rpc/advance_job",
        body={"p_job_id": str(JOB), "p_status": "SCRIPTING"},
        status=400,
        response=pgrst_error(
            "VG201",
            f"illegal job transition READY -> SCRIPTING for job {JOB}",
            hint="READY and FAILED are final",
        ),
        raises=IllegalJobTransitionError,
        check=lambda e: e.code == "VG201" and e.hint == "READY and FAILED are final",
        label="illegal",
    ),
    Case(
        "jobs.finish",
        "service",
        lambda db: db.jobs.finish(
            JOB, "https://cdn.example.com/videos/final.mp4", final_credits=28, manifest=MANIFEST
        ),
        "POST",
        "/rpc/finish_job",
        body={
            "p_job_id": str(JOB),
            "p_output_url": "https://cdn.example.com/videos/final.mp4",
            "p_final_credits": 28,
            "p_manifest": MANIFEST,
        },
        response=READY,
        check=lambda job: (
            job.status is JobStatus.READY
            and job.cost_credits_final == 28
            and job.manifest_json == MANIFEST
        ),
    ),
    Case(
        "jobs.finish",
        "service",
        lambda db: db.jobs.finish(JOB, "https://cdn.example.com/videos/final.mp4"),
        "POST",
        "/rpc/finish_job",
        body={"p_job_id": str(JOB), "p_output_url": "https://cdn.example.com/videos/final.mp4"},
        response=READY,
        check=lambda job: job.credit_state is CreditState.SETTLED,
        label="defaults",
    ),
    Case(
        "jobs.fail",
        "service",
        lambda db: db.jobs.fail(
            JOB, "TTS_TIMEOUT", "voice provider timed out", failed_step="VOICE_GEN"
        ),
        "POST",
        "/rpc/fail_job",
        body={
            "p_job_id": str(JOB),
            "p_error_code": "TTS_TIMEOUT",
            "p_error_message": "voice provider timed out",
            "p_failed_step": "VOICE_GEN",
        },
        response=job_row(
            status="FAILED",
            credit_state="refunded",
            failed_step="VOICE_GEN",
            error_code="TTS_TIMEOUT",
            error_message="voice provider timed out",
            finished_at=AT,
        ),
        check=lambda job: job.status is JobStatus.FAILED and job.failed_step == "VOICE_GEN",
    ),
    Case(
        "jobs.fail",
        "service",
        lambda db: db.jobs.fail(JOB, "E", "m"),
        "POST",
        "/rpc/fail_job",
        body={"p_job_id": str(JOB), "p_error_code": "E", "p_error_message": "m"},
        status=403,
        response=pgrst_error("42501", "permission denied: only the service role may do this"),
        raises=PermissionDeniedError,
        check=lambda e: e.code == "42501" and e.status_code == 403,
        label="denied",
    ),
    *[
        Case(
            "jobs.cancel",
            role,
            lambda db: db.jobs.cancel(JOB),
            "POST",
            "/rpc/cancel_job",
            body={"p_job_id": str(JOB)},
            response=job_row(
                status="FAILED", credit_state="refunded", error_code="CANCELLED", finished_at=AT
            ),
            check=lambda job: job.status is JobStatus.FAILED and job.error_code == "CANCELLED",
        )
        for role in ("user", "service")
    ],
    Case(
        "jobs.cancel",
        "user",
        lambda db: db.jobs.cancel(JOB),
        "POST",
        "/rpc/cancel_job",
        body={"p_job_id": str(JOB)},
        status=400,
        response=pgrst_error("VG002", f"unknown job {JOB}"),
        raises=NotFoundError,
        check=lambda e: e.code == "VG002",
        label="another-users",
    ),
    Case(
        "jobs.claim",
        "service",
        lambda db: db.jobs.claim(WORKER, limit=2, lease_seconds=60),
        "POST",
        "/rpc/claim_jobs",
        # p_claim_id: chosen by the client, so a retried claim returns the same jobs.
        body={
            "p_worker_id": str(WORKER),
            "p_limit": 2,
            "p_lease_seconds": 60,
            "p_claim_id": ANY_UUID,
        },
        response=[
            job_row(worker_id=str(WORKER), lease_token=41, lease_expires_at=AT, attempt=1),
            job_row(
                id=str(PROJECT),
                worker_id=str(WORKER),
                lease_token=42,
                lease_expires_at=AT,
                attempt=1,
            ),
        ],
        check=lambda jobs: (
            [j.lease_token for j in jobs] == [41, 42] and jobs[0].worker_id == WORKER
        ),
    ),
    Case(
        "jobs.claim",
        "service",
        lambda db: db.jobs.claim(WORKER, max_running_per_user=5),
        "POST",
        "/rpc/claim_jobs",
        body={
            "p_worker_id": str(WORKER),
            "p_limit": 1,
            "p_lease_seconds": 120,
            "p_claim_id": ANY_UUID,
            "p_max_running_per_user": 5,
        },
        response=[],
        check=lambda jobs: jobs == [],
        label="empty-queue",
    ),
    Case(
        "jobs.claim",
        "service",
        lambda db: db.jobs.claim(WORKER),
        "POST",
        "/rpc/claim_jobs",
        body={
            "p_worker_id": str(WORKER),
            "p_limit": 1,
            "p_lease_seconds": 120,
            "p_claim_id": ANY_UUID,
        },
        status=400,
        response=pgrst_error("VG301", f"unknown worker {WORKER}"),
        raises=UnknownWorkerError,
        label="unknown-worker",
    ),
    Case(
        "jobs.heartbeat",
        "service",
        lambda db: db.jobs.heartbeat(JOB, 41),
        "POST",
        "/rpc/heartbeat_job",
        body={"p_job_id": str(JOB), "p_lease": 41},
        response=job_row(worker_id=str(WORKER), lease_token=41, lease_expires_at=AT),
        check=lambda job: job.lease_token == 41,
    ),
    Case(
        "jobs.heartbeat",
        "service",
        lambda db: db.jobs.heartbeat(JOB, 41),
        "POST",
        "/rpc/heartbeat_job",
        body={"p_job_id": str(JOB), "p_lease": 41},
        status=400,
        response=pgrst_error("VG302", f"lease 41 on job {JOB} is lost"),
        raises=LeaseLostError,
        label="lost",
    ),
    Case(
        "jobs.heartbeat",
        "service",
        lambda db: db.jobs.heartbeat(JOB, 41),
        "POST",
        "/rpc/heartbeat_job",
        body={"p_job_id": str(JOB), "p_lease": 41},
        status=400,
        response=pgrst_error("VG303", f"job {JOB} was cancelled by its owner"),
        raises=JobCancelledError,
        label="cancelled",
    ),
    Case(
        "jobs.release",
        "service",
        lambda db: db.jobs.release(JOB, 41),
        "POST",
        "/rpc/release_job",
        body={"p_job_id": str(JOB), "p_lease": 41},
        response=job_row(),
        check=lambda job: job.status is JobStatus.QUEUED and job.worker_id is None,
    ),
    Case(
        "jobs.recover",
        "service",
        lambda db: db.jobs.recover(limit=10),
        "POST",
        "/rpc/recover_jobs",
        body={"p_limit": 10},
        response=[{"job_id": str(JOB), "outcome": "requeued"}],
        check=lambda rows: rows == [RecoverJobsRow(job_id=JOB, outcome="requeued")],
    ),
    Case(
        "jobs.stats",
        "service",
        lambda db: db.jobs.stats(),
        "POST",
        "/rpc/job_queue_stats",
        body={},
        response=[
            {
                "queued": 4,
                "running": 2,
                "cancelling": 0,
                "expired_leases": 1,
                "oldest_queued_at": AT,
                "oldest_queued_seconds": 12.5,
                "workers_seen": 3,
            }
        ],
        check=lambda s: isinstance(s, JobQueueStatsRow) and s.queued == 4 and s.workers_seen == 3,
    ),
    Case(
        "jobs.finish",
        "service",
        lambda db: db.jobs.finish(JOB, "https://cdn.example.com/v.mp4", lease=41),
        "POST",
        "/rpc/finish_job",
        body={"p_job_id": str(JOB), "p_output_url": "https://cdn.example.com/v.mp4", "p_lease": 41},
        response=READY,
        check=lambda job: job.status is JobStatus.READY,
        label="lease",
    ),
    Case(
        "jobs.fail",
        "service",
        lambda db: db.jobs.fail(JOB, "E", "m", lease=41),
        "POST",
        "/rpc/fail_job",
        body={"p_job_id": str(JOB), "p_error_code": "E", "p_error_message": "m", "p_lease": 41},
        status=400,
        response=pgrst_error("VG302", f"lease 41 on job {JOB} is lost"),
        raises=LeaseLostError,
        label="stale-lease",
    ),
    Case(
        "jobs.create_and_queue",
        "service",
        lambda db: db.jobs.create_and_queue(
            JobInsert(project_id=PROJECT, user_id=USER), 30, idempotency_key="req-7"
        ),
        "POST",
        "/rpc/create_and_queue_job",
        body={
            "p_job_id": str(uuid.uuid5(IDEMPOTENT_JOBS, f"{USER}/req-7")),
            "p_project_id": str(PROJECT),
            "p_user_id": str(USER),
            "p_credits": 30,
        },
        response=job_row(),
        check=lambda job: job.status is JobStatus.QUEUED and job.cost_credits_reserved == 30,
    ),
    Case(
        "jobs.create_and_queue",
        "service",
        lambda db: db.jobs.create_and_queue(
            JobInsert(project_id=PROJECT, user_id=USER, status_message="Rendering soon"), 99
        ),
        "POST",
        "/rpc/create_and_queue_job",
        body={
            "p_job_id": ANY_UUID,
            "p_project_id": str(PROJECT),
            "p_user_id": str(USER),
            "p_credits": 99,
            "p_status_message": "Rendering soon",
        },
        status=400,
        response=pgrst_error("VG101", "insufficient credits: the job needs 99, the balance is 10"),
        raises=InsufficientCreditsError,
        label="short",
    ),
]

INVALID = [
    Invalid(
        "jobs.create_and_queue",
        "service",
        lambda db: db.jobs.create_and_queue(JobInsert(project_id=PROJECT, user_id=USER), 0),
        "credits",
    ),
    Invalid(
        "jobs.create_and_queue",
        "service",
        lambda db: db.jobs.create_and_queue(
            JobInsert(id=JOB, project_id=PROJECT, user_id=USER), 5, idempotency_key="k"
        ),
        "not both",
        "id-and-key",
    ),
    Invalid("jobs.claim", "service", lambda db: db.jobs.claim(WORKER, limit=0), "limit"),
    Invalid("jobs.claim", "service", lambda db: db.jobs.claim(WORKER, limit=101), "limit", "101"),
    Invalid(
        "jobs.claim", "service", lambda db: db.jobs.claim(WORKER, lease_seconds=0), "lease_seconds"
    ),
    Invalid("jobs.recover", "service", lambda db: db.jobs.recover(limit=0), "limit"),
    Invalid("jobs.list", "user", lambda db: db.jobs.list(limit=0), "limit"),
    Invalid(
        "jobs.list", "user", lambda db: db.jobs.list(before="bm90LWEtY3Vyc29y"), "cursor", "forged"
    ),
    Invalid(
        "jobs.list",
        "service",
        lambda db: db.jobs.list(before=str(CURSOR)[:-1] + "A"),
        "cursor",
        "garbled",
    ),
    Invalid("jobs.list", "user", lambda db: db.jobs.list(status="DONE"), "JobStatus", "status"),
    Invalid("jobs.queue", "service", lambda db: db.jobs.queue(JOB, 0), "credits"),
    Invalid(
        "jobs.advance",
        "service",
        lambda db: db.jobs.advance(JOB, JobStatus.RENDERING, progress=101),
        "progress",
    ),
    Invalid(
        "jobs.finish", "service", lambda db: db.jobs.finish(JOB, "u", final_credits=-1), "final"
    ),
]


def test_create_chooses_the_id_and_reads_back_after_a_retried_insert() -> None:
    with respx.mock() as mock:
        post = mock.post(f"{REST}/jobs").mock(return_value=httpx.Response(201, json=[]))
        get = mock.get(f"{REST}/jobs").mock(return_value=httpx.Response(200, json=job_row()))
        with VidgenDB.service(URL, KEYS["service"]) as db:
            job = db.jobs.create(JobInsert(project_id=PROJECT, user_id=USER))
    sent = json.loads(post.calls.last.request.content)
    assert uuid.UUID(sent["id"])  # chosen here, so a repeated insert adds nothing
    assert get.calls.last.request.url.params["id"] == f"eq.{sent['id']}"
    assert job.id == JOB


async def test_transitions_are_retried_after_a_transient_failure() -> None:
    fast = ClientSettings(max_retries=2, initial_retry_delay=0.0, max_retry_delay=0.0)
    with respx.mock() as mock:
        route = mock.post(f"{REST}/rpc/advance_job").mock(
            side_effect=[httpx.Response(503, text="busy"), httpx.Response(200, json=job_row())]
        )
        async with AsyncVidgenDB.service(URL, KEYS["service"], settings=fast) as db:
            await db.jobs.advance(JOB, JobStatus.SCRIPTING)
    assert route.call_count == 2  # advance_job is idempotent by design
