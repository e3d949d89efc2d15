"""Read replicas end to end: two local stacks stand in for the primary and its replica
(same keys, separate databases, so the "replica" never catches up and each row shows
which database answered). Reads go to the replica; writes, and a writer's own reads for
the read-your-writes window, go to the primary."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from uuid import UUID

import httpx
import psycopg
import pytest

from vidgen_db import ClientSettings, NotFoundError, VidgenDB
from vidgen_db.models import ProjectInsert
from vidgen_db.testing import LocalStack

WINDOW = 1.0


class Where(httpx.HTTPTransport):
    """The real transport, recording the port each request went to."""

    def __init__(self) -> None:
        super().__init__()
        self.ports: list[int | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.ports.append(request.url.port)
        return super().handle_request(request)


@pytest.fixture(scope="module")
def stacks(
    local_stack: LocalStack, make_database: Callable[..., str], migrated_template: str
) -> Iterator[tuple[LocalStack, LocalStack]]:
    """(primary, replica): the suite's stack, and a second one with the same keys."""
    url = make_database(template=migrated_template)
    replica = LocalStack(database_url=url, migrate=False, jwt_secret=local_stack.jwt_secret)
    # A replica takes the project's keys.
    replica.anon_key, replica.service_key = local_stack.anon_key, local_stack.service_key
    with replica:
        yield local_stack, replica


def user_in_both(stacks: tuple[LocalStack, LocalStack]) -> tuple[UUID, str]:
    """A user signed up on the primary, copied to the replica (as replication would)."""
    primary, replica = stacks
    email = f"rr-{uuid.uuid4().hex[:12]}@example.com"
    user_id, token = primary.create_user(email)
    with psycopg.connect(replica.database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)", (user_id, email))
    return user_id, token


def project(user_id: UUID, title: str) -> ProjectInsert:
    return ProjectInsert(user_id=user_id, title=title, prompt_text="p", niche_preset="facts")


def port_of(stack: LocalStack) -> int | None:
    return httpx.URL(stack.url).port


def test_reads_go_to_the_replica_and_a_writer_reads_its_own_writes(
    stacks: tuple[LocalStack, LocalStack],
) -> None:
    primary, replica = stacks
    user_id, token = user_in_both(stacks)
    with replica.service_client() as on_replica:  # a row only the replica has
        only_there = on_replica.projects.create(project(user_id, "only on the replica"))
    where = Where()
    with VidgenDB.anonymous(
        primary.url,
        primary.anon_key,
        read_url=replica.url,
        transport=where,
        settings=ClientSettings(read_your_writes=WINDOW),
    ) as app:
        db = app.as_user(token)
        assert db.projects.get(only_there.id).title == "only on the replica"
        assert where.ports == [port_of(replica)]

        mine = db.projects.create(project(user_id, "just written"))  # to the primary
        assert db.projects.get(mine.id).title == "just written"  # read from the primary
        with pytest.raises(NotFoundError):  # the primary does not have the replica's row
            db.projects.get(only_there.id)
        assert where.ports[1:] == [port_of(primary)] * 3

        # Another caller is not held to the primary by this one's write.
        _, other_token = user_in_both(stacks)
        with pytest.raises(NotFoundError):
            app.as_user(other_token).projects.get(mine.id)  # the replica lags: not there
        assert where.ports[-1] == port_of(replica)

        time.sleep(WINDOW + 0.1)  # the window has passed: reads go to the replica again
        assert db.projects.get(only_there.id).title == "only on the replica"
        with pytest.raises(NotFoundError):
            db.projects.get(mine.id)
        assert where.ports[-2:] == [port_of(replica)] * 2
    with primary.service_client() as on_primary:
        assert on_primary.projects.get(mine.id).title == "just written"


def test_read_only_functions_go_to_the_replica_and_writing_ones_to_the_primary(
    stacks: tuple[LocalStack, LocalStack],
) -> None:
    primary, replica = stacks
    user_id, _ = user_in_both(stacks)
    where = Where()
    with VidgenDB.service(
        primary.url, primary.service_key, read_url=replica.url, transport=where
    ) as db:
        db.credits.balance(user_id)  # STABLE: the replica
        db.jobs.stats()  # STABLE: the replica
        db.credits.grant(user_id, 5, note="goodwill")  # writes: the primary
        assert where.ports == [port_of(replica), port_of(replica), port_of(primary)]
    with replica.service_client() as on_replica, primary.service_client() as on_primary:
        assert on_primary.credits.balance(user_id) == on_replica.credits.balance(user_id) + 5


def test_a_replica_that_is_down_leaves_reads_to_the_primary(
    stacks: tuple[LocalStack, LocalStack],
) -> None:
    primary, _ = stacks
    user_id, _ = user_in_both(stacks)
    with (
        socket_nobody_listens_on() as dead,
        VidgenDB.service(
            primary.url,
            primary.service_key,
            read_url=dead,
            settings=ClientSettings(max_retries=0),
        ) as db,
    ):
        assert db.credits.balance(user_id) >= 0


class socket_nobody_listens_on:
    """A local URL whose port refuses connections."""

    def __enter__(self) -> str:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        return None
