"""The error contract an API service relies on: every error's ``http_status``, ``code``,
``user_message``, ``upstream_status`` and ``request_id``; the domain errors' fields; and
docs/errors.md, the reference, naming every class."""

from __future__ import annotations

import json
import re
from pathlib import Path
from uuid import UUID

import httpx
import pytest

import vidgen_db
from vidgen_db import (
    ActiveJobError,
    APIError,
    IdempotencyKeyReusedError,
    IllegalJobTransitionError,
    InsufficientCreditsError,
    InvalidArgumentError,
    JobCancelledError,
    LeaseLostError,
    MigrationFailedError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    UnknownWorkerError,
    VidgenDBError,
)
from vidgen_db._error_mapping import error_from_response, error_from_transport

ERRORS_DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
ANSWERABLE = {400, 401, 402, 403, 404, 409, 422, 429, 500, 503, 504}
JOB = UUID("2b1f0c56-9d0e-4f4e-8a43-0c8e6f1d2a77")
PROJECT = UUID("6c1e2f4a-1b2c-4d5e-8f90-a1b2c3d4e5f6")


def error_classes() -> list[type[VidgenDBError]]:
    found = [getattr(vidgen_db, name) for name in vidgen_db.__all__]
    return [c for c in found if isinstance(c, type) and issubclass(c, VidgenDBError)]


def body(code: str, message: str, details: str | None = None) -> bytes:
    return json.dumps({"code": code, "message": message, "details": details, "hint": None}).encode()


def test_every_public_error_class_is_exported_and_the_tree_is_whole() -> None:
    exported = set(error_classes())
    everything: set[type[VidgenDBError]] = set()
    pending: list[type[VidgenDBError]] = [VidgenDBError]
    while pending:
        cls = pending.pop()
        everything.add(cls)
        pending.extend(cls.__subclasses__())
    public = {
        c
        for c in everything
        if not c.__name__.startswith("_") and c.__module__ == "vidgen_db._errors"
    }
    assert public <= exported, f"not exported: {sorted(c.__name__ for c in public - exported)}"


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_each_class_has_an_answer_a_code_and_a_safe_message(cls: type[VidgenDBError]) -> None:
    assert cls.http_status in ANSWERABLE
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", cls.default_code), cls.default_code
    message = cls.default_user_message
    assert message[0].isupper() and message.endswith(".")
    for internal in ("SQL", "PGRST", "p_", "public.", "vidgen", "RLS", "_"):
        assert internal not in message, (cls.__name__, internal)


def test_the_reference_names_every_class_with_its_status_and_code() -> None:
    text = ERRORS_DOC.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^### `?(\w+)`?\n(.*?)(?=^### |^## |\Z)", text, re.M | re.S))
    missing = [c.__name__ for c in error_classes() if c.__name__ not in sections]
    assert missing == [], f"docs/errors.md lacks a section for {missing}"
    for cls in error_classes():
        section = sections[cls.__name__]
        assert f"`{cls.http_status}`" in section, f"{cls.__name__}: status {cls.http_status}"
        assert f"`{cls.default_code}`" in section, f"{cls.__name__}: code {cls.default_code}"
    extra = set(sections) - {c.__name__ for c in error_classes()}
    assert extra == set(), f"docs/errors.md describes classes that do not exist: {extra}"


def test_the_answer_is_not_the_upstream_status() -> None:
    missing = error_from_response(406, body("PGRST116", "Cannot coerce the result"))
    assert type(missing) is NotFoundError
    assert (missing.http_status, missing.upstream_status, missing.code) == (404, 406, "PGRST116")
    assert missing.status_code == 406  # the older name of upstream_status
    unknown_job = error_from_response(400, body("VG002", f"unknown job {JOB}"))
    assert type(unknown_job) is NotFoundError and unknown_job.http_status == 404


def test_permission_denied_is_401_for_the_anonymous_and_403_for_a_user() -> None:
    anonymous = error_from_response(401, body("42501", "permission denied for table jobs"))
    signed_in = error_from_response(403, body("42501", "permission denied for table jobs"))
    assert isinstance(anonymous, PermissionDeniedError) and anonymous.http_status == 401
    assert isinstance(signed_in, PermissionDeniedError) and signed_in.http_status == 403


