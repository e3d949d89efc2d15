"""Unit tests of the pure parts: status mapping, query language, preferences, ranges."""

from __future__ import annotations

import pytest

from vidgen_db.local.gateway import ApiError, GatewayConfig
from vidgen_db.local.gateway._errors import pg_error_status
from vidgen_db.local.gateway._query import EmbedItem, Field, JsonOp, parse_select
from vidgen_db.local.gateway._query_params import parse_filter, parse_order, split_key
from vidgen_db.local.gateway._request import (
    compute_range,
    negotiate,
    parse_preferences,
    parse_range_header,
)
from vidgen_db.local.gateway._views import top_target_entries


@pytest.mark.parametrize(
    ("sqlstate", "message", "authenticated", "status"),
    [
        ("08006", "", False, 503),
        ("09000", "", False, 500),
        ("0L000", "", False, 403),
        ("0P000", "", False, 403),
        ("23503", "", False, 409),
        ("23505", "", False, 409),
        ("23514", "", False, 400),
        ("23502", "", False, 400),
        ("25006", "", False, 405),
        ("25001", "", False, 500),
        ("28000", "", False, 403),
        ("2D000", "", False, 500),
        ("38000", "", False, 500),
        ("39000", "", False, 500),
        ("3B000", "", False, 500),
        ("40001", "", False, 500),
        ("40P01", "", False, 500),
        ("53400", "", False, 500),
        ("53300", "", False, 503),
        ("54000", "", False, 500),
        ("55000", "", False, 500),
        ("57014", "", False, 500),
        ("57P01", "", False, 503),
        ("58000", "", False, 500),
        ("F0000", "", False, 500),
        ("HV000", "", False, 500),
        ("P0001", "", False, 400),
        ("P0002", "", False, 500),
        ("XX000", "", False, 500),
        ("42883", "", False, 404),
        ("42P01", "", False, 404),
        ("42P17", "", False, 500),
        ("42501", "", False, 401),
        ("42501", "", True, 403),
        ("22P02", "", False, 400),
        ("22023", 'role "x" does not exist', True, 401),
        ("22023", "invalid value", True, 400),
        ("21000", "DELETE requires a WHERE clause", True, 400),
        ("21000", "more than one row returned by a subquery", True, 500),
        ("PT402", "", False, 402),
        ("PT418", "", True, 418),
        ("42703", "", False, 400),
    ],
)
def test_sqlstate_to_http(sqlstate: str, message: str, authenticated: bool, status: int) -> None:
    assert pg_error_status(sqlstate, message, authenticated) == status


def test_select_grammar() -> None:
    items = parse_select('"my col",x:data->a->>b::int,dir:directors!fk!inner(*)')
    assert items[0].field == Field("my col")  # type: ignore[union-attr]
    assert items[1].field == Field("data", (JsonOp("->", "a"), JsonOp("->>", "b")))  # type: ignore[union-attr]
    assert items[1].cast == "int"  # type: ignore[union-attr]
    embed = items[2]
    assert isinstance(embed, EmbedItem)
    assert (embed.alias, embed.target, embed.hint, embed.join) == (
        "dir",
        "directors",
        "fk",
        "inner",
    )


def test_filter_values() -> None:
    f = parse_filter(Field("a"), 'not.in.(1,"x,y","q\\"t")')
    assert f.negated and f.op == "in" and f.value == ("1", "x,y", 'q"t')
    f = parse_filter(Field("a"), "like(all).{a*,b*}")
    assert (f.op, f.modifier, f.value) == ("like", "all", "{a*,b*}")
    f = parse_filter(Field("a"), "eq.with.dots.and,commas")
    assert f.value == "with.dots.and,commas"
    with pytest.raises(ApiError) as info:
        parse_filter(Field("a"), "between.1")
    assert info.value.code == "PGRST100"


def test_order_and_keys() -> None:
    terms = parse_order("a.desc.nullsfirst,rel(b).asc,c")
    assert [(t.field.name, t.relation, t.desc, t.nulls) for t in terms] == [
        ("a", None, True, "first"),
        ("b", "rel", False, None),
        ("c", None, False, None),
    ]
    assert split_key("films.actors.name") == (("films", "actors"), "name")
    assert split_key("films.not.and") == (("films",), "not.and")
    assert split_key("meta->a.b") == ((), "meta->a.b")


def test_preferences_first_wins_and_invalid() -> None:
    prefs = parse_preferences(["return=minimal, return=representation", "count=exact, bogus"])
    assert prefs.return_ == "minimal"
    assert prefs.count == "exact"
    assert prefs.invalid == ["bogus"]
    with pytest.raises(ApiError) as info:
        parse_preferences(["handling=strict, bogus"])
    assert info.value.code == "PGRST122"


