"""Warehouse configuration files: validation, mapped tables and dirty data.

Each test writes a tiny warehouse of CSV files (and, for some, a DuckDB file
or Parquet) with a ``warehouse.yml`` beside it, and runs pipe on it.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap

import duckdb
import pandas as pd
import pytest

from pipe.config import redact
from pipe.engines import open_engine
from pipe.features import load_features

NAME = "p"

# One cutoff for everyone: midnight at the end of 2025-01-31. The label
# window is [2025-02-01, 2025-02-11).
UNTIMED = ("--analysis-end", "2025-01-31", "--window", "10")
COMPLETE_THROUGH = "2025-02-10"

# Users: created_at in another column name, with and without zone suffixes.
# The last row has no id.
USERS_CSV = """\
id,signup,location
1,2025-01-01T00:00:00Z,here
2,2025-01-02T12:00:00+02:00,
3,2025-01-03 08:00:00,there
4,2025-01-04T00:00:00Z,
5,2025-01-05T00:00:00.000Z,
6,2025-01-06T00:00:00-05:00,
,2025-01-07T00:00:00Z,
"""

# Events, with the dirty cases the README lists:
# - user 1: two identical "open" rows, two names that differ only in case,
#   and a "buy" at 01:00 +02:00 on 2025-02-01, which is 23:00 UTC on
#   2025-01-31: before the cutoff, so a feature and not a label;
# - user 2: an "open" two days before its creation, and one after it;
# - a row with no user id, and a row of user 3 with no event name;
# - users 2, 3 and 5 buy inside the label window; 4 has no event at all;
# - user 6's last "open" falls on complete_through, the latest day that the
#   data can be complete through.
EVENTS_CSV = """\
uid,kind,at
1,open,2025-01-10T00:00:00Z
1,open,2025-01-10T00:00:00Z
1,Post Answer,2025-01-11T00:00:00Z
1,post answer,2025-01-11T00:00:00Z
1,buy,2025-02-01T01:00:00+02:00
2,open,2024-12-31T10:00:00Z
2,open,2025-01-15T00:00:00Z
,open,2025-01-15T00:00:00Z
3,,2025-01-15T00:00:00Z
2,buy,2025-02-02T00:00:00Z
3,buy,2025-02-03T00:00:00Z
5,buy,2025-02-05T00:00:00Z
6,open,2025-02-09T23:00:00Z
6,open,2025-02-10T12:00:00Z
"""

CONFIG = f"""\
engine: duckdb
complete_through: {COMPLETE_THROUGH}
tables:
  users:
    file: data/users.csv
    columns:
      user_id: id
      created_at: signup
      lang: null
      country: null
  events:
    file: data/events.csv
    columns:
      site_id: null
      user_id: uid
      event: kind
      ts: at
"""


def write_csv_warehouse(folder, config: str = CONFIG, users: str = USERS_CSV, events: str = EVENTS_CSV):
    """Write users.csv and events.csv under folder/data and the configuration; return its path."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "users.csv").write_text(users)
    (folder / "data" / "events.csv").write_text(events)
    path = folder / "warehouse.yml"
    path.write_text(config)
    return path


@pytest.fixture
def config(tmp_path):
    return write_csv_warehouse(tmp_path / "wh")


def home_entries(home) -> list[str]:
    return sorted(p.name for p in home.iterdir()) if home.exists() else []


def init(run, warehouse, *args: str, conversion: str = "user_any:event_like_^buy$"):
    # --min-support 1 keeps every feature, however few of the six users have it.
    return run("init", NAME, "--warehouse", str(warehouse), "--conversion", conversion,
               "--min-support", "1", "--trials", "0", "--folds", "2", *args)


