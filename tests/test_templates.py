"""Template lookup: engine, family and top level, and layered macro files."""

import re

import duckdb
import pytest

from pipe.templates import SQLRenderer, TemplateMissing, shipped_sql_dir, sql_search_path


def renderer(dialect, extra=()):
    return SQLRenderer(dialect, lambda name: f"%({name})s", {}, sql_search_path(extra))


def macros(dialect, extra=()):
    return renderer(dialect, extra).environment.get_template("macros/dialect.sql").make_module({})


@pytest.mark.parametrize("dialect, expected", [
    ("duckdb", "date_diff('day', a, b)"),
    ("impala", "datediff(b, a)"),  # from sql/hive/
    ("spark", "datediff(b, a)"),  # from sql/hive/
])
def test_family_level_between_engine_and_default(dialect, expected):
    assert str(macros(dialect).days_between("a", "b")) == expected


@pytest.mark.parametrize("dialect, expected", [
    ("duckdb", "regexp_matches(t, p)"),
    ("impala", "regexp_like(t, p)"),
    ("spark", "(t RLIKE p)"),
])
def test_engine_macro_wins_over_family_and_default(dialect, expected):
    module = macros(dialect)
    assert str(module.regex_search("t", "p")) == expected
    # day_start is defined only at the top level, so every engine has it.
    assert str(module.day_start("x")) == "CAST(CAST(x AS DATE) AS TIMESTAMP)"


def test_user_macro_replaces_one_macro_only(tmp_path):
    (tmp_path / "spark" / "macros").mkdir(parents=True)
    (tmp_path / "spark" / "macros" / "dialect.sql").write_text(
        "{% macro regex_search(text, pattern) %}my_regex({{ text }}, {{ pattern }}){% endmacro %}\n")
    module = macros("spark", [tmp_path])
    assert str(module.regex_search("t", "p")) == "my_regex(t, p)"
    assert str(module.add_days("ts", 1)) == "(ts + make_dt_interval(CAST(1 AS INT)))"
    assert str(module.days_between("a", "b")) == "datediff(b, a)"
    # DuckDB renders from the shipped file: the user's file is for Spark.
    assert str(macros("duckdb", [tmp_path]).regex_search("t", "p")) == "regexp_matches(t, p)"


def test_whole_template_from_most_specific_level(tmp_path):
    (tmp_path / "hive" / "outputs").mkdir(parents=True)
    (tmp_path / "hive" / "outputs" / "pipe_ab_groups.sql").write_text("SELECT 'hive'\n")
    assert renderer("impala", [tmp_path]).render("outputs/pipe_ab_groups.sql", name="t").text == "SELECT 'hive'\n"
    assert renderer("duckdb", [tmp_path]).render("outputs/pipe_ab_groups.sql", name="t").text.startswith("CREATE TABLE")


def test_missing_template_lists_every_level(tmp_path):
    with pytest.raises(TemplateMissing) as raised:
        renderer("impala", [tmp_path]).render("labels/none.sql")
    message = str(raised.value)
    for place in (tmp_path / "impala" / "labels" / "none.sql", tmp_path / "hive" / "labels" / "none.sql",
                  tmp_path / "labels" / "none.sql"):
        assert str(place) in message


@pytest.mark.parametrize("table", ["pipe_predictions", "pipe_ab_groups", "pipe_evaluations"])
def test_output_tables_keyed_the_same_on_every_dialect(table):
    """DuckDB runs its DDL here; Impala's and Spark's declare the same columns and partition by (project, day)."""
    connection = duckdb.connect()
    connection.execute(renderer("duckdb").render(f"outputs/{table}.sql", name=table).text)
    described = connection.execute(f"DESCRIBE {table}").fetchall()
    duck_columns = [row[0] for row in described]
    assert duck_columns[:2] == ["project", "day"]
    assert all(row[2] == "NO" for row in described[:2])

    impala = renderer("impala").render(f"outputs/{table}.sql", name=table).text
    spark = renderer("spark").render(f"outputs/{table}.sql", name=table).text
    assert "PARTITIONED BY (project STRING, day DATE)\nSTORED AS PARQUET" in impala
    assert "USING parquet\nPARTITIONED BY (project, day)" in spark
    for text, partition_last in ((impala, False), (spark, True)):
        body = text[text.index("(") + 1:text.index("\n)")]
        columns = [line.split()[0] for line in body.strip().splitlines()]
        expected = duck_columns[2:] + (["project", "day"] if partition_last else [])
        assert columns == expected
        assert "NOT NULL" not in text


def test_shipped_tables_have_aliases():
    """A configured table renders as a subquery, which Impala accepts in FROM only with an alias."""
    call = re.compile(r"\{\{ table\('(\w+)'\) \}\}(.*)")
    found = 0
    for path in shipped_sql_dir().rglob("*.sql"):
        for line in path.read_text().splitlines():
            match = call.search(line)
            if match:
                found += 1
                alias = re.match(r"\s+(?:AS\s+)?(\w+)", match.group(2))
                assert alias, f"{path}: {line.strip()}"
                assert alias.group(1).upper() not in ("ON", "WHERE", "JOIN", "GROUP", "LEFT", "USING"), f"{path}: {line.strip()}"
    assert found > 10
