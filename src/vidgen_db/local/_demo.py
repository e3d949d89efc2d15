"""``vidgen-db demo``: the product's data flow, end to end over HTTP, on a throwaway stack.

A visitor saves a draft prompt, signs up (welcome credits), claims the draft, creates a
project and queues a job (credits reserved); the worker moves it through every stage with
step progress, logs and assets and finishes it (credits settled); a second job fails and
is refunded; another user is refused the first user's project. Only the SDK's public API
is used; every call goes through the PostgREST-compatible gateway to PostgreSQL.
"""

from __future__ import annotations

import secrets
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TextIO
from uuid import UUID

from .._client import ServiceDB, UserDB
from .._errors import NotFoundError, VidgenDBError
from ..models import (
    AssetInsert,
    AssetType,
    CreditState,
    DraftPromptInsert,
    JobInsert,
    JobStatus,
    LogLevel,
    NichePreset,
    ProjectInsert,
)
from ._local_stack import LocalStack

__all__ = ["DemoError", "run_demo"]

#: The pipeline's work stages, in order, with the asset each one leaves (if any).
STAGES: tuple[tuple[JobStatus, AssetType | None], ...] = (
    (JobStatus.SCRIPTING, None),
    (JobStatus.VOICE_GEN, AssetType.AUDIO),
    (JobStatus.ALIGNMENT, AssetType.CAPTIONS),
    (JobStatus.VISUAL_PLAN, None),
    (JobStatus.IMAGE_GEN, AssetType.IMAGE),
    (JobStatus.TIMELINE, None),
    (JobStatus.RENDERING, AssetType.VIDEO),
    (JobStatus.PACKAGING, AssetType.MANIFEST),
)
_MIME = {
    AssetType.AUDIO: ("audio/mpeg", "mp3"),
    AssetType.CAPTIONS: ("text/vtt", "vtt"),
    AssetType.IMAGE: ("image/png", "png"),
    AssetType.VIDEO: ("video/mp4", "mp4"),
    AssetType.MANIFEST: ("application/json", "json"),
}

WELCOME_CREDITS = 10
PURCHASED = 20
JOB_RESERVE = 8
JOB_FINAL = 6
FAILED_JOB_RESERVE = 5


class DemoError(Exception):
    """The product did not behave as the demo expects."""


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise DemoError(what)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table with a header rule, columns padded to their widest cell."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return str(value.value)
    if hasattr(value, "strftime"):
        return str(value.strftime("%H:%M:%S"))
    text = str(value)
    return text if len(text) <= 48 else text[:45] + "..."


