"""Date rules of cohorts and labels, one hand-built warehouse per case.

Each case runs ``pipe init`` and ``pipe build --until labels`` and checks, for
every entity, whether it is in the population, whether it is eligible and its
label. Timed cases use --days 7 --window 7 --start 2025-03-01 --end 2025-03-10,
and most of them anchor the entity at ANCHOR, so its cutoff is CUTOFF and its
label window is [CUTOFF, WINDOW_END). Untimed cases use --analysis-end
2025-03-10, so every cutoff is UNTIMED_CUTOFF and every label window is
[UNTIMED_CUTOFF, UNTIMED_WINDOW_END).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest

from warehouse import ts, write_warehouse

DAYS = 7
WINDOW = 7
START = "2025-03-01"
END = "2025-03-10"
ANALYSIS_END = "2025-03-10"
COMPLETE_THROUGH = "2025-06-30"

TIMED = ("--days", str(DAYS), "--start", START, "--end", END)
UNTIMED = ("--analysis-end", ANALYSIS_END)

# The cutoff is the anchor date 2025-03-03 + 7 days, and the window adds 7 more days.
ANCHOR = "2025-03-03 09:30:00"
CUTOFF = "2025-03-10 00:00:00"
WINDOW_END = "2025-03-17 00:00:00"

# --analysis-end 2025-03-10: the cutoff is midnight at the end of that day.
UNTIMED_CUTOFF = "2025-03-11 00:00:00"
UNTIMED_WINDOW_END = "2025-03-18 00:00:00"

# Outcomes besides the labels 0 and 1.
EXCLUDED = "not in the population"
INELIGIBLE = "in the population, not eligible"

# Every warehouse also contains this entity, which is always eligible with
# label 0, so that a build never stops on an empty eligible set.
CONTROL_ID = 900
CONTROL_CREATED = "2025-03-01 12:00:00"


def site(site_id: int, created_at: str) -> tuple[str, tuple]:
    """Return a sites row. Site N belongs to user N."""
    return "sites", (site_id, site_id, ts(created_at), "en", "US")


def user(user_id: int, created_at: str) -> tuple[str, tuple]:
    return "users", (user_id, ts(created_at), "en", "US")


def plan(site_id: int, started_at: str, ended_at: str | None = None, paid: bool = True) -> tuple[str, tuple]:
    """Return a subscriptions row of site N, owned by user N."""
    product = "pro" if paid else "free"
    return "subscriptions", (site_id, site_id, product, paid, ts(started_at), ts(ended_at) if ended_at else None)


def user_plan(user_id: int, started_at: str, ended_at: str | None = None, site_id: int | None = None) -> tuple[str, tuple]:
    """Return a paid subscriptions row of a user, on ``site_id`` or on no site."""
    return "subscriptions", (site_id, user_id, "pro", True, ts(started_at), ts(ended_at) if ended_at else None)


def event(site_id: int | None, name: str, occurred_at: str, user_id: int | None = None) -> tuple[str, tuple]:
    """Return an events row whose user defaults to the site's owner."""
    return "events", (site_id, site_id if user_id is None else user_id, name, ts(occurred_at))


@dataclass(frozen=True)
class Case:
    """One date rule: the spec, the warehouse rows and each entity's expected
    outcome (EXCLUDED, INELIGIBLE, or its label 0 or 1)."""

    name: str
    spec: str
    rows: tuple[tuple[str, tuple], ...]
    expected: dict[int, object]
    dates: tuple[str, ...] = TIMED


def case(name: str, spec: str, rows: list, expected: dict[int, object], dates: tuple[str, ...] = TIMED) -> Case:
    return Case(name=name, spec=spec, rows=tuple(rows), expected=expected, dates=dates)


