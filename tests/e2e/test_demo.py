"""The demo runs to the end against a throwaway database and exits 0."""

from __future__ import annotations

import io

import pytest

from vidgen_db.local import run_demo
from vidgen_db.local._demo import table
from vidgen_db.testing import LocalStack


def test_the_demo_runs_and_exits_0(local_stack: LocalStack, admin_url: str) -> None:
    out = io.StringIO()
    assert run_demo(server_url=admin_url, out=out) == 0
    text = out.getvalue()
    for expected in ("welcome credits: balance 10", "READY", "refunded", "refused", "balance: 24"):
        assert expected in text, expected


def test_the_demo_reports_failure_with_non_zero(capsys: object) -> None:
    assert run_demo(server_url="postgresql://nobody@127.0.0.1:1/none") == 1


def test_table_formatting() -> None:
    assert table(["a", "bb"], [(1, None), ("long", "x")]).splitlines() == [
        "a     bb",
        "----  --",
        "1     -",
        "long  x",
    ]


def test_the_old_keyword_still_works_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="pass server_url="):
        assert run_demo(database_url="postgresql://nobody@127.0.0.1:1/none") == 1
