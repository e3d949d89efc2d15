from __future__ import annotations

import pytest

from vidgen_db.migrate._sqlsplit import normalize_statements, split_statements


def test_splits_on_semicolons_and_drops_empty_statements() -> None:
    assert split_statements("select 1; select 2;;\n -- trailing comment\n") == [
        "select 1",
        "select 2",
    ]


def test_semicolons_inside_quotes_comments_and_dollar_bodies_do_not_split() -> None:
    script = """
    select 'a;b', "odd;name", E'it\\'s;';
    -- a comment; with a semicolon
    /* block; /* nested; */ still comment; */
    create function f() returns int language plpgsql as $body$
    begin return 1; end; $body$;
    do $$ begin perform 1; end $$;
    select $1;
    """
    statements = split_statements(script)
    assert len(statements) == 4
    assert statements[0].startswith("select 'a;b'")
    assert "$body$" in statements[1] and statements[1].rstrip().endswith("$body$")
    assert statements[2].startswith("do $$")
    assert statements[3] == "select $1"


def test_unterminated_constructs_are_reported() -> None:
    with pytest.raises(ValueError, match="dollar-quoted"):
        split_statements("do $x$ begin")
    with pytest.raises(ValueError, match="string"):
        split_statements("select 'abc")
    with pytest.raises(ValueError, match="comment"):
        split_statements("/* never closed")


def test_normalize_ignores_comments_and_whitespace_but_not_code() -> None:
    a = split_statements("create table t (a int); -- note\n")
    b = split_statements("-- changed comment\ncreate   table t\n(a int);")
    c = split_statements("create table t (a bigint);")
    assert normalize_statements(a) == normalize_statements(b)
    assert normalize_statements(a) != normalize_statements(c)
    # Text inside string literals is code, not whitespace to fold.
    assert normalize_statements(["select 'a  b'"]) != normalize_statements(["select 'a b'"])