ANCHOR_CASES = [
    case("anchor on first day", "site_free:free_to_paid", [site(1, "2025-03-01 00:00:00")], {1: 0}),
    case("anchor on last day", "site_free:free_to_paid", [site(1, "2025-03-10 00:00:00")], {1: 0}),
    case("anchor last microsecond of last day", "site_free:free_to_paid", [site(1, "2025-03-10 23:59:59.999999")], {1: 0}),
    case("anchor day before start", "site_free:free_to_paid", [site(1, "2025-02-28 23:59:59.999999")], {1: EXCLUDED}),
    case("anchor day after end", "site_free:free_to_paid", [site(1, "2025-03-11 00:00:00")], {1: EXCLUDED}),
    case("paid anchor on first day", "site_paid:paid_to_free", [site(1, "2025-02-01"), plan(1, "2025-03-01 00:00:00")], {1: 0}),
    case("paid anchor last microsecond", "site_paid:paid_to_free", [site(1, "2025-02-01"), plan(1, "2025-03-10 23:59:59.999999")], {1: 0}),
    case("paid anchor day before start", "site_paid:paid_to_free", [site(1, "2025-02-01"), plan(1, "2025-02-28 23:59:59.999999")], {1: EXCLUDED}),
    case("paid anchor day after end", "site_paid:paid_to_free", [site(1, "2025-02-01"), plan(1, "2025-03-11 00:00:00")], {1: EXCLUDED}),
    case("paid anchor is first paid plan", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, "2025-02-20", paid=False), plan(1, ANCHOR)], {1: 0}),
    case("earlier paid plan sets anchor", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, "2025-02-20", "2025-02-25"), plan(1, ANCHOR)], {1: EXCLUDED}),
    case("never paid site not in paid", "site_paid:paid_to_free", [site(1, "2025-03-03"), plan(1, ANCHOR, paid=False)], {1: EXCLUDED}),
    case("user anchor on first day", "user_free:free_to_paid", [user(1, "2025-03-01 00:00:00")], {1: 0}),
    case("user anchor day after end", "user_free:free_to_paid", [user(1, "2025-03-11 00:00:00")], {1: EXCLUDED}),
    case("user paid anchor day before start", "user_paid:paid_to_free",
         [user(1, "2025-02-01"), user_plan(1, "2025-02-28 23:59:59.999999")], {1: EXCLUDED}),
]

TIMED_FREE_CASES = [
    case("paid starts at cutoff", "site_free:free_to_paid", [site(1, ANCHOR), plan(1, CUTOFF)], {1: 1}),
    case("paid starts second before cutoff", "site_free:free_to_paid", [site(1, ANCHOR), plan(1, "2025-03-09 23:59:59")], {1: INELIGIBLE}),
    case("paid starts at anchor", "site_free:free_to_paid", [site(1, ANCHOR), plan(1, ANCHOR)], {1: INELIGIBLE}),
    case("paid starts at window end", "site_free:free_to_paid", [site(1, ANCHOR), plan(1, WINDOW_END)], {1: 0}),
    case("paid starts microsecond before window end", "site_free:free_to_paid",
         [site(1, ANCHOR), plan(1, "2025-03-16 23:59:59.999999")], {1: 1}),
    case("free plan in window", "site_free:free_to_paid", [site(1, ANCHOR), plan(1, "2025-03-12", paid=False)], {1: 0}),
    case("free plan before cutoff", "site_free:free_to_paid", [site(1, ANCHOR), plan(1, "2025-03-05", paid=False)], {1: 0}),
    case("paid ended at anchor", "site_free:free_to_paid", [site(1, ANCHOR), plan(1, "2025-02-01", ANCHOR)], {1: 0}),
    case("paid ended second after anchor", "site_free:free_to_paid",
         [site(1, ANCHOR), plan(1, "2025-02-01", "2025-03-03 09:30:01")], {1: INELIGIBLE}),
    case("paid plan of another site", "site_free:free_to_paid", [site(1, ANCHOR), site(2, "2025-01-01"), plan(2, "2025-03-05")], {1: 0, 2: EXCLUDED}),
    case("user paid starts at cutoff", "user_free:free_to_paid", [user(1, ANCHOR), user_plan(1, CUTOFF, site_id=5)], {1: 1}),
    case("user paid on a site before cutoff", "user_free:free_to_paid",
         [user(1, ANCHOR), user_plan(1, "2025-03-05", site_id=5)], {1: INELIGIBLE}),
    case("user paid starts at window end", "user_free:free_to_paid", [user(1, ANCHOR), user_plan(1, WINDOW_END)], {1: 0}),
]

