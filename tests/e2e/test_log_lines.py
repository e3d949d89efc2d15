"""A user's job log over HTTP, from the attacker's side: line numbers count their own job's
lines only, and the global id can be neither read, nor filtered, nor sorted by."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vidgen_db import PermissionDeniedError, ServiceDB, UserDB

from .helpers import job_for, project_for

MakeUser = Callable[..., UserDB]


def test_a_users_log_says_nothing_about_other_users(
    user_factory: MakeUser, service: ServiceDB
) -> None:
    ada, bob = user_factory("Ada"), user_factory("Bob")
    ada_job = service.jobs.create(
        job_for(ada.projects.create(project_for(ada.user_id)).id, ada.user_id)
    )
    bob_job = service.jobs.create(
        job_for(bob.projects.create(project_for(bob.user_id)).id, bob.user_id)
    )
    seen = []
    for n in range(3):
        seen.append(service.logs.append(ada_job.id, f"ada {n}"))
        for m in range(20):
            service.logs.append(bob_job.id, f"bob {n}.{m}")
    assert seen == [1, 2, 3]
    lines = ada.logs.list(ada_job.id)
    assert [(line.line_no, line.message, line.id) for line in lines] == [
        (1, "ada 0", None),
        (2, "ada 1", None),
        (3, "ada 2", None),
    ]
    assert [line.line_no for line in ada.logs.list(ada_job.id, after_line=1)] == [2, 3]
    # The service role still sees the global id.
    assert all(line.id is not None for line in service.logs.list(ada_job.id))


@pytest.mark.parametrize(
    ("select", "filters"),
    [
        ("id", {}),
        ("*", {}),
        ("line_no", {"gt": "0"}),
        ("line_no", {"order": "desc"}),
    ],
)
def test_the_global_id_is_out_of_a_users_reach(
    user_factory: MakeUser, service: ServiceDB, select: str, filters: dict[str, str]
) -> None:
    ada = user_factory()
    job = service.jobs.create(
        job_for(ada.projects.create(project_for(ada.user_id)).id, ada.user_id)
    )
    service.logs.append(job.id, "a line")
    query = ada._rest.table("job_logs").select(select).eq("job_id", str(job.id))
    if "gt" in filters:
        query = query.gt("id", filters["gt"])
    if "order" in filters:
        query = query.order("id", desc=True)
    with pytest.raises(PermissionDeniedError):
        query.execute()