def assert_rejected(result, home, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert result.stdout == ""
    assert home_entries(home) == []


# --- validation ------------------------------------------------------------


def edited(old: str, new: str) -> str:
    assert old in CONFIG
    return CONFIG.replace(old, new)


INVALID_CONFIGS = [
    ("unknown top key", CONFIG + "engin: duckdb\n", ["unknown key 'engin'", "did you mean 'engine'?"]),
    ("unknown table key", edited("    columns:\n      site_id", "    colums:\n      site_id"), ["unknown key 'tables.events.colums'"]),
    ("unknown column key", edited("      ts: at", "      ts: at\n      time: at"), ["unknown key 'tables.events.columns.time'"]),
    ("unknown table", CONFIG + "  clicks:\n    file: data/events.csv\n", ["unknown key 'tables.clicks'"]),
    ("missing events table", CONFIG.split("  events:")[0], ["missing table 'events'"]),
    ("missing entity table", CONFIG.split("  users:")[0] + "  events:" + CONFIG.split("  events:")[1], ["missing an entity table"]),
    ("required column null", edited("created_at: signup", "created_at: null"), ["tables.users.columns.created_at cannot be null"]),
    ("no owner column", edited("user_id: uid", "user_id: null"), ["maps neither site_id nor user_id"]),
    ("table and file", edited("    file: data/users.csv", "    file: data/users.csv\n    table: users"), ["tables.users needs exactly one of 'table'"]),
    ("unknown engine", "engine: oracle\n" + CONFIG.replace("engine: duckdb\n", ""), ["engine is 'oracle'; expected one of: duckdb"]),
    ("bad date", edited(f"complete_through: {COMPLETE_THROUGH}", "complete_through: yesterday"), ["complete_through is 'yesterday'"]),
    ("unknown file format", edited("file: data/users.csv", "file: data/users.txt"), ["has no .csv or .parquet suffix"]),
    ("missing sql_path folder", CONFIG + "sql_path: [nowhere]\n", ["sql_path folder not found", "nowhere"]),
    ("missing source column", edited("ts: at", "ts: when"), ["column ts of table events reads column 'when'", "does not have",
                                                             "(it has uid, kind, at); map it under tables.events.columns.ts\n"]),
    ("misspelt source column", edited("event: kind", "event: kinds"), ["(it has uid, kind, at); map it under tables.events.columns.event "
                                                                      "(the closest column is 'kind')\n"]),
    ("missing nullable column", edited("      lang: null\n", ""), ["column lang of table users reads column 'lang'", "or write lang: null"]),
    ("no matching file", edited("file: data/events.csv", "file: data/clicks-*.csv"), ["tables.events.file matches no file", "clicks-*.csv"]),
    ("not YAML", "tables: [users\n", ["not valid YAML"]),
]


@pytest.mark.parametrize("text, fragments", [c[1:] for c in INVALID_CONFIGS], ids=[c[0].replace(" ", "-") for c in INVALID_CONFIGS])
def test_invalid_config_rejected(run, tmp_path, text, fragments):
    config = write_csv_warehouse(tmp_path / "wh", config=text)

    result = init(run, config, *UNTIMED)

    assert_rejected(result, tmp_path / "home", str(config), *fragments)


def test_missing_config_file_rejected(run, tmp_path):
    missing = tmp_path / "nowhere.yml"

    result = init(run, missing, *UNTIMED)

    assert_rejected(result, tmp_path / "home", f"warehouse configuration not found: {missing}")


def test_unparsable_value_rejected(run, tmp_path):
    events = EVENTS_CSV + "2,open,next tuesday\n"
    config = write_csv_warehouse(tmp_path / "wh", events=events)

    result = init(run, config, *UNTIMED)

    assert_rejected(result, tmp_path / "home", str(config), "column ts of table events has 1 value in", "'next tuesday'")


def test_missing_database_table_rejected(run, tmp_path):
    folder = tmp_path / "wh"
    folder.mkdir()
    connection = duckdb.connect(str(folder / "wh.duckdb"))
    connection.execute("CREATE TABLE accounts (id BIGINT, signup TIMESTAMP)")
    connection.close()
    text = CONFIG.replace("engine: duckdb\n", "engine: duckdb\nconnection:\n  path: wh.duckdb\n").replace("    file: data/users.csv", "    table: members")
    config = write_csv_warehouse(folder, config=text)

    result = init(run, config, *UNTIMED)

    assert_rejected(result, tmp_path / "home", str(config), "cannot read table users from table 'members'", str(folder / "wh.duckdb"))


def test_unmapped_table_names_definition(run, config, tmp_path):
    result = init(run, config, *UNTIMED, conversion="user_free:event_like_^buy$")

    assert_rejected(result, tmp_path / "home", "cohort 'user_free' needs table(s) subscriptions", f"which {config} does not map")


def test_build_rejects_config_broken_after_init(run, config, tmp_path):
    assert init(run, config, *UNTIMED).exit_code == 0
    (config.parent / "data" / "events.csv").unlink()

    result = run("build", NAME, "--warehouse", str(config))

    assert result.exit_code == 2
    assert "tables.events.file matches no file" in result.stderr
    assert sorted(p.name for p in (tmp_path / "home" / NAME).iterdir()) == ["info.json"]


def test_list_marks_unmapped_tables(run, config):
    result = run("list", "--warehouse", str(config))

    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert lines["user_any"].endswith("[ready]")
    assert lines["user_free"].endswith("[missing table: subscriptions]")
    assert lines["site_any"].endswith("[missing table: sites]")
    assert lines["traffic"].endswith("[missing table: traffic]")


def test_redact_removes_secret_keys():
    content = {"connection": {"host": "h", "password": "p", "auth_token": "t", "Client_Secret": "s"}, "tables": [{"token": 1, "file": "f"}]}

    assert redact(content) == {"connection": {"host": "h"}, "tables": [{"file": "f"}]}


# --- recording and rebuilding ----------------------------------------------


def test_info_records_config(run, config, tmp_path):
    result = init(run, config, *UNTIMED)

    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "home" / NAME / "info.json").read_text())
    assert info["warehouse"]["config_file"] == str(config)
    assert info["warehouse"]["path"] == ":memory:"
    assert info["warehouse"]["config"]["tables"]["events"]["columns"]["ts"] == "at"
    assert info["settings"]["complete_through"] == COMPLETE_THROUGH
    assert info["settings"]["complete_through_source"] == f"complete_through of {config}"