def test_insufficient_credits_carries_the_amounts() -> None:
    detail = json.dumps({"required": 30, "balance": 7})
    from_detail = error_from_response(400, body("VG101", "insufficient credits", detail))
    assert isinstance(from_detail, InsufficientCreditsError)
    assert (from_detail.required, from_detail.balance, from_detail.http_status) == (30, 7, 402)
    assert from_detail.user_message == "Not enough credits: this needs 30 and you have 7."
    text = f"insufficient credits: job {JOB} needs 25, the balance is 0"
    from_text = error_from_response(400, body("VG101", text))
    assert isinstance(from_text, InsufficientCreditsError)
    assert (from_text.required, from_text.balance) == (25, 0)
    vague = error_from_response(400, body("VG101", "insufficient credits"))
    assert isinstance(vague, InsufficientCreditsError)
    assert (vague.required, vague.balance, vague.user_message) == (
        None,
        None,
        "Not enough credits.",
    )


def test_job_errors_name_their_job_and_transition() -> None:
    moved = error_from_response(
        409, body("VG201", f"illegal job transition READY -> FAILED for job {JOB}")
    )
    assert isinstance(moved, IllegalJobTransitionError)
    assert (moved.from_status, moved.to_status, moved.job_id) == ("READY", "FAILED", JOB)
    lost = error_from_response(409, body("VG302", f"lease 5 on job {JOB} is lost: expired"))
    assert isinstance(lost, LeaseLostError) and lost.job_id == JOB
    cancelled = error_from_response(409, body("VG303", f"job {JOB} was cancelled by its owner"))
    assert isinstance(cancelled, JobCancelledError) and cancelled.job_id == JOB
    project = error_from_response(
        409, body("VG304", f"project {PROJECT} has an active job: cancel it first")
    )
    assert isinstance(project, ActiveJobError)
    assert (project.project_id, project.job_id) == (PROJECT, None)
    worker = error_from_response(404, body("VG301", f"unknown worker {JOB}"))
    assert isinstance(worker, UnknownWorkerError) and worker.worker_id == JOB
    reused = error_from_response(409, body("VG107", "the key was used with other arguments"))
    assert isinstance(reused, IdempotencyKeyReusedError) and reused.http_status == 409


def test_user_message_never_repeats_the_server() -> None:
    leaky = error_from_response(
        500, body("XX000", 'relation "vidgen_private.secret" does not exist in SELECT ...')
    )
    assert isinstance(leaky, ServerError)
    assert "vidgen_private" not in leaky.user_message and "SELECT" not in leaky.user_message
    assert leaky.code == "XX000" and leaky.http_status == 500
    assert "vidgen_private.secret" in str(leaky)  # the log still has it all


def test_codes_without_a_server_code_are_stable_names() -> None:
    assert error_from_response(502, b"<html>Bad Gateway</html>").code == "unavailable"
    assert error_from_response(429, b"slow down").code == "rate_limited"
    assert error_from_transport(httpx.ConnectError("refused")).code == "network_error"
    assert error_from_transport(httpx.ReadTimeout("slow")).code == "timeout"
    assert InvalidArgumentError("limit must be 1 to 1000").code == "invalid_argument"
    assert InvalidArgumentError("x").http_status == 422
    failed = MigrationFailedError("0001_x.sql", 0, "select 1/0", "22012", "division by zero")
    assert failed.code == "22012"


def test_the_request_id_is_kept() -> None:
    headers = httpx.Headers({"sb-request-id": "019a-req-7"})
    error = error_from_response(404, body("PGRST116", "none"), "Not Found", headers)
    assert error.request_id == "019a-req-7"
    assert error_from_response(404, body("PGRST116", "none")).request_id is None


def test_every_error_is_an_api_error_or_says_why_not() -> None:
    # The classes outside APIError never come from the server: no upstream status.
    for cls in error_classes():
        if not issubclass(cls, APIError):
            assert cls.upstream_status is None and cls.request_id is None, cls.__name__


def test_the_code_table_is_the_clients_own() -> None:
    from vidgen_db._error_mapping import _BY_CODE

    text = ERRORS_DOC.read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `(\w+)` \| `(\w+)` \|$", text, re.M))
    assert table == {code: cls.__name__ for code, cls in _BY_CODE.items()}
