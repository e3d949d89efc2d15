"""The way down over real HTTP: a query the repositories do not offer (a job with its
steps embedded) through ``db.rest``, with the client's error mapping and RLS intact."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import Field

from vidgen_db import NotFoundError, ServiceDB, UserDB
from vidgen_db.models import Job, JobStep

from .helpers import job_for, project_for


class JobWithSteps(Job):
    steps: list[JobStep] = Field(alias="job_steps")


def test_a_job_with_its_steps_embedded(
    service: ServiceDB, user_factory: Callable[..., UserDB]
) -> None:
    owner, stranger = user_factory(), user_factory()
    project = owner.projects.create(project_for(owner.user_id))
    job = service.jobs.create(job_for(project.id, owner.user_id))
    service.jobs.queue(job.id, credits=1)
    service.job_steps.start(job.id, "SCRIPTING")
    fast = owner.with_options(timeout=5, max_retries=0)
    found = (
        fast.rest.table("jobs").select("*, job_steps(*)").eq("id", str(job.id)).single().execute()
    )
    embedded = JobWithSteps.model_validate(found.data)  # as docs/usage.md does
    assert embedded.id == job.id
    assert [step.step_name for step in embedded.steps] == ["SCRIPTING"]
    with pytest.raises(NotFoundError) as hidden:  # RLS: another user's job is not there
        stranger.rest.table("jobs").select("*").eq("id", str(job.id)).single().execute()
    assert hidden.value.http_status == 404