def test_complete_through_option_wins(run, config, tmp_path):
    result = init(run, config, "--analysis-end", "2025-01-20", "--window", "10", "--complete-through", "2025-02-05")

    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "home" / NAME / "info.json").read_text())
    assert info["settings"]["complete_through"] == "2025-02-05"
    assert info["settings"]["complete_through_source"] == "--complete-through"


def test_without_complete_through_latest_event(run, tmp_path):
    config = write_csv_warehouse(tmp_path / "wh", config=CONFIG.replace(f"complete_through: {COMPLETE_THROUGH}\n", ""))

    result = init(run, config, "--analysis-end", "2025-01-20", "--window", "10")

    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "home" / NAME / "info.json").read_text())
    # The latest event is at 2025-02-10 12:00 UTC.
    assert info["settings"]["complete_through"] == "2025-02-10"


def test_rebuild_from_info_json(run, config, tmp_path, monkeypatch):
    assert init(run, config, *UNTIMED).exit_code == 0
    first = run("build", NAME, "--until", "features")
    assert first.exit_code == 0, first.output
    info_path = tmp_path / "home" / NAME / "info.json"

    # From another folder, with no --warehouse: the recorded configuration
    # resolves its relative file paths against the configuration's folder.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    second = run("build", str(info_path), "--until", "features", home=tmp_path / "home2")

    assert second.exit_code == 0, second.output
    for artifact in ("raw.parquet", "features.npz"):
        assert (tmp_path / "home2" / NAME / artifact).read_bytes() == (tmp_path / "home" / NAME / artifact).read_bytes()


def test_sql_path_relative_to_config(run, tmp_path):
    folder = tmp_path / "wh"
    plugins = folder / "my_sql" / "conversions"
    plugins.mkdir(parents=True)
    (plugins / "bought.yml").write_text("description: The entity buys in the label window.\napplies_to: [any]\nrequires: [events]\n")
    (plugins / "bought.sql").write_text(textwrap.dedent("""\
        {% import 'macros/dialect.sql' as d with context %}
        SELECT e.entity_id, CASE WHEN COUNT(ev.{{ key }}) > 0 THEN 1 ELSE 0 END AS label
        FROM pipe_eligible e
        LEFT JOIN {{ table('events') }} ev
          ON ev.{{ key }} = e.entity_id AND ev.event = 'buy'
         AND ev.ts >= e.cutoff_at AND ev.ts < {{ d.add_days('e.cutoff_at', window) }}
        GROUP BY e.entity_id
        """))
    config = write_csv_warehouse(folder, config=CONFIG + "sql_path: my_sql\n")

    listing = run("list", "--warehouse", str(config))
    result = init(run, config, *UNTIMED, conversion="user_any:bought")
    build = run("build", NAME, "--until", "labels")

    assert "bought" in listing.stdout
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "home" / NAME / "info.json").read_text())
    assert info["settings"]["sql_path"] == [str(folder / "my_sql")]
    assert build.exit_code == 0, build.output
    assert labels_of(tmp_path) == {1: 0, 2: 1, 3: 1, 4: 0, 5: 1, 6: 0}


