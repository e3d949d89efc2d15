"""HTTP contract of db.job_steps (user: read; service: start, update, complete, fail)."""

from __future__ import annotations

import uuid

# The shared contract tests, run here over this module's CASES and INVALID tables.
from repo_contract_tests import (
    test_async,  # noqa: F401
    test_refused_before_any_request_async,  # noqa: F401
    test_refused_before_any_request_sync,  # noqa: F401
    test_sync,  # noqa: F401
)
from test_repos_clients import (
    AT,
    JOB,
    Case,
    Invalid,
    job_row,
    pgrst_error,
    step_row,
)
from vidgen_db import BadRequestError, ConflictError, JobCancelledError, LeaseLostError
from vidgen_db.models import CreditState, Job, JobStatus, JobStep, StepStatus

STEPS = [
    step_row(state="succeeded", progress_pct=100, finished_at=AT),
    step_row(id=str(uuid.UUID(int=2)), step_name="VOICE_GEN", step_order=2, state="started"),
]
BY_ORDER = {"select": "*", "job_id": f"eq.{JOB}", "order": "step_order.asc,id.asc"}
ARTIFACTS = {"script_url": "https://cdn.example.com/scripts/1.json", "words": 812}

CASES = [
    Case(
        "job_steps.list",
        role,
        lambda db: db.job_steps.list(JOB),
        "GET",
        "/job_steps",
        params=BY_ORDER,
        response=STEPS,
        check=lambda steps: (
            [s.step_name for s in steps] == ["SCRIPTING", "VOICE_GEN"]
            and all(isinstance(s, JobStep) for s in steps)
            and steps[0].state is StepStatus.SUCCEEDED
        ),
    )
    for role in ("user", "service")
] + [
    Case(
        "job_steps.start",
        "service",
        lambda db: db.job_steps.start(JOB, "SCRIPTING", message="writing the script"),
        "POST",
        "/rpc/start_job_step",
        body={
            "p_job_id": str(JOB),
            "p_step_name": "SCRIPTING",
            "p_message": "writing the script",
        },
        response=step_row(status_message="writing the script"),
        check=lambda s: isinstance(s, JobStep) and s.state is StepStatus.STARTED,
    ),
    Case(
        "job_steps.start",
        "service",
        lambda db: db.job_steps.start(JOB, "DANCING"),
        "POST",
        "/rpc/start_job_step",
        body={"p_job_id": str(JOB), "p_step_name": "DANCING"},
        status=400,
        response=pgrst_error(
            "VG202", "unknown step DANCING: steps are the pipeline stages SCRIPTING .. PACKAGING"
        ),
        raises=BadRequestError,
        check=lambda e: e.code == "VG202",
        label="unknown-step",
    ),
    Case(
        "job_steps.update",
        "service",
        lambda db: db.job_steps.update(JOB, "SCRIPTING", 40),
        "POST",
        "/rpc/update_job_step",
        body={"p_job_id": str(JOB), "p_step_name": "SCRIPTING", "p_progress": 40},
        response=step_row(progress_pct=40),
        check=lambda s: s.progress_pct == 40,
    ),
    Case(
        "job_steps.update",
        "service",
        lambda db: db.job_steps.update(JOB, "RENDERING", 10, message="frame 100"),
        "POST",
        "/rpc/update_job_step",
        body={
            "p_job_id": str(JOB),
            "p_step_name": "RENDERING",
            "p_progress": 10,
            "p_message": "frame 100",
        },
        status=400,
        response=pgrst_error("VG203", f"step RENDERING of job {JOB} is not started"),
        raises=ConflictError,
        check=lambda e: e.code == "VG203",
        label="not-started",
    ),
    Case(
        "job_steps.complete",
        "service",
        lambda db: db.job_steps.complete(JOB, "SCRIPTING", artifacts=ARTIFACTS),
        "POST",
        "/rpc/complete_job_step",
        body={"p_job_id": str(JOB), "p_step_name": "SCRIPTING", "p_artifacts": ARTIFACTS},
        response=step_row(
            state="succeeded", progress_pct=100, artifacts_json=ARTIFACTS, finished_at=AT
        ),
        check=lambda s: s.state is StepStatus.SUCCEEDED and s.artifacts_json == ARTIFACTS,
    ),
    Case(
        "job_steps.fail",
        "service",
        lambda db: db.job_steps.fail(JOB, "VOICE_GEN", "TTS_TIMEOUT", "voice provider timed out"),
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
        check=lambda job: (
            isinstance(job, Job)
            and job.status is JobStatus.FAILED
            and job.credit_state is CreditState.REFUNDED
            and job.failed_step == "VOICE_GEN"
        ),
    ),
    Case(
        "job_steps.start",
        "service",
        lambda db: db.job_steps.start(JOB, "SCRIPTING", lease=41),
        "POST",
        "/rpc/start_job_step",
        body={"p_job_id": str(JOB), "p_step_name": "SCRIPTING", "p_lease": 41},
        status=400,
        response=pgrst_error("VG302", f"lease 41 on job {JOB} is lost"),
        raises=LeaseLostError,
        label="stale-lease",
    ),
    Case(
        "job_steps.update",
        "service",
        lambda db: db.job_steps.update(JOB, "SCRIPTING", 60, lease=41),
        "POST",
        "/rpc/update_job_step",
        body={"p_job_id": str(JOB), "p_step_name": "SCRIPTING", "p_progress": 60, "p_lease": 41},
        status=400,
        response=pgrst_error("VG303", f"job {JOB} was cancelled by its owner"),
        raises=JobCancelledError,
        label="cancelled",
    ),
    Case(
        "job_steps.complete",
        "service",
        lambda db: db.job_steps.complete(JOB, "SCRIPTING", lease=41),
        "POST",
        "/rpc/complete_job_step",
        body={"p_job_id": str(JOB), "p_step_name": "SCRIPTING", "p_lease": 41},
        response=step_row(state="succeeded", progress_pct=100, finished_at=AT),
        check=lambda s: s.state is StepStatus.SUCCEEDED,
        label="lease",
    ),
    Case(
        "job_steps.fail",
        "service",
        lambda db: db.job_steps.fail(JOB, "SCRIPTING", "E", "m", lease=41),
        "POST",
        "/rpc/fail_job",
        body={
            "p_job_id": str(JOB),
            "p_error_code": "E",
            "p_error_message": "m",
            "p_failed_step": "SCRIPTING",
            "p_lease": 41,
        },
        response=job_row(status="FAILED", credit_state="refunded", error_code="CANCELLED"),
        check=lambda job: job.error_code == "CANCELLED",
        label="cancelled-job",
    ),
]

INVALID = [
    Invalid(
        "job_steps.update",
        "service",
        lambda db: db.job_steps.update(JOB, "SCRIPTING", 101),
        "progress",
    ),
    Invalid(
        "job_steps.update",
        "service",
        lambda db: db.job_steps.update(JOB, "SCRIPTING", None),
        "progress",
        "none",
    ),
]