TIMED_PAID_CASES = [
    case("plan ends at cutoff", "site_paid:paid_to_free", [site(1, "2025-02-01"), plan(1, ANCHOR, CUTOFF)], {1: 1}),
    case("plan ends second before cutoff", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, "2025-03-09 23:59:59")], {1: INELIGIBLE}),
    case("handoff before cutoff", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, "2025-03-06 12:00:00"), plan(1, "2025-03-06 12:00:00")], {1: 0}),
    case("handoff in window", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, "2025-03-13 12:00:00"), plan(1, "2025-03-13 12:00:00")], {1: 0}),
    case("one second gap before cutoff", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, "2025-03-06 12:00:00"), plan(1, "2025-03-06 12:00:01")], {1: INELIGIBLE}),
    case("one second gap in window", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, "2025-03-13 12:00:00"), plan(1, "2025-03-13 12:00:01")], {1: 1}),
    case("gap at cutoff", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, CUTOFF), plan(1, "2025-03-10 00:00:01")], {1: 1}),
    case("open plan covers window", "site_paid:paid_to_free", [site(1, "2025-02-01"), plan(1, ANCHOR)], {1: 0}),
    case("plan ends at window end", "site_paid:paid_to_free", [site(1, "2025-02-01"), plan(1, ANCHOR, WINDOW_END)], {1: 0}),
    case("plan ends microsecond before window end", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, "2025-03-16 23:59:59.999999")], {1: 1}),
    # The nested second plan ends before the third starts, but the first plan
    # still runs past that start, so there is no gap.
    case("overlapping and nested plans", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, "2025-03-08"), plan(1, "2025-03-04", "2025-03-05"), plan(1, "2025-03-07")], {1: 0}),
    case("overlapping plans gap in window", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, "2025-03-14"), plan(1, "2025-03-11", "2025-03-12"), plan(1, "2025-03-15")], {1: 1}),
    case("free plan does not fill gap", "site_paid:paid_to_free",
         [site(1, "2025-02-01"), plan(1, ANCHOR, "2025-03-06"), plan(1, "2025-03-06", "2025-04-01", paid=False), plan(1, "2025-04-01")],
         {1: INELIGIBLE}),
    case("user handoff across sites", "user_paid:paid_to_free",
         [user(1, "2025-02-01"), user_plan(1, ANCHOR, "2025-03-06", site_id=11), user_plan(1, "2025-03-06", site_id=12)], {1: 0}),
    case("user plan ends at cutoff", "user_paid:paid_to_free", [user(1, "2025-02-01"), user_plan(1, ANCHOR, CUTOFF)], {1: 1}),
    case("user gap before cutoff", "user_paid:paid_to_free",
         [user(1, "2025-02-01"), user_plan(1, ANCHOR, "2025-03-06"), user_plan(1, "2025-03-06 00:00:01")], {1: INELIGIBLE}),
    case("user gap in window", "user_paid:paid_to_free",
         [user(1, "2025-02-01"), user_plan(1, ANCHOR, "2025-03-12", site_id=11), user_plan(1, "2025-03-13", site_id=12)], {1: 1}),
]