def test_database_table_and_parquet_sources(run, tmp_path):
    folder = tmp_path / "wh"
    folder.mkdir()
    connection = duckdb.connect(str(folder / "wh.duckdb"))
    connection.execute("SET TimeZone = 'Asia/Tokyo'")
    connection.execute("CREATE TABLE accounts (id INTEGER, signup TIMESTAMPTZ, language VARCHAR)")
    connection.execute("INSERT INTO accounts VALUES (1, '2025-01-01 00:30:00+09:00', 'en'), (2, '2025-01-02 00:00:00+00:00', 'fr')")
    connection.execute("COPY (SELECT * FROM (VALUES (1, 'buy', TIMESTAMP '2025-02-02 00:00:00'), (2, 'open', TIMESTAMP '2025-01-20 00:00:00')) "
                       f"t(uid, kind, happened)) TO '{folder / 'events.parquet'}' (FORMAT parquet)")
    connection.close()
    config = folder / "warehouse.yml"
    config.write_text(textwrap.dedent("""\
        connection:
          path: wh.duckdb
        tables:
          users:
            table: accounts
            columns: {user_id: id, created_at: signup, lang: language, country: null}
          events:
            file: events.parquet
            columns: {site_id: null, user_id: uid, event: kind, ts: happened}
        """))

    with open_engine(str(config), read_only=True) as engine:
        from pipe.config import table_sources

        users = engine.fetch_df(f"SELECT * FROM {table_sources(engine)['users']} ORDER BY user_id")
        events = engine.fetch_df(f"SELECT * FROM {table_sources(engine)['events']} ORDER BY user_id")

    # 00:30 in Tokyo (+09:00) is 15:30 UTC the day before.
    assert users["created_at"].tolist() == [pd.Timestamp("2024-12-31 15:30"), pd.Timestamp("2025-01-02 00:00")]
    assert users["lang"].tolist() == ["en", "fr"]
    assert str(users["user_id"].dtype) == "int64"
    assert events["event"].tolist() == ["buy", "open"]
    assert events["site_id"].isna().all()


def test_daily_commands_need_database_file(run, config, tmp_path):
    assert init(run, config, *UNTIMED).exit_code == 0

    result = run("evaluate", NAME, "--date", "2025-02-11")

    assert result.exit_code == 2
    assert f"{config} names no DuckDB file to write the output tables into" in result.stderr


def with_database_path(path: str, config: str = CONFIG) -> str:
    return config.replace("engine: duckdb\n", f"engine: duckdb\nconnection:\n  path: {path}\n")


def test_missing_database_file_read_in_memory(run, tmp_path):
    # Every table is a file, so read-only commands need nothing from connection.path yet.
    config = write_csv_warehouse(tmp_path / "wh", config=with_database_path("out.duckdb"))

    listed = run("list", "--warehouse", str(config))
    assert listed.exit_code == 0, listed.output
    assert "event_like_PATTERN" in listed.stdout
    assert init(run, config, *UNTIMED).exit_code == 0
    assert not (tmp_path / "wh" / "out.duckdb").exists()


def test_daily_command_creates_database_file(run, tmp_path):
    config = write_csv_warehouse(tmp_path / "wh", config=with_database_path("out.duckdb"))
    assert init(run, config, *UNTIMED).exit_code == 0

    result = run("evaluate", NAME, "--date", "2025-02-11")

    assert result.exit_code == 0, result.output
    assert "no predictions of 2025-02-01 to evaluate" in result.stdout
    assert (tmp_path / "wh" / "out.duckdb").is_file()


def test_failed_daily_command_leaves_no_database_file(run, tmp_path):
    config = write_csv_warehouse(tmp_path / "wh", config=with_database_path("out.duckdb"))
    assert init(run, config, *UNTIMED).exit_code == 0
    (tmp_path / "wh" / "data" / "events.csv").unlink()

    result = run("evaluate", NAME, "--date", "2025-02-11")

    assert result.exit_code == 2
    assert not (tmp_path / "wh" / "out.duckdb").exists()


def test_missing_database_file_with_table_source(run, tmp_path):
    text = with_database_path("missing.duckdb").replace("    file: data/users.csv", "    table: members")
    config = write_csv_warehouse(tmp_path / "wh", config=text)

    result = run("list", "--warehouse", str(config))

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: {config}: connection.path {tmp_path / 'wh' / 'missing.duckdb'} does not exist, but the table users is read "
        "from it; fix the path, or map them to CSV or Parquet files with file:"
    ]


# --- dirty data --------------------------------------------------------------


@pytest.fixture
def built(run, config, tmp_path):
    """Build the tiny project through features; return its home."""
    assert init(run, config, *UNTIMED).exit_code == 0
    result = run("build", NAME, "--until", "features")
    assert result.exit_code == 0, result.output
    return tmp_path / "home" / NAME


def labels_of(tmp_path) -> dict[int, int]:
    raw = pd.read_parquet(tmp_path / "home" / NAME / "raw.parquet")
    return dict(zip(raw["entity_id"].tolist(), raw["label"].tolist()))


def feature(project, entity_id: int, name: str) -> float:
    frame = load_features(project / "features.npz").to_frame()
    if name not in frame.columns:
        return 0.0
    return float(frame.loc[entity_id, name])


