"""The README's usage examples run as written against the local stack."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vidgen_db import ServiceDB
from vidgen_db.models import ProjectInsert
from vidgen_db.testing import Stack

from .conftest import NewUser

README = Path(__file__).resolve().parents[2] / "README.md"
#: Run before an example: counts the HTTP requests it sends, printed when it exits.
COUNT_REQUESTS = """
import atexit, httpx
_sent = [0]
_send, _asend = httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request
def _counted(self, request):
    _sent[0] += 1
    return _send(self, request)
async def _acounted(self, request):
    _sent[0] += 1
    return await _asend(self, request)
httpx.HTTPTransport.handle_request = _counted
httpx.AsyncHTTPTransport.handle_async_request = _acounted
atexit.register(lambda: print("requests sent:", _sent[0]))
"""
#: What each example costs, in requests (the worker's: docs/benchmarks.md).
REQUESTS = {0: 3, 1: 11, 2: 5}


def _examples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Using the SDK", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readme_has_an_example_per_consumer() -> None:
    examples = _examples()
    assert len(examples) == 3
    assert "AsyncVidgenDB.anonymous" in examples[0] and "as_user" in examples[0]
    assert "jobs.step" in examples[1]
    assert "credits.grant" in examples[2]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["api-service", "worker", "scripts"])
def test_readme_example_runs(
    index: int, stack: Stack, new_user: NewUser, service: ServiceDB
) -> None:
    user_id, token = new_user()
    service.credits.grant(user_id, 40, note="readme example")
    project = service.projects.create(
        ProjectInsert(user_id=user_id, title="t", prompt_text="p", niche_preset="facts")
    )
    env = dict(os.environ)
    env.update(
        SUPABASE_URL=stack.url,
        SUPABASE_ANON_KEY=stack.anon_key,
        SUPABASE_SERVICE_ROLE_KEY=stack.service_key,
        ACCESS_TOKEN=token,
        PROJECT_ID=str(project.id),
        USER_ID=str(user_id),
    )
    result = subprocess.run(
        [sys.executable, "-c", COUNT_REQUESTS + _examples()[index]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.strip().endswith(f"requests sent: {REQUESTS[index]}"), out
    if index == 0:
        assert "Roman roads" in out
    elif index == 1:
        assert "READY\nrequests sent:" in out
        assert service.credits.balance(user_id) == 50 - 5
    else:
        assert "balance 50" in out and "after a grant 70" in out
        assert "after a purchase 170" in out and "replayed webhook 170" in out