EVENT_CASES = [
    case("event at cutoff", "site_any:event_like_^post_", [site(1, ANCHOR), event(1, "post_publish", CUTOFF)], {1: 1}),
    case("event microsecond before cutoff", "site_any:event_like_^post_",
         [site(1, ANCHOR), event(1, "post_publish", "2025-03-09 23:59:59.999999")], {1: 0}),
    case("event at window end", "site_any:event_like_^post_", [site(1, ANCHOR), event(1, "post_publish", WINDOW_END)], {1: 0}),
    case("event microsecond before window end", "site_any:event_like_^post_",
         [site(1, ANCHOR), event(1, "post_publish", "2025-03-16 23:59:59.999999")], {1: 1}),
    case("pattern matches inside name", "site_any:event_like_post", [site(1, ANCHOR), event(1, "blog_post_publish", "2025-03-12")], {1: 1}),
    case("anchored pattern skips inside", "site_any:event_like_^post_",
         [site(1, ANCHOR), event(1, "blog_post_publish", "2025-03-12")], {1: 0}),
    case("pattern alternation matches", "site_any:event_like_^post_(publish|share)$",
         [site(1, ANCHOR), event(1, "post_share", "2025-03-12")], {1: 1}),
    case("pattern end anchor rejects", "site_any:event_like_^post_(publish|share)$",
         [site(1, ANCHOR), event(1, "post_shared", "2025-03-12")], {1: 0}),
    case("pattern dot matches any", "site_any:event_like_post.publish", [site(1, ANCHOR), event(1, "post-publish", "2025-03-12")], {1: 1}),
    case("pattern with quote", "site_any:event_like_it's", [site(1, ANCHOR), event(1, "it's_live", "2025-03-12")], {1: 1}),
    case("event of another site", "site_any:event_like_^post_",
         [site(1, ANCHOR), site(2, ANCHOR), event(2, "post_publish", "2025-03-12", user_id=1)], {1: 0, 2: 1}),
    case("user-only event skips site", "site_any:event_like_^post_",
         [site(1, ANCHOR), event(None, "post_publish", "2025-03-12", user_id=1)], {1: 0}),
    case("user-only event counts for user", "user_any:event_like_^post_",
         [user(1, ANCHOR), event(None, "post_publish", "2025-03-12", user_id=1)], {1: 1}),
    case("site event counts for user", "user_any:event_like_^post_",
         [user(1, ANCHOR), event(7, "post_publish", "2025-03-12", user_id=1)], {1: 1}),
    case("user event at window end", "user_any:event_like_^post_",
         [user(1, ANCHOR), event(None, "post_publish", WINDOW_END, user_id=1)], {1: 0}),
    case("free cohort event label", "site_free:event_like_^post_",
         [site(1, ANCHOR), site(2, ANCHOR), plan(2, "2025-03-05"), event(1, "post_publish", CUTOFF), event(2, "post_publish", CUTOFF)],
         {1: 1, 2: INELIGIBLE}),
    case("paid cohort event label", "site_paid:event_like_^post_",
         [site(1, "2025-02-01"), plan(1, ANCHOR), event(1, "post_publish", CUTOFF)], {1: 1}),
]

ANY_CASES = [
    case("any keeps free and paid sites", "site_any:event_like_^post_",
         [site(1, ANCHOR), site(2, ANCHOR), plan(2, "2025-02-01"), site(3, ANCHOR), plan(3, ANCHOR, "2025-03-05"), site(4, "2025-03-11")],
         {1: 0, 2: 0, 3: 0, 4: EXCLUDED}),
    case("any keeps free and paid users", "user_any:event_like_^post_",
         [user(1, ANCHOR), user(2, ANCHOR), user_plan(2, "2025-03-05", "2025-03-06"), user(3, "2025-02-28 23:59:59")],
         {1: 0, 2: 0, 3: EXCLUDED}),
]

