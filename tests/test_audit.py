"""``pipe audit``: every shipped family passes, and leaky families are caught.

The warehouse has four sites owned by users 1-4 (user 1 also owns site 5),
with events, traffic and subscriptions before and after every cutoff. Timed
projects use --days 10 --start 2025-03-01 --end 2025-03-10; untimed ones use
--analysis-end 2025-03-10.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from pipe.project import sha256_file
from warehouse import ts, write_warehouse

TIMED = ("--days", "10", "--start", "2025-03-01", "--end", "2025-03-10")
UNTIMED = ("--analysis-end", "2025-03-10")
CREATED = {1: "2025-03-02 08:00:00", 2: "2025-03-03 09:30:00", 3: "2025-03-04 23:00:00", 4: "2025-03-05 00:00:00"}
EVENT_NAMES = ("post_publish", "media_upload", "stats_view")
ALL_FAMILIES = {"activity", "events", "signup", "subscriptions", "traffic"}
FREE_FAMILIES = ALL_FAMILIES - {"subscriptions"}


def plan(site_id: int, product: str, started_at: str, ended_at: str | None = None, paid: bool = True) -> tuple:
    return (site_id, site_id, product, paid, ts(started_at), ts(ended_at) if ended_at else None)


def audit_tables() -> dict[str, list[tuple]]:
    """Return the rows of the audit warehouse, by table."""
    tables: dict[str, list[tuple]] = {"sites": [], "users": [], "events": [], "traffic": []}
    for n, created in CREATED.items():
        created_at = ts(created)
        tables["users"].append((n, created_at, "en", "US"))
        tables["sites"].append((n, n, created_at, "en" if n % 2 else "de", "US" if n < 3 else "DE"))
        # Events every 17 hours from an hour after creation to about 60 days later.
        for step in range(85):
            at = created_at + dt.timedelta(hours=1 + 17 * step)
            tables["events"].append((n, n, EVENT_NAMES[(step + n) % 3], at))
            if step % 5 == 0:
                tables["events"].append((None, n, "login", at + dt.timedelta(minutes=5)))
        day = created_at.date() - dt.timedelta(days=1)
        while day < dt.date(2025, 4, 30):
            tables["traffic"].append((n, day, (day.day * n) % 17, (day.day * n) % 5))
            day += dt.timedelta(days=1)
    # User 1's second site, with traffic of its own.
    tables["sites"].append((5, 1, ts("2025-03-06 00:00:00"), "en", "US"))
    tables["traffic"] += [(5, dt.date(2025, 3, 7), 11, 3), (5, dt.date(2025, 3, 20), 13, 4)]
    tables["subscriptions"] = [
        plan(2, "premium", "2025-03-03 10:30:00"),
        plan(4, "business", "2025-03-05 01:00:00", "2025-03-20 00:00:00"),
        plan(3, "trial", "2025-03-05 00:00:00", "2025-03-19 00:00:00", paid=False),
        plan(3, "personal", "2025-03-25 00:00:00"),
    ]
    return tables


def init_audit_project(run, tmp_path, spec: str, dates: tuple[str, ...]):
    warehouse = write_warehouse(tmp_path / "warehouse.duckdb", audit_tables())
    result = run("init", "p", "--conversion", spec, "--window", "7", *dates,
                 "--complete-through", "2025-06-30", "--warehouse", str(warehouse))
    assert result.exit_code == 0, result.output
    return warehouse


def compared_families(output: str) -> dict[str, int]:
    """Parse the pass line's "(family N, ...)" into {family: features compared}."""
    match = re.search(r"^audit passed: \d+ features compared for \d+ entities, .*\((.*)\)$", output, re.MULTILINE)
    assert match, output
    counts = {}
    for part in match.group(1).split(", "):
        name, _, count = part.partition(" ")
        counts[name] = int(count)
    return counts


PASS_CASES = [
    ("site free timed", "site_free:free_to_paid", TIMED, FREE_FAMILIES),
    ("site paid timed", "site_paid:paid_to_free", TIMED, ALL_FAMILIES),
    ("site any untimed", "site_any:event_like_^post", UNTIMED, ALL_FAMILIES),
    ("user paid untimed", "user_paid:paid_to_free", UNTIMED, ALL_FAMILIES),
    ("user any timed", "user_any:event_like_^post", TIMED, ALL_FAMILIES),
    ("user free untimed", "user_free:free_to_paid", UNTIMED, FREE_FAMILIES),
]


@pytest.mark.parametrize("spec, dates, families", [c[1:] for c in PASS_CASES], ids=[c[0].replace(" ", "-") for c in PASS_CASES])
def test_shipped_families_pass(run, tmp_path, spec, dates, families):
    warehouse = init_audit_project(run, tmp_path, spec, dates)
    checksum = sha256_file(warehouse)
    result = run("audit", "p")

    assert result.exit_code == 0, result.output
    counts = compared_families(result.stdout)
    assert set(counts) == families
    assert all(count > 0 for count in counts.values()), counts
    assert sha256_file(warehouse) == checksum