def test_zone_suffix_converted_to_utc(built):
    cohort = pd.read_parquet(built / "cohort.parquet").set_index("entity_id")

    assert cohort.loc[1, "created_at"] == pd.Timestamp("2025-01-01 00:00")
    assert cohort.loc[2, "created_at"] == pd.Timestamp("2025-01-02 10:00")  # +02:00
    assert cohort.loc[3, "created_at"] == pd.Timestamp("2025-01-03 08:00")  # no suffix: UTC
    assert cohort.loc[6, "created_at"] == pd.Timestamp("2025-01-06 05:00")  # -05:00


def test_zone_suffix_moves_event_before_cutoff(built, tmp_path):
    # User 1's buy at 2025-02-01 01:00 +02:00 is 2025-01-31 23:00 UTC: a
    # feature before the cutoff, not a conversion after it.
    assert labels_of(tmp_path)[1] == 0
    assert feature(built, 1, "events_all__buy") == 1.0


def test_events_before_creation_not_counted(built):
    # User 2 has an open two days before its creation and one after it.
    assert feature(built, 2, "events_all__open") == 1.0
    assert feature(built, 2, "activity__events") == 1.0


def test_repeated_rows_counted(built):
    assert feature(built, 1, "events_all__open") == 2.0


def test_entity_without_events_kept(built, tmp_path):
    frame = load_features(built / "features.npz").to_frame()
    event_columns = [c for c in frame.columns if c.startswith(("events_", "activity__"))]

    assert labels_of(tmp_path)[4] == 0
    assert frame.loc[4, event_columns].sum() == 0
    assert frame.loc[4, "signup__month"] == 1.0


def test_rows_without_ids(built, tmp_path):
    # The users row with no id is left out. The events row with no user id
    # joins no user, so the only open of 2025-01-15 that counts is user 2's.
    assert sorted(labels_of(tmp_path)) == [1, 2, 3, 4, 5, 6]
    frame = load_features(built / "features.npz").to_frame()
    assert frame["events_all__open"].sum() == 2.0 + 1.0


def test_event_names_kept_as_they_are(built):
    assert feature(built, 1, "events_all__Post Answer") == 1.0
    assert feature(built, 1, "events_all__post answer") == 1.0


def test_event_without_name_left_out(built):
    # User 3's only event before the cutoff has no name.
    frame = load_features(built / "features.npz").to_frame()

    assert not any(name.endswith("__") for name in frame.columns)
    assert feature(built, 3, "activity__events") == 0.0


def test_labels_of_dirty_warehouse(built, tmp_path):
    assert labels_of(tmp_path) == {1: 0, 2: 1, 3: 1, 4: 0, 5: 1, 6: 0}


def test_configured_engine_reads_utc(config):
    with open_engine(str(config), read_only=True) as engine:
        assert engine.scalar("SELECT current_setting('TimeZone')") == "UTC"
        assert engine.scalar("SELECT CAST('2025-01-01 00:00' AS TIMESTAMPTZ) = TIMESTAMPTZ '2025-01-01 00:00:00+00'") is True


def test_pattern_matches_exact_case(run, config, tmp_path):
    events = EVENTS_CSV + "1,Post Answer,2025-02-03T00:00:00Z\n2,post answer,2025-02-03T00:00:00Z\n3,post answer,2025-02-04T00:00:00Z\n4,Post Answer,2025-02-04T00:00:00Z\n"
    write_csv_warehouse(config.parent, events=events)
    assert init(run, config, *UNTIMED, conversion="user_any:event_like_^Post Answer$").exit_code == 0

    result = run("build", NAME, "--until", "labels")

    assert result.exit_code == 0, result.output
    assert labels_of(tmp_path) == {1: 1, 2: 0, 3: 0, 4: 1, 5: 0, 6: 0}


def test_timed_cohort_on_config(run, config, tmp_path):
    result = run("init", NAME, "--warehouse", str(config), "--conversion", "user_any:event_like_^open$",
                 "--days", "3", "--window", "30", "--start", "2025-01-01", "--end", "2025-01-06", "--min-support", "1")
    assert result.exit_code == 0, result.output
    build = run("build", NAME, "--until", "cohort")
    assert build.exit_code == 0, build.output

    cohort = pd.read_parquet(tmp_path / "home" / NAME / "cohort.parquet").set_index("entity_id")
    # User 6 signed up at 2025-01-06 05:00 UTC, so day 1 is 2025-01-06 and the cutoff is 3 days later.
    assert cohort.loc[6, "cutoff_at"] == pd.Timestamp(dt.datetime(2025, 1, 9))