UNTIMED_CASES = [
    case("untimed created at cutoff", "site_free:free_to_paid", [site(1, UNTIMED_CUTOFF)], {1: EXCLUDED}, UNTIMED),
    case("untimed created microsecond before", "site_free:free_to_paid", [site(1, "2025-03-10 23:59:59.999999")], {1: 0}, UNTIMED),
    case("untimed created long before", "site_free:free_to_paid", [site(1, "2023-01-01")], {1: 0}, UNTIMED),
    case("untimed paid starts at cutoff", "site_free:free_to_paid", [site(1, "2025-01-15"), plan(1, UNTIMED_CUTOFF)], {1: 1}, UNTIMED),
    case("untimed paid active at cutoff", "site_free:free_to_paid", [site(1, "2025-01-15"), plan(1, "2025-02-01")], {1: INELIGIBLE}, UNTIMED),
    case("untimed paid ends at cutoff", "site_free:free_to_paid",
         [site(1, "2025-01-15"), plan(1, "2025-02-01", UNTIMED_CUTOFF)], {1: INELIGIBLE}, UNTIMED),
    case("untimed paid ended before cutoff", "site_free:free_to_paid",
         [site(1, "2025-01-15"), plan(1, "2025-02-01", "2025-03-10 23:59:59")], {1: 0}, UNTIMED),
    case("untimed paid starts at window end", "site_free:free_to_paid",
         [site(1, "2025-01-15"), plan(1, UNTIMED_WINDOW_END)], {1: 0}, UNTIMED),
    case("untimed paid starts before window end", "site_free:free_to_paid",
         [site(1, "2025-01-15"), plan(1, "2025-03-17 23:59:59.999999")], {1: 1}, UNTIMED),
    case("untimed paid plan starts at cutoff", "site_paid:paid_to_free",
         [site(1, "2025-01-15"), plan(1, UNTIMED_CUTOFF)], {1: EXCLUDED}, UNTIMED),
    case("untimed paid plan ends at cutoff", "site_paid:paid_to_free",
         [site(1, "2025-01-15"), plan(1, "2025-02-01", UNTIMED_CUTOFF)], {1: 1}, UNTIMED),
    case("untimed paid open plan", "site_paid:paid_to_free", [site(1, "2025-01-15"), plan(1, "2025-02-01")], {1: 0}, UNTIMED),
    case("untimed paid ended before cutoff", "site_paid:paid_to_free",
         [site(1, "2025-01-15"), plan(1, "2025-02-01", "2025-03-10 23:59:59")], {1: INELIGIBLE}, UNTIMED),
    case("untimed paid gap in window", "site_paid:paid_to_free",
         [site(1, "2025-01-15"), plan(1, "2025-02-01", "2025-03-14"), plan(1, "2025-03-14 00:00:01")], {1: 1}, UNTIMED),
    case("untimed paid ends at window end", "site_paid:paid_to_free",
         [site(1, "2025-01-15"), plan(1, "2025-02-01", UNTIMED_WINDOW_END)], {1: 0}, UNTIMED),
    case("untimed event at cutoff", "site_any:event_like_^post_",
         [site(1, "2025-01-15"), event(1, "post_publish", UNTIMED_CUTOFF)], {1: 1}, UNTIMED),
    case("untimed event before cutoff", "site_any:event_like_^post_",
         [site(1, "2025-01-15"), event(1, "post_publish", "2025-03-10 23:59:59.999999")], {1: 0}, UNTIMED),
    case("untimed event at window end", "site_any:event_like_^post_",
         [site(1, "2025-01-15"), event(1, "post_publish", UNTIMED_WINDOW_END)], {1: 0}, UNTIMED),
    case("untimed any created at cutoff", "site_any:event_like_^post_",
         [site(1, UNTIMED_CUTOFF), site(2, "2025-01-15"), plan(2, "2025-02-01")], {1: EXCLUDED, 2: 0}, UNTIMED),
    case("untimed user created at cutoff", "user_free:free_to_paid", [user(1, UNTIMED_CUTOFF)], {1: EXCLUDED}, UNTIMED),
    case("untimed user paid starts at cutoff", "user_free:free_to_paid",
         [user(1, "2025-01-15"), user_plan(1, UNTIMED_CUTOFF, site_id=5)], {1: 1}, UNTIMED),
    case("untimed user plan ends at cutoff", "user_paid:paid_to_free",
         [user(1, "2025-01-15"), user_plan(1, "2025-02-01", UNTIMED_CUTOFF)], {1: 1}, UNTIMED),
]

CASES = ANCHOR_CASES + TIMED_FREE_CASES + TIMED_PAID_CASES + EVENT_CASES + ANY_CASES + UNTIMED_CASES