LEAKY_YML = """\
description: A deliberately leaky family for the audit's tests.
applies_to: [free, paid, any]
requires: [{table}]
"""

LEAKS = [
    ("events next day", "site_free:free_to_paid", "events", "leaky__events_next_day", """\
{% import 'macros/dialect.sql' as d with context %}
SELECT e.entity_id, 'leaky__events_next_day' AS feature, CAST(COUNT(*) AS DOUBLE) AS value
FROM pipe_eligible e
JOIN {{ table('events') }} ev
  ON ev.{{ key }} = e.entity_id
 AND ev.ts < {{ d.add_days('e.cutoff_at', 1) }}
GROUP BY e.entity_id
"""),
    ("events through cutoff", "user_any:event_like_^post", "events", "leaky__events_through_cutoff", """\
SELECT e.entity_id, 'leaky__events_through_cutoff' AS feature, CAST(COUNT(*) AS DOUBLE) AS value
FROM pipe_eligible e
JOIN {{ table('events') }} ev ON ev.{{ key }} = e.entity_id AND ev.ts <= e.cutoff_at
GROUP BY e.entity_id
"""),
    ("new event name", "site_any:event_like_^post", "events", "leaky__pipe_audit_new_event", """\
{% import 'macros/dialect.sql' as d with context %}
SELECT e.entity_id, {{ d.concat("'leaky__'", 'ev.event') }} AS feature, CAST(COUNT(*) AS DOUBLE) AS value
FROM pipe_eligible e
JOIN {{ table('events') }} ev
  ON ev.{{ key }} = e.entity_id
 AND ev.ts < {{ d.add_days('e.cutoff_at', 2) }}
GROUP BY e.entity_id, ev.event
"""),
    ("traffic cutoff day", "site_free:free_to_paid", "traffic", "leaky__views", """\
SELECT e.entity_id, 'leaky__views' AS feature, CAST(SUM(t.views) AS DOUBLE) AS value
FROM pipe_eligible e
JOIN {{ table('traffic') }} t ON t.site_id = e.entity_id AND t.day <= CAST(e.cutoff_at AS DATE)
GROUP BY e.entity_id
"""),
    ("plan end not clipped", "site_paid:paid_to_free", "subscriptions", "leaky__paid_hours", """\
SELECT e.entity_id, 'leaky__paid_hours' AS feature,
       CAST(SUM(date_diff('hour', s.started_at, COALESCE(s.ended_at, TIMESTAMP '2026-01-01'))) AS DOUBLE) AS value
FROM pipe_eligible e
JOIN {{ table('subscriptions') }} s ON s.{{ key }} = e.entity_id AND s.started_at < e.cutoff_at
GROUP BY e.entity_id
"""),
    ("sites of user", "user_any:event_like_^post", "sites", "leaky__sites", """\
SELECT e.entity_id, 'leaky__sites' AS feature, CAST(COUNT(*) AS DOUBLE) AS value
FROM pipe_eligible e
JOIN {{ table('sites') }} s ON s.user_id = e.entity_id
GROUP BY e.entity_id
"""),
]


@pytest.mark.parametrize("spec, table, feature, sql", [c[1:] for c in LEAKS], ids=[c[0].replace(" ", "-") for c in LEAKS])
def test_leaky_family_caught(run, tmp_path, monkeypatch, spec, table, feature, sql):
    folder = tmp_path / "plugins" / "features"
    folder.mkdir(parents=True)
    (folder / "leaky.yml").write_text(LEAKY_YML.format(table=table))
    (folder / "leaky.sql").write_text(sql)
    monkeypatch.setenv("PIPE_SQL_PATH", str(tmp_path / "plugins"))
    dates = UNTIMED if spec.startswith("user_") else TIMED
    init_audit_project(run, tmp_path, spec, dates)
    result = run("audit", "p")

    assert result.exit_code == 2, result.output
    leak_lines = [line for line in result.stdout.splitlines() if line.startswith("leak: ")]
    assert any(line.startswith(f"leak: family leaky, feature {feature}: ") for line in leak_lines), result.stdout
    assert all(line.startswith("leak: family leaky, ") for line in leak_lines), leak_lines
    assert "families leaky (" in result.stderr
    assert "audit passed" not in result.stdout


@pytest.mark.parametrize("url", ["impala://127.0.0.1:21050/default", "warehouse.yml"], ids=["impala", "configuration"])
def test_audit_rejects_other_engines(run, tmp_path, url):
    init_audit_project(run, tmp_path, "site_free:free_to_paid", TIMED)
    result = run("audit", "p", "--warehouse", url)

    assert result.exit_code == 2
    assert "DuckDB" in result.stderr


def test_audit_unknown_project(run, tmp_path):
    result = run("audit", "missing")

    assert result.exit_code == 2
    assert "missing" in result.stderr
