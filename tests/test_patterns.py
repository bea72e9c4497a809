"""event_like_PATTERN: the pattern is a regular expression bound as data, never SQL text."""

import hashlib

import pandas as pd
import pytest

from warehouse import read_table, ts, write_warehouse

EVENT_NAMES = {
    1: "it's_done",
    2: "a;b",
    3: "x--y",
    4: "back\\slash",
    5: "price$5",
    6: "post_publish",
    7: "post_update",
    8: "post_publish_scheduled",
    9: "'; DROP TABLE events; --",
    10: "' OR '1'='1",
}


@pytest.fixture
def warehouse(tmp_path):
    sites = [(i, 100 + i, ts("2025-01-01 08:00"), "en", "us") for i in EVENT_NAMES]
    # Each site does its own event once, inside the label window [2025-01-08, 2025-01-15).
    events = [(i, 100 + i, name, ts("2025-01-09 12:00")) for i, name in EVENT_NAMES.items()]
    events.append((1, 101, "later", ts("2025-03-01")))
    return write_warehouse(tmp_path / "w.duckdb", {"sites": sites, "events": events})


def fingerprint(path):
    """Row counts and a digest of every warehouse table's sorted contents."""
    result = {}
    for table in ("sites", "users", "subscriptions", "events", "traffic"):
        frame = read_table(path, f"SELECT * FROM {table} ORDER BY ALL")
        result[table] = (len(frame), hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest())
    return result


CASES = [
    ("quote", "it's", {1}),
    ("semicolon", "a;b", {2}),
    ("sql_comment", "x--y", {3}),
    ("backslash", r"back\\slash", {4}),
    ("dollar_escaped", r"price\$5", {5}),
    ("dollar_anchor", "publish$", {6}),
    ("group", "^post_(publish|update)$", {6, 7}),
    ("search_semantics", "publish", {6, 8}),
    # SQL in a pattern matches only the event name that contains the same text.
    ("injection", "'; DROP TABLE events; --", {9}),
    ("injection_or", "' OR '1'='1", {10}),
]


@pytest.mark.parametrize("pattern, positives", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_pattern_matches_as_regex(run, warehouse, tmp_path, pattern, positives):
    before = fingerprint(warehouse)
    result = run("init", "p", "--warehouse", str(warehouse), "--conversion", f"site_any:event_like_{pattern}",
                 "--days", "7", "--window", "7", "--start", "2025-01-01", "--end", "2025-01-01")
    assert result.exit_code == 0, result.output
    result = run("build", "p", "--until", "labels")
    assert result.exit_code == 0, result.output

    raw = pd.read_parquet(tmp_path / "home" / "p" / "raw.parquet")
    assert set(raw.loc[raw.label == 1, "entity_id"]) == positives
    assert len(raw) == len(EVENT_NAMES)
    assert fingerprint(warehouse) == before


def test_pattern_absent_from_sql_text(run, warehouse):
    pattern = "'; DROP TABLE events; --"
    run("init", "p", "--warehouse", str(warehouse), "--conversion", f"site_any:event_like_{pattern}",
        "--days", "7", "--window", "7", "--start", "2025-01-01", "--end", "2025-01-01")
    result = run("build", "p", "--dry-run")
    assert result.exit_code == 0, result.output
    sql_lines = [line for line in result.output.splitlines() if not line.startswith("--")]
    assert not any("DROP" in line for line in sql_lines)
    assert "regexp_matches(ev.event, $pattern)" in result.output
    assert f"-- parameter pattern = {pattern!r}" in result.output


def test_unmatched_pattern_warned(run, warehouse, tmp_path):
    result = run("init", "p", "--warehouse", str(warehouse), "--conversion", "site_any:event_like_^post_delete$",
                 "--days", "7", "--window", "7", "--start", "2025-01-01", "--end", "2025-01-01")

    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, result.stderr
    assert "the pattern '^post_delete$' in --conversion matches no event name in the warehouse yet" in warnings[0]
    # Every name occurs once, so the first eight names in sort order are shown.
    assert warnings[0].endswith("the most frequent names are \"' OR '1'='1\", \"'; DROP TABLE events; --\", 'a;b', "
                                "'back\\\\slash', \"it's_done\", 'later', 'post_publish', 'post_publish_scheduled'")
    assert run("init", "q", "--warehouse", str(warehouse), "--conversion", "site_any:event_like_^post_",
               "--days", "7", "--window", "7", "--start", "2025-01-01", "--end", "2025-01-01").stderr == ""


def test_invalid_regex_rejected(run, warehouse, tmp_path):
    result = run("init", "p", "--warehouse", str(warehouse), "--conversion", "site_any:event_like_post_(",
                 "--days", "7", "--window", "7", "--start", "2025-01-01", "--end", "2025-01-01")
    assert result.exit_code == 2
    assert "invalid regular expression 'post_('" in result.stderr
    assert not (tmp_path / "home" / "p").exists()


@pytest.mark.parametrize("pattern, reason", [
    ("(unclosed", "missing ): (unclosed"),
    ("\\1", "invalid escape sequence: \\1"),
], ids=["unclosed_group", "backreference"])
def test_invalid_regex_message_clean(run, warehouse, pattern, reason):
    result = run("init", "p", "--warehouse", str(warehouse), "--conversion", f"site_any:event_like_{pattern}",
                 "--days", "7", "--window", "7", "--start", "2025-01-01", "--end", "2025-01-01")

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"Error: invalid regular expression '{pattern}' in --conversion; duckdb reports \"{reason}\""]