def warehouse_tables(spec: str, rows: tuple[tuple[str, tuple], ...]) -> dict[str, list[tuple]]:
    """Group ``rows`` by table and add the control entity for the spec's cohort."""
    tables: dict[str, list[tuple]] = {}
    for table, row in rows:
        tables.setdefault(table, []).append(row)

    cohort = spec.partition(":")[0]
    if cohort.startswith("user_"):
        tables.setdefault("users", []).append(user(CONTROL_ID, CONTROL_CREATED)[1])
        control_plan = user_plan(CONTROL_ID, CONTROL_CREATED)[1]
    else:
        tables.setdefault("sites", []).append(site(CONTROL_ID, CONTROL_CREATED)[1])
        control_plan = plan(CONTROL_ID, CONTROL_CREATED)[1]
    if cohort.endswith("_paid"):
        tables.setdefault("subscriptions", []).append(control_plan)
    return tables


def build_until_labels(run, tmp_path, spec: str, rows, dates: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run init and build --until labels, then return cohort.parquet and raw.parquet."""
    warehouse = write_warehouse(tmp_path / "warehouse.duckdb", warehouse_tables(spec, rows))
    init = run("init", "p", "--conversion", spec, "--window", str(WINDOW), *dates,
               "--complete-through", COMPLETE_THROUGH, "--warehouse", str(warehouse))
    assert init.exit_code == 0, init.stderr
    build = run("build", "p", "--until", "labels")
    assert build.exit_code == 0, build.stderr

    project = tmp_path / "home" / "p"
    return pd.read_parquet(project / "cohort.parquet"), pd.read_parquet(project / "raw.parquet")


@pytest.mark.parametrize("case", CASES, ids=[c.name.replace(" ", "-") for c in CASES])
def test_date_rule(case: Case, run, tmp_path):
    cohort, raw = build_until_labels(run, tmp_path, case.spec, case.rows, case.dates)
    expected = {CONTROL_ID: 0, **case.expected}

    population = {i for i, outcome in expected.items() if outcome != EXCLUDED}
    eligible = {i for i, outcome in expected.items() if outcome in (0, 1)}
    labels = {i: outcome for i, outcome in expected.items() if outcome in (0, 1)}

    assert set(cohort["entity_id"]) == population
    assert set(cohort.loc[cohort["selected"], "entity_id"]) == eligible
    assert dict(zip(raw["entity_id"], raw["label"])) == labels


def test_timed_cutoff_is_anchor_date_plus_days(run, tmp_path):
    rows = [site(1, "2025-03-01 00:00:00"), site(2, "2025-03-10 23:59:59.999999"), site(3, ANCHOR)]
    cohort, raw = build_until_labels(run, tmp_path, "site_free:free_to_paid", rows, TIMED)
    cutoffs = dict(zip(raw["entity_id"], raw["cutoff_at"]))

    assert cutoffs[1] == ts("2025-03-08 00:00:00")
    assert cutoffs[2] == ts("2025-03-17 00:00:00")
    assert cutoffs[3] == ts(CUTOFF)


def test_paid_anchor_is_first_paid_start(run, tmp_path):
    rows = [site(1, "2025-01-10"), plan(1, "2025-01-20", paid=False), plan(1, "2025-03-05 23:00:00"), plan(1, "2025-03-06 10:00:00")]
    cohort, raw = build_until_labels(run, tmp_path, "site_paid:paid_to_free", rows, TIMED)
    anchors = dict(zip(raw["entity_id"], raw["anchor_at"]))
    cutoffs = dict(zip(raw["entity_id"], raw["cutoff_at"]))

    assert anchors[1] == ts("2025-03-05 23:00:00")
    assert cutoffs[1] == ts("2025-03-12 00:00:00")


def test_untimed_cutoff_is_shared(run, tmp_path):
    rows = [site(1, "2023-01-01"), site(2, "2025-03-10 23:59:59.999999")]
    cohort, raw = build_until_labels(run, tmp_path, "site_free:free_to_paid", rows, UNTIMED)

    assert set(raw["cutoff_at"]) == {ts(UNTIMED_CUTOFF)}