class _Demo:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.started = time.monotonic()

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def section(self, title: str) -> None:
        self.say()
        self.say(f"== {title} " + "=" * max(0, 70 - len(title)))

    def step(self, text: str) -> None:
        self.say(f"  * {text}")

    # -- the story ------------------------------------------------------------------------

    def run(self, stack: Any) -> None:
        self.say(f"local stack: {stack.url}  (REST: {stack.url}/rest/v1)")
        with stack.service_client() as worker, stack.anon_client() as visitor:
            self.section("1. A visitor writes a prompt before signing up")
            session_token = secrets.token_urlsafe(24)
            prompt = "A 90-second history of the printing press, for curious teenagers"
            visitor.drafts.save(DraftPromptInsert(session_token=session_token, prompt_text=prompt))
            self.step(
                "anonymous client: drafts.save(...) stored the draft (it cannot read it back)"
            )

            self.section("2. The visitor signs up and claims the draft")
            ada_id, ada_token = stack.create_user("ada@example.com", name="Ada")
            with visitor.as_user(ada_token) as ada:
                self.run_user(stack, worker, ada, ada_id, session_token, prompt)

    def run_user(
        self,
        stack: Any,
        worker: ServiceDB,
        ada: UserDB,
        ada_id: UUID,
        session_token: str,
        prompt: str,
    ) -> None:
        profile = ada.profiles.get_mine()
        balance = ada.credits.balance()
        self.step(f"signed up: {profile.display_name} <ada@example.com>, id {ada_id}")
        self.step(f"welcome credits: balance {balance}")
        _check(
            balance == WELCOME_CREDITS,
            f"welcome credits: expected {WELCOME_CREDITS}, got {balance}",
        )
        draft_id = ada.drafts.claim(session_token)
        _check(draft_id is not None, "the visitor's draft could not be claimed")
        assert draft_id is not None
        draft = ada.drafts.get(draft_id)
        _check(draft.prompt_text == prompt, "the claimed draft has another prompt")
        self.step(f"drafts.claim(session_token) -> draft {draft_id}: {draft.prompt_text!r}")

        self.section("3. A purchase, a project and a job (credits reserved)")
        balance = worker.credits.record_purchase(
            ada_id, PURCHASED, f"pi_demo_{secrets.token_hex(8)}"
        )
        self.step(
            f"Stripe webhook (service client): record_purchase({PURCHASED}) -> balance {balance}"
        )
        project = ada.projects.create(
            ProjectInsert(
                user_id=ada_id,
                title="The printing press",
                prompt_text=draft.prompt_text,
                niche_preset=NichePreset.HISTORY,
                target_minutes=2,
            )
        )
        self.step(f"user client: projects.create -> {project.title!r} ({project.id})")
        job = worker.jobs.create(JobInsert(project_id=project.id, user_id=ada_id))
        job = worker.jobs.queue(job.id, JOB_RESERVE)
        balance = ada.credits.balance()
        self.step(
            f"jobs.create + jobs.queue({JOB_RESERVE}) -> {job.status.value}, "
            f"credits {job.credit_state.value}; balance {balance}"
        )
        _check(job.credit_state is CreditState.RESERVED, "the job's credits are not reserved")
        _check(
            balance == WELCOME_CREDITS + PURCHASED - JOB_RESERVE,
            f"balance after the reservation: {balance}",
        )

        self.section("4. The worker renders the video, stage by stage")
        self.render(worker, ada, job.id)
        job = worker.jobs.finish(
            job.id, "https://cdn.example.com/videos/printing-press.mp4", final_credits=JOB_FINAL
        )
        self.step(
            f"jobs.finish(final_credits={JOB_FINAL}) -> {job.status.value}, "
            f"credits {job.credit_state.value}, progress {job.progress}%"
        )
        _check(job.status is JobStatus.READY, f"job status {job.status}")
        _check(job.credit_state is CreditState.SETTLED, "the job's credits are not settled")
        self.say()
        self.say(
            table(
                ["step", "state", "progress", "message", "artifacts"],
                [
                    (s.step_name, s.state, f"{s.progress_pct}%", s.status_message, s.artifacts_json)
                    for s in ada.job_steps.list(job.id)
                ],
            )
        )
        self.say()
        assets = ada.assets.list(job.id)
        self.say(
            table(["asset", "mime type", "url"], [(a.type, a.mime_type, a.url) for a in assets])
        )
        _check(len(assets) == sum(1 for _, kind in STAGES if kind), f"{len(assets)} assets")
        logs = ada.logs.list(job.id, limit=100)
        self.step(f"the user reads {len(logs)} log lines; the last: {logs[-1].message!r}")

        self.section("5. A second job fails and is refunded")
        second = worker.jobs.create(JobInsert(project_id=project.id, user_id=ada_id))
        second = worker.jobs.queue(second.id, FAILED_JOB_RESERVE)
        self.step(
            f"queued with {FAILED_JOB_RESERVE} credits reserved; balance {ada.credits.balance()}"
        )
        worker.job_steps.start(second.id, JobStatus.SCRIPTING.value)
        worker.job_steps.complete(second.id, JobStatus.SCRIPTING.value)
        worker.job_steps.start(second.id, JobStatus.VOICE_GEN.value)
        worker.logs.append(
            second.id,
            "voice provider timed out after 3 attempts",
            level=LogLevel.ERROR,
            step_name="VOICE_GEN",
        )
        second = worker.jobs.fail(second.id, "TTS_TIMEOUT", "the voice provider timed out")
        balance = ada.credits.balance()
        self.step(
            f"jobs.fail -> {second.status.value} at {second.failed_step}, "
            f"credits {second.credit_state.value}; balance {balance}"
        )
        _check(second.status is JobStatus.FAILED, f"second job status {second.status}")
        _check(second.credit_state is CreditState.REFUNDED, "the failed job was not refunded")
        expected = WELCOME_CREDITS + PURCHASED - JOB_FINAL
        _check(balance == expected, f"final balance: expected {expected}, got {balance}")

        self.section("6. Another user is refused Ada's data (row level security)")
        _, bob_token = stack.create_user("bob@example.com", name="Bob")
        with stack.user_client(bob_token) as bob:
            self.refused("bob: projects.get(ada's project)", lambda: bob.projects.get(project.id))
            self.refused("bob: jobs.get(ada's job)", lambda: bob.jobs.get(job.id))
            seen = bob.projects.list().items
            _check(not seen, "bob sees projects that are not his")
            self.step(
                f"bob: projects.list() -> {len(seen)} projects; "
                f"dashboard -> {len(bob.dashboard.page().items)} rows"
            )

        self.section("7. Ada's credits and dashboard")
        self.say(f"balance: {balance} credits")
        self.say()
        history = ada.credits.history(limit=50).items
        self.say(
            table(
                ["when", "type", "amount", "balance after", "note"],
                [
                    (
                        e.created_at,
                        e.type,
                        f"{e.amount:+d}",
                        e.balance_after,
                        e.note or e.stripe_payment_id or (e.job_id and f"job {str(e.job_id)[:8]}"),
                    )
                    for e in reversed(history)
                ],
            )
        )
        _check(
            sum(e.amount for e in history) == balance, "the ledger does not add up to the balance"
        )
        self.say()
        rows = ada.dashboard.page().items
        self.say(
            table(
                ["project", "niche", "latest job", "status", "progress"],
                [
                    (
                        r.title,
                        r.niche_preset,
                        r.latest_job_id and str(r.latest_job_id)[:8],
                        r.latest_job_status,
                        r.latest_job_progress,
                    )
                    for r in rows
                ],
            )
        )
        _check(len(rows) == 1 and rows[0].latest_job_id == second.id, "the dashboard's latest job")

    def render(self, worker: ServiceDB, ada: UserDB, job_id: UUID) -> None:
        for status, asset_kind in STAGES:
            stage = status.value
            worker.job_steps.start(job_id, stage, message=f"{stage.lower()} started")
            worker.logs.append(job_id, f"{stage}: working", step_name=stage)
            worker.job_steps.update(job_id, stage, 50, message="halfway")
            artifacts: dict[str, Any] = {}
            if asset_kind is not None:
                mime, ext = _MIME[asset_kind]
                path = f"jobs/{job_id}/{stage.lower()}.{ext}"
                asset = worker.assets.create(
                    AssetInsert(
                        job_id=job_id,
                        type=asset_kind,
                        url=f"https://cdn.example.com/{path}",
                        storage_path=path,
                        size_bytes=1024 * (1 + len(stage)),
                        mime_type=mime,
                    )
                )
                artifacts[asset_kind.value] = str(asset.id)
            worker.job_steps.update(job_id, stage, 100)
            worker.job_steps.complete(job_id, stage, artifacts=artifacts or None, message="done")
            seen = ada.jobs.get(job_id)
            self.step(
                f"{stage:<12} {seen.progress or 0:>3}%  (as the user sees it: {seen.status.value})"
            )

    def refused(self, what: str, call: Callable[[], object]) -> None:
        try:
            call()
        except NotFoundError:
            self.step(f"{what} -> refused (not found: RLS hides other users' rows)")
            return
        raise DemoError(f"{what} was not refused")


def run_demo(
    *,
    server_url: str | None = None,
    out: TextIO | None = None,
    database_url: str | None = None,
) -> int:
    """Run the demo on a throwaway local stack: an embedded PostgreSQL, or a throwaway
    database on the server ``server_url`` names (a superuser URL; ``database_url`` is its
    deprecated older name). Returns 0 on success, 1 (with the reason on stderr) if anything
    misbehaved."""
    if database_url is not None:
        warnings.warn(
            "run_demo(database_url=) is deprecated: it names a server on which a throwaway "
            "database is created; pass server_url=",
            DeprecationWarning,
            stacklevel=2,
        )
        if server_url not in (None, database_url):
            raise ValueError("pass server_url or its deprecated name database_url, not both")
        server_url = database_url
    demo = _Demo(out or sys.stdout)
    try:
        demo.say("starting the local stack (PostgreSQL, migrations, gateway)...")
        with LocalStack(server_url=server_url) as stack:
            demo.run(stack)
    except DemoError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    except VidgenDBError as exc:
        print(f"\ndemo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"\ndemo failed: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    demo.say()
    demo.say(f"demo finished in {time.monotonic() - demo.started:.1f} s: everything behaved.")
    return 0
