"""Cohorts and conversions added as files in a PIPE_SQL_PATH folder, with no Python change."""

import json

import pandas as pd

from conftest import FAST_MODEL
from warehouse import read_table

SECOND_POST_YML = """\
description: The entity publishes its second post ever inside the label window.
applies_to: [free, paid, any]
requires: [events]
"""

# The second post_publish of each entity, whenever it happened; label 1 when
# it falls in [cutoff_at, cutoff_at + window days).
SECOND_POST_SQL = """\
{% import 'macros/dialect.sql' as d with context %}
WITH posts AS (
    SELECT ev.{{ key }} AS entity_id, ev.ts,
           ROW_NUMBER() OVER (PARTITION BY ev.{{ key }} ORDER BY ev.ts) AS position
    FROM {{ table('events') }} ev
    JOIN pipe_eligible e ON e.entity_id = ev.{{ key }}
    WHERE ev.event = 'post_publish'
)
SELECT e.entity_id,
       CASE WHEN COUNT(p.entity_id) > 0 THEN 1 ELSE 0 END AS label
FROM pipe_eligible e
LEFT JOIN posts p
  ON p.entity_id = e.entity_id
 AND p.position = 2
 AND p.ts >= e.cutoff_at
 AND p.ts < {{ d.add_days('e.cutoff_at', window) }}
GROUP BY e.entity_id
"""

ENGLISH_SITES_YML = """\
description: Sites whose language is English, anchored at creation.
entity: site
status: any
requires: [sites]
"""

ENGLISH_SITES_SQL = """\
SELECT site_id AS entity_id, created_at, created_at AS anchor_at, lang, country
FROM {{ table('sites') }}
WHERE lang = 'en'
"""


def write_plugins(folder):
    (folder / "conversions").mkdir(parents=True)
    (folder / "cohorts").mkdir()
    (folder / "conversions" / "second_post.yml").write_text(SECOND_POST_YML)
    (folder / "conversions" / "second_post.sql").write_text(SECOND_POST_SQL)
    (folder / "cohorts" / "site_english.yml").write_text(ENGLISH_SITES_YML)
    (folder / "cohorts" / "site_english.sql").write_text(ENGLISH_SITES_SQL)


def expected_labels(warehouse, start, end, days, window):
    """Labels computed independently in pandas for the plug-in pair."""
    sites = read_table(warehouse, "SELECT site_id, created_at FROM sites WHERE lang = 'en'")
    sites = sites[(sites.created_at.dt.date >= start) & (sites.created_at.dt.date <= end)].copy()
    sites["cutoff"] = sites.created_at.dt.normalize() + pd.Timedelta(days=days)
    posts = read_table(warehouse, "SELECT site_id, ts FROM events WHERE event = 'post_publish' ORDER BY site_id, ts")
    second = posts.groupby("site_id").nth(1).set_index("site_id")["ts"]
    sites["second"] = sites.site_id.map(second)
    in_window = (sites.second >= sites.cutoff) & (sites.second < sites.cutoff + pd.Timedelta(days=window))
    return dict(zip(sites.site_id, in_window.astype(int)))


def test_plugin_pair_builds_model(run, demo_warehouse, tmp_path, monkeypatch):
    import datetime as dt

    folder = tmp_path / "my_sql"
    write_plugins(folder)
    monkeypatch.setenv("PIPE_SQL_PATH", str(folder))

    listing = run("list", "--warehouse", str(demo_warehouse))
    assert "second_post" in listing.output
    assert "site_english" in listing.output

    result = run("init", "english_second_post", "--warehouse", str(demo_warehouse),
                 "--conversion", "site_english:second_post", "--days", "7", "--window", "14",
                 "--start", "2025-01-15", "--end", "2025-10-31", *FAST_MODEL)
    assert result.exit_code == 0, result.output
    result = run("build", "english_second_post")
    assert result.exit_code == 0, result.output
    assert "test ROC AUC" in result.output

    project = tmp_path / "home" / "english_second_post"
    raw = pd.read_parquet(project / "raw.parquet")
    expected = expected_labels(demo_warehouse, dt.date(2025, 1, 15), dt.date(2025, 10, 31), 7, 14)
    assert set(raw.entity_id) == set(expected)
    assert dict(zip(raw.entity_id, raw.label)) == expected
    model_info = json.loads((project / "model_info.json").read_text())
    assert model_info["test_metrics"]["roc_auc"] > 0.5


def test_plugin_folder_recorded_in_info(run, demo_warehouse, tmp_path, monkeypatch):
    folder = tmp_path / "my_sql"
    write_plugins(folder)
    monkeypatch.setenv("PIPE_SQL_PATH", str(folder))
    result = run("init", "p", "--warehouse", str(demo_warehouse), "--conversion", "site_english:second_post",
                 "--days", "7", "--window", "14", "--start", "2025-01-15", "--end", "2025-10-31")
    assert result.exit_code == 0, result.output
    info = json.loads((tmp_path / "home" / "p" / "info.json").read_text())
    assert info["settings"]["sql_path"] == [str(folder.resolve())]

    # Without the variable, the recorded folder still resolves the plug-ins.
    monkeypatch.delenv("PIPE_SQL_PATH")
    result = run("build", "p", "--until", "labels")
    assert result.exit_code == 0, result.output


def test_plugin_missing_template_lists_paths(run, demo_warehouse, tmp_path, monkeypatch):
    folder = tmp_path / "my_sql"
    (folder / "conversions").mkdir(parents=True)
    (folder / "conversions" / "orphan.yml").write_text(SECOND_POST_YML)
    monkeypatch.setenv("PIPE_SQL_PATH", str(folder))
    result = run("init", "p", "--warehouse", str(demo_warehouse), "--conversion", "site_any:orphan",
                 "--days", "7", "--window", "14", "--start", "2025-01-15", "--end", "2025-10-31")
    assert result.exit_code == 0, result.output
    result = run("build", "p", "--until", "labels")
    assert result.exit_code == 2
    assert "SQL template 'conversions/orphan.sql' not found; tried:" in result.stderr
    assert str(folder / "duckdb" / "conversions" / "orphan.sql") in result.stderr
