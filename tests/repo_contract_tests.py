"""The four contract tests every tests/test_repos_<resource>.py module runs over its own
CASES and INVALID tables (parametrized by ``pytest_generate_tests`` in conftest.py).
Import them into a resource module to run them there."""

from __future__ import annotations

from test_repos_clients import (
    Case,
    Invalid,
    run_async,
    run_invalid_async,
    run_invalid_sync,
    run_sync,
)

__all__ = [
    "test_async",
    "test_refused_before_any_request_async",
    "test_refused_before_any_request_sync",
    "test_sync",
]


def test_sync(contract_case: Case) -> None:
    run_sync(contract_case)


async def test_async(contract_case: Case) -> None:
    await run_async(contract_case)


def test_refused_before_any_request_sync(invalid_case: Invalid) -> None:
    run_invalid_sync(invalid_case)


async def test_refused_before_any_request_async(invalid_case: Invalid) -> None:
    await run_invalid_async(invalid_case)