def test_ranges() -> None:
    assert parse_range_header("0-9") == (0, 9)
    assert parse_range_header("items=5-") == (5, None)
    assert parse_range_header("nonsense") is None
    assert compute_range((0, 9), 5, 2, None) == (2, 5)
    assert compute_range(None, None, None, 100) == (0, 100)
    assert compute_range((10, 19), None, None, 5) == (10, 5)
    assert compute_range(None, 0, None, None) == (0, 0)


def test_negotiation() -> None:
    assert negotiate(None, False).kind == "json"
    assert negotiate("text/html, application/json;q=0.9", False).kind == "json"
    assert negotiate("application/json;q=0.5, text/csv", False).kind == "csv"
    assert negotiate("text/csv;q=0.1, */*", False).kind == "json"
    assert negotiate("application/vnd.pgrst.object+json;nulls=stripped", False).strip_nulls
    assert negotiate("application/vnd.pgrst.plan+json", True).plan_format == "json"
    with pytest.raises(ApiError):
        negotiate("application/vnd.pgrst.plan+json", False)


def test_view_tree_parser_ignores_nested_queries() -> None:
    tree = (
        "({QUERY :commandType 1 :rtable ({RTE :subquery {QUERY :targetList ({TARGETENTRY "
        ":expr {VAR :varno 1} :resno 1 :resname inner :ressortgroupref 0 :resorigtbl 7 "
        ":resorigcol 3 :resjunk false})}}) :targetList ({TARGETENTRY :expr {VAR :varno 1} "
        ":resno 1 :resname a\\ b :ressortgroupref 0 :resorigtbl 42 :resorigcol 2 :resjunk false} "
        "{TARGETENTRY :expr {SUBLINK :subselect {QUERY :targetList ({TARGETENTRY :resno 1 "
        ":resname z :resorigtbl 9 :resorigcol 9 :resjunk false})}} :resno 2 :resname s "
        ":ressortgroupref 0 :resorigtbl 0 :resorigcol 0 :resjunk false})})"
    )
    assert top_target_entries(tree) == [("a b", 42, 2), ("s", 0, 0)]


def test_supabase_defaults() -> None:
    cfg = GatewayConfig.supabase("postgresql://localhost/db", "secret", max_rows=5)
    assert cfg.anon_role == "anon"
    assert cfg.extra_search_path == ("public", "extensions")
    assert cfg.max_rows == 5
    assert cfg.path_prefix == "/rest/v1"
    with pytest.raises(ValueError):
        GatewayConfig(db_url="x", schemas=())


def test_config_round_trips_through_json() -> None:
    """Worker processes get the configuration as JSON."""
    cfg = GatewayConfig.supabase(
        "postgresql://localhost/db",
        "secret",
        schemas=("public", "api"),
        api_keys=frozenset({"a", "b"}),
        cors_allowed_origins=frozenset({"http://x"}),
        tx_end="rollback-allow-override",
        prepared_statements=False,
    )
    assert GatewayConfig.from_json(cfg.to_json()) == cfg
    assert GatewayConfig.from_json(GatewayConfig(db_url="x").to_json()) == GatewayConfig(db_url="x")


def test_positional_placeholders_for_prepare() -> None:
    from vidgen_db.local.gateway._prepared import Prepared, to_positional

    query = "SELECT %(p1)s, %(p0)s, %(p1)s FROM \"odd%%s\" WHERE x LIKE '%%'"
    assert to_positional(query) == (
        "SELECT $1, $2, $1 FROM \"odd%%s\" WHERE x LIKE '%%'",
        ["p1", "p0"],
    )
    prepared = Prepared()
    assert prepared.sql(query, threshold=2) == ([query], None)
    parts, preparing = prepared.sql(query, threshold=2)
    assert preparing is not None
    assert parts == [
        f"PREPARE {preparing.name} AS " + to_positional(query)[0],
        f"EXECUTE {preparing.name}(%(p1)s, %(p0)s)",
    ]
    prepared.confirm(preparing)
    assert prepared.sql(query) == ([f"EXECUTE {preparing.name}(%(p1)s, %(p0)s)"], None)


def test_prepared_statements_are_evicted_least_recently_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vidgen_db.local.gateway import _prepared

    monkeypatch.setattr(_prepared, "MAX_PREPARED", 2)
    prepared = _prepared.Prepared()
    names = []
    for query in ("SELECT 1", "SELECT 2", "SELECT 3"):
        _, preparing = prepared.sql(query, threshold=1)
        assert preparing is not None
        prepared.confirm(preparing)
        names.append(preparing.name)
    assert prepared.stale == [names[0]]
    assert prepared.sql("SELECT 1", threshold=1)[0][0].startswith("PREPARE")  # again
    prepared.deallocated([names[0]])
    assert prepared.stale == []
