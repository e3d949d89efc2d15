"""LocalStack itself: keys and tokens, reset() around the append-only ledger, lifecycle."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from vidgen_db.local.gateway import decode_jwt
from vidgen_db.models import DraftPromptInsert
from vidgen_db.testing import LocalStack

from .helpers import job_for, project_for


def test_keys_and_tokens_are_signed_with_a_fresh_secret(local_stack: LocalStack) -> None:
    stack = local_stack
    assert decode_jwt(stack.anon_key, stack.jwt_secret)["role"] == "anon"
    assert decode_jwt(stack.service_key, stack.jwt_secret)["role"] == "service_role"
    user_id, token = stack.create_user(f"{secrets.token_hex(4)}@example.com", name="Tok")
    claims = decode_jwt(token, stack.jwt_secret, audience="authenticated")
    assert claims["sub"] == str(user_id) and claims["role"] == "authenticated"
    assert claims["email"].endswith("@example.com") and claims["exp"] > claims["iat"]
    assert LocalStack().jwt_secret != LocalStack().jwt_secret != stack.jwt_secret
    assert stack.rest_url == stack.url + "/rest/v1"


async def test_reset_empties_the_data_and_keeps_the_schema(
    local_stack: LocalStack, admin_url: str
) -> None:
    async with LocalStack(server_url=admin_url) as stack:
        url = stack.database_url
        user_id, token = stack.create_user("reset@example.com")
        with stack.service_client() as service, stack.anon_client() as anon:
            anon.drafts.save(
                DraftPromptInsert(session_token=secrets.token_urlsafe(24), prompt_text="x")
            )
            project = service.projects.create(project_for(user_id))
            job = service.jobs.queue(service.jobs.create(job_for(project.id, user_id)).id, 2)
            service.logs.append(job.id, "x")
            service.credits.grant(user_id, 3)
            stack.reset()
            with stack.connect() as conn:
                counts = conn.execute(
                    "SELECT (SELECT count(*) FROM auth.users), (SELECT count(*) FROM projects), "
                    "(SELECT count(*) FROM jobs), (SELECT count(*) FROM job_logs), "
                    "(SELECT count(*) FROM credit_ledger), (SELECT count(*) FROM credit_balances), "
                    "(SELECT count(*) FROM draft_prompts), (SELECT count(*) FROM profiles)"
                ).fetchone()
            assert counts == (0,) * 8
            # Still fully usable: the same email signs up again with fresh welcome credits.
            again, token = stack.create_user("reset@example.com")
            with stack.user_client(token) as db:
                assert db.credits.balance() == 10 and db.user_id == again
    with pytest.raises(psycopg.OperationalError):  # the throwaway database is gone
        psycopg.connect(url, connect_timeout=5).close()


def test_a_stack_cannot_start_twice_and_stops_cleanly(
    local_stack: LocalStack, admin_url: str
) -> None:
    stack = LocalStack(server_url=admin_url, migrate=False)
    assert not stack.started
    with pytest.raises(RuntimeError):
        _ = stack.database_url
    with stack:
        assert stack.started and "stopped" not in repr(stack)
        with pytest.raises(RuntimeError):
            stack.start()
    assert not stack.started and repr(stack) == "LocalStack(stopped)"
    with pytest.raises(ValueError):
        LocalStack(database_url=admin_url, server_url=admin_url)
