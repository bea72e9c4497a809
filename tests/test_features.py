"""Feature families: their values on hand-written warehouses, the cutoff
boundary, minimum support, and which families each cohort runs.

Timed cases use --days 10 --start 2025-03-01 --end 2025-03-10, and most anchor
the entity at ANCHOR, so its cutoff is CUTOFF. Untimed cases use
--analysis-end 2025-03-10, so every cutoff is UNTIMED_CUTOFF.
"""

from __future__ import annotations

import json
import math

import joblib
import numpy as np
import pyarrow as pa
import pytest

from conftest import FAST_MODEL
from pipe.build import Build
from pipe.cohort import build_population
from pipe.context import make_context
from pipe.eligibility import apply_eligibility
from pipe.engines import open_engine
from pipe.features import DEFAULT_MIN_SUPPORT, build_features, entity_positions, load_features, long_rows_to_matrix
from pipe.project import Project
from warehouse import ts, write_warehouse

COMPLETE_THROUGH = "2025-06-30"
TIMED = ("--days", "10", "--start", "2025-03-01", "--end", "2025-03-10")
UNTIMED = ("--analysis-end", "2025-03-10")

# Anchor date 2025-03-03 + 10 days gives the cutoff.
ANCHOR = "2025-03-03 09:30:00"
CUTOFF = "2025-03-13 00:00:00"
BEFORE_CUTOFF = "2025-03-12 23:59:59.999999"
UNTIMED_CUTOFF = "2025-03-11 00:00:00"

# A site created before the timed range, for paid cohorts whose anchor is a plan's start.
OLD_SITE_CREATED = "2025-02-01 00:00:00"

FREE_SPEC = "site_free:free_to_paid"
ANY_SPEC = "site_any:event_like_^checkout"
PAID_SPEC = "site_paid:paid_to_free"


def site(site_id: int, created_at: str, lang: str | None = "en", country: str | None = "US") -> tuple[str, tuple]:
    """Return a sites row; site N belongs to user N."""
    return "sites", (site_id, site_id, ts(created_at), lang, country)


def user(user_id: int, created_at: str) -> tuple[str, tuple]:
    return "users", (user_id, ts(created_at), "en", "US")


def user_site(site_id: int, user_id: int, created_at: str) -> tuple[str, tuple]:
    return "sites", (site_id, user_id, ts(created_at), "en", "US")


def event(site_id: int | None, name: str | None, at: str, user_id: int | None = None) -> tuple[str, tuple]:
    """Return an events row; its user defaults to the site's owner."""
    return "events", (site_id, site_id if user_id is None else user_id, name, ts(at))


def traffic(site_id: int, day: str, views: int, visitors: int = 1) -> tuple[str, tuple]:
    return "traffic", (site_id, ts(day).date(), views, visitors)


def plan(site_id: int, product: str, started_at: str, ended_at: str | None = None, paid: bool = True) -> tuple[str, tuple]:
    """Return a subscriptions row of site N, owned by user N."""
    return "subscriptions", (site_id, site_id, product, paid, ts(started_at), ts(ended_at) if ended_at else None)


def group_rows(rows: list[tuple[str, tuple]]) -> dict[str, list[tuple]]:
    tables: dict[str, list[tuple]] = {}
    for table, row in rows:
        tables.setdefault(table, []).append(row)
    return tables


def init_project(run, folder, spec: str, rows: list, dates: tuple[str, ...], *options: str):
    """Write ``folder``/warehouse.duckdb and run ``pipe init p`` with home ``folder``/home.

    Returns the warehouse path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = write_warehouse(folder / "warehouse.duckdb", group_rows(rows))
    result = run("init", "p", "--conversion", spec, "--window", "7", *dates,
                 "--complete-through", COMPLETE_THROUGH, "--warehouse", str(warehouse), *options, home=folder / "home")
    assert result.exit_code == 0, result.output
    return warehouse


def compute_features(run, folder, spec: str, rows: list, dates: tuple[str, ...] = TIMED, min_support: int = 1):
    """Create project p in ``folder`` and build its eligible entities' features in process.

    Returns the non-zero values as {entity_id: {feature: value}}, the report
    of ``build_features`` and the templates that ran, in order.
    """
    warehouse = init_project(run, folder, spec, rows, dates)
    info = Project(folder / "home", "p").load_info()
    with open_engine(str(warehouse), read_only=True) as engine:
        ctx = make_context(engine, info)
        eligible, _ = apply_eligibility(ctx, build_population(ctx))
        matrix, report = build_features(ctx, eligible, min_support=min_support)
    values: dict[int, dict[str, float]] = {int(i): {} for i in matrix.entity_ids}
    coo = matrix.X.tocoo()
    for row, column, value in zip(coo.row, coo.col, coo.data):
        values[int(matrix.entity_ids[row])][matrix.feature_names[column]] = float(value)
    return values, report, [template for template, _ in ctx.executed]


def with_prefix(values: dict[str, float], prefix: str) -> dict[str, float]:
    return {name: value for name, value in values.items() if name.startswith(prefix)}


# --- events -------------------------------------------------------------------

def test_events_timed_periods(run, tmp_path):
    rows = [
        site(1, ANCHOR),
        site(2, ANCHOR),
        event(1, "post_publish", "2025-03-03 09:29:59.999999"),  # before creation: never counted
        event(1, "post_publish", ANCHOR),
        event(1, "post_publish", "2025-03-04 09:29:59.999999"),  # last microsecond of the first day
        event(1, "post_publish", "2025-03-04 09:30:00"),
        event(1, "post_publish", "2025-03-10 09:29:59.999999"),  # last microsecond of the first 7 days
        event(1, "post_publish", "2025-03-10 09:30:00"),
        event(1, "post_publish", BEFORE_CUTOFF),
        event(1, "post_publish", CUTOFF),
        event(1, "media_upload", "2025-03-05 12:00:00"),
        event(1, None, "2025-03-05 13:00:00"),  # no name: skipped
    ]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows)

    assert with_prefix(values[1], "events_") == {
        "events_1d__post_publish": 2.0,
        "events_7d__post_publish": 4.0,
        "events_all__post_publish": 6.0,
        "events_7d__media_upload": 1.0,
        "events_all__media_upload": 1.0,
    }
    assert with_prefix(values[2], "events_") == {}


def test_events_untimed_periods(run, tmp_path):
    rows = [
        site(1, "2025-01-15 12:00:00"),
        event(1, "post_publish", "2025-01-15 11:59:59"),  # before creation
        event(1, "post_publish", "2025-02-08 23:59:59.999999"),
        event(1, "post_publish", "2025-02-09 00:00:00"),  # first instant of the last 30 days
        event(1, "post_publish", "2025-03-03 23:59:59.999999"),
        event(1, "post_publish", "2025-03-04 00:00:00"),  # first instant of the last 7 days
        event(1, "post_publish", "2025-03-09 23:59:59.999999"),
        event(1, "post_publish", "2025-03-10 00:00:00"),  # first instant of the last day
        event(1, "post_publish", "2025-03-10 23:59:59.999999"),
        event(1, "post_publish", UNTIMED_CUTOFF),
    ]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows, UNTIMED)

    assert with_prefix(values[1], "events_") == {
        "events_last1d__post_publish": 2.0,
        "events_last7d__post_publish": 4.0,
        "events_last30d__post_publish": 6.0,
        "events_all__post_publish": 7.0,
    }


def test_events_periods_shorter_than_days(run, tmp_path):
    rows = [site(1, ANCHOR), event(1, "post_publish", "2025-03-03 10:00:00")]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows, ("--days", "5", "--start", "2025-03-01", "--end", "2025-03-10"))

    assert with_prefix(values[1], "events_") == {"events_1d__post_publish": 1.0, "events_all__post_publish": 1.0}


def test_events_of_user_include_site_events(run, tmp_path):
    rows = [
        user(1, ANCHOR),
        user_site(11, 1, ANCHOR),
        event(None, "login", "2025-03-04 12:00:00", user_id=1),
        event(11, "post_publish", "2025-03-05 12:00:00", user_id=1),
        event(12, "post_publish", "2025-03-05 12:00:00", user_id=2),
    ]
    values, _, _ = compute_features(run, tmp_path, "user_any:event_like_^checkout", rows)

    assert values[1]["events_all__login"] == 1.0
    assert values[1]["events_all__post_publish"] == 1.0


def test_events_of_paid_cohort_before_anchor(run, tmp_path):
    # The paid anchor is the plan's start; "all" reaches back to the site's creation.
    rows = [
        site(1, OLD_SITE_CREATED),
        plan(1, "premium", ANCHOR),
        event(1, "post_publish", "2025-02-10 12:00:00"),
        event(1, "post_publish", "2025-03-03 12:00:00"),
    ]
    values, _, _ = compute_features(run, tmp_path, PAID_SPEC, rows)

    assert values[1]["events_1d__post_publish"] == 1.0
    assert values[1]["events_all__post_publish"] == 2.0


# --- activity -----------------------------------------------------------------

def test_activity_timed(run, tmp_path):
    rows = [
        site(1, ANCHOR),
        event(1, "post_publish", "2025-03-03 09:29:59"),  # before the anchor
        event(1, "post_publish", ANCHOR),
        event(1, "post_publish", "2025-03-04 09:29:59.999999"),
        event(1, "media_upload", "2025-03-04 09:30:00"),
        event(1, "media_upload", "2025-03-05 12:00:00"),
        event(1, "post_publish", "2025-03-10 09:29:59.999999"),
        event(1, "post_publish", "2025-03-10 09:30:00"),
        event(1, "post_publish", BEFORE_CUTOFF),
        event(1, "post_publish", CUTOFF),
    ]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows)

    assert with_prefix(values[1], "activity__") == {
        "activity__events": 7.0,
        "activity__active_days": 5.0,  # 03-03, 03-04, 03-05, 03-10, 03-12
        "activity__events_per_active_day": pytest.approx(1.4),
        "activity__first_active_day": 1.0,
        "activity__last_active_day": 10.0,
        "activity__active_days_7d": 4.0,
    }


def test_activity_untimed(run, tmp_path):
    rows = [
        site(1, "2025-01-15 12:00:00"),
        event(1, "post_publish", "2025-02-08 23:59:59.999999"),
        event(1, "post_publish", "2025-02-09 00:00:00"),
        event(1, "post_publish", "2025-03-03 23:59:59.999999"),
        event(1, "post_publish", "2025-03-04 00:00:00"),
        event(1, "post_publish", "2025-03-09 23:59:59.999999"),
        event(1, "post_publish", "2025-03-10 00:00:00"),
        event(1, "post_publish", "2025-03-10 23:59:59.999999"),
        event(1, "post_publish", UNTIMED_CUTOFF),
    ]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows, UNTIMED)

    assert with_prefix(values[1], "activity__") == {
        "activity__events": 7.0,
        "activity__active_days": 6.0,
        "activity__events_per_active_day": pytest.approx(7 / 6),
        "activity__first_active_day": 25.0,  # 2025-02-08 is 24 days after 2025-01-15
        "activity__last_active_day": 55.0,
        "activity__active_days_last7d": 3.0,  # 03-04, 03-09, 03-10
        "activity__active_days_last30d": 5.0,
        "activity__days_since_active": 1.0,
    }


def test_activity_of_paid_cohort_starts_at_anchor(run, tmp_path):
    rows = [
        site(1, OLD_SITE_CREATED),
        plan(1, "premium", ANCHOR),
        event(1, "post_publish", "2025-02-10 12:00:00"),
        event(1, "post_publish", "2025-03-04 12:00:00"),
    ]
    values, _, _ = compute_features(run, tmp_path, PAID_SPEC, rows)

    assert values[1]["activity__events"] == 1.0
    assert values[1]["activity__first_active_day"] == 2.0


# --- traffic ------------------------------------------------------------------

def test_traffic_values(run, tmp_path):
    rows = [
        site(1, ANCHOR),
        traffic(1, "2025-03-02", 1000, 100),  # before the creation date
        traffic(1, "2025-03-03", 10, 5),
        traffic(1, "2025-03-05", 0, 0),
        traffic(1, "2025-03-06", 40, 8),  # first day of the last 7 before the cutoff date
        traffic(1, "2025-03-12", 30, 6),
        traffic(1, "2025-03-13", 500, 50),  # the cutoff date
    ]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows)

    assert with_prefix(values[1], "traffic__") == {
        "traffic__views": 80.0,
        "traffic__visitors": 19.0,
        "traffic__days_with_views": 3.0,
        "traffic__peak_day_views": 40.0,
        "traffic__views_last7d": 70.0,
        "traffic__views_prev7d": 10.0,
        "traffic__views_trend_7d": pytest.approx(math.log(71 / 11)),
    }


def test_traffic_of_user_sums_sites_by_day(run, tmp_path):
    rows = [
        user(1, ANCHOR),
        user_site(11, 1, ANCHOR),
        user_site(12, 1, ANCHOR),
        traffic(11, "2025-03-04", 5),
        traffic(12, "2025-03-04", 7),
        traffic(12, "2025-03-05", 3),
    ]
    values, _, _ = compute_features(run, tmp_path, "user_any:event_like_^checkout", rows)

    assert values[1]["traffic__views"] == 15.0
    assert values[1]["traffic__peak_day_views"] == 12.0
    assert values[1]["traffic__days_with_views"] == 2.0


# --- subscriptions ------------------------------------------------------------

def test_subscriptions_of_paid_cohort(run, tmp_path):
    rows = [
        site(1, OLD_SITE_CREATED),
        plan(1, "trial", "2025-02-10", "2025-02-24", paid=False),
        plan(1, "premium", ANCHOR),  # open: clipped at the cutoff
        plan(1, "personal", "2025-03-05", "2025-03-08"),  # inside the premium plan
        plan(1, "business", CUTOFF),
        # Anchored on 03-04, so its cutoff is 03-14, where its plan ends.
        site(2, OLD_SITE_CREATED),
        plan(2, "premium", "2025-03-04", "2025-03-14"),
    ]
    values, _, _ = compute_features(run, tmp_path, PAID_SPEC, rows)

    assert with_prefix(values[1], "subscriptions__") == {
        "subscriptions__plans": 3.0,
        "subscriptions__paid_plans": 2.0,
        "subscriptions__paid_days": pytest.approx(9 + 14.5 / 24),
        "subscriptions__paid_active": 1.0,
        "subscriptions__product__trial": 1.0,
        "subscriptions__product__premium": 1.0,
        "subscriptions__product__personal": 1.0,
    }
    assert values[2]["subscriptions__paid_days"] == pytest.approx(10.0)
    assert values[2]["subscriptions__paid_active"] == 1.0


def test_subscriptions_lapsed_in_any_cohort(run, tmp_path):
    rows = [
        site(1, ANCHOR),
        plan(1, "premium", "2025-03-04 00:00:00", "2025-03-06 12:00:00"),
        plan(1, "premium", "2025-03-08 00:00:00", "2025-03-09 00:00:00"),
    ]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows)

    assert with_prefix(values[1], "subscriptions__") == {
        "subscriptions__plans": 2.0,
        "subscriptions__paid_plans": 2.0,
        "subscriptions__paid_days": pytest.approx(3.5),
        "subscriptions__product__premium": 1.0,
    }


# --- signup -------------------------------------------------------------------

def test_signup_values(run, tmp_path):
    rows = [site(1, ANCHOR), site(2, "2025-03-10 23:00:00", lang=None, country="FR")]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows)

    assert values[1] == {
        "signup__day_of_week": 1.0,  # Monday
        "signup__week_of_month": 1.0,
        "signup__month": 3.0,
        "signup__quarter": 1.0,
        "lang__en": 1.0,
        "country__US": 1.0,
    }
    assert values[2]["signup__week_of_month"] == 2.0
    assert values[2]["lang__unknown"] == 1.0
    assert values[2]["country__FR"] == 1.0


# --- the cutoff boundary ------------------------------------------------------

BOUNDARY_CASES = [
    ("event", [event(1, "post_publish", CUTOFF)], [event(1, "post_publish", BEFORE_CUTOFF)], "events_all__post_publish"),
    ("activity", [event(1, "post_publish", CUTOFF)], [event(1, "post_publish", BEFORE_CUTOFF)], "activity__events"),
    ("traffic day", [traffic(1, "2025-03-13", 9)], [traffic(1, "2025-03-12", 9)], "traffic__views"),
    ("plan start", [plan(1, "premium", CUTOFF)], [plan(1, "premium", BEFORE_CUTOFF)], "subscriptions__paid_plans"),
    ("plan product", [plan(1, "premium", CUTOFF)], [plan(1, "premium", BEFORE_CUTOFF)], "subscriptions__product__premium"),
]


@pytest.mark.parametrize("at_cutoff, before_cutoff, feature", [c[1:] for c in BOUNDARY_CASES], ids=[c[0] for c in BOUNDARY_CASES])
def test_row_at_cutoff_not_counted(run, tmp_path, at_cutoff, before_cutoff, feature):
    at, _, _ = compute_features(run, tmp_path / "at", ANY_SPEC, [site(1, ANCHOR), *at_cutoff])
    before, _, _ = compute_features(run, tmp_path / "before", ANY_SPEC, [site(1, ANCHOR), *before_cutoff])

    assert feature not in at[1]
    assert before[1][feature] > 0


def test_plan_ended_after_cutoff_is_clipped(run, tmp_path):
    rows = [site(1, ANCHOR), plan(1, "premium", "2025-03-12 00:00:00", "2025-04-30 00:00:00")]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows)

    assert values[1]["subscriptions__paid_days"] == pytest.approx(1.0)
    assert values[1]["subscriptions__paid_active"] == 1.0


# --- minimum support ----------------------------------------------------------

def support_rows() -> list:
    """Six sites: 'common' on five of them, 'rare' on four."""
    rows = [site(i, f"2025-03-0{i} 08:00:00") for i in range(1, 7)]
    rows += [event(i, "common", f"2025-03-0{i} 09:00:00") for i in range(1, 6)]
    rows += [event(i, "rare", f"2025-03-0{i} 09:00:00") for i in range(1, 5)]
    return rows


def test_min_support_drops_rare_features(run, tmp_path):
    values, report, _ = compute_features(run, tmp_path, ANY_SPEC, support_rows(), min_support=5)
    names = set().union(*values.values())

    assert "events_all__common" in names
    assert "events_all__rare" not in names
    events = next(entry for entry in report if entry["family"] == "events")
    assert events["dropped_below_min_support"] == 3  # rare in 1d, 7d and all
    assert events["features"] == 3


def test_min_support_keeps_feature_at_threshold(run, tmp_path):
    values, report, _ = compute_features(run, tmp_path, ANY_SPEC, support_rows(), min_support=4)
    names = set().union(*values.values())

    assert "events_all__rare" in names
    events = next(entry for entry in report if entry["family"] == "events")
    assert events["dropped_below_min_support"] == 0


def test_min_support_setting_in_info(run, tmp_path):
    init_project(run, tmp_path / "default", ANY_SPEC, [site(1, ANCHOR)], TIMED)
    init_project(run, tmp_path / "three", ANY_SPEC, [site(1, ANCHOR)], TIMED, "--min-support", "3")

    default = json.loads((tmp_path / "default" / "home" / "p" / "info.json").read_text())
    three = json.loads((tmp_path / "three" / "home" / "p" / "info.json").read_text())
    assert default["settings"]["min_support"] == DEFAULT_MIN_SUPPORT
    assert three["settings"]["min_support"] == 3


def test_min_support_zero_rejected(run, tmp_path):
    warehouse = write_warehouse(tmp_path / "warehouse.duckdb", group_rows([site(1, ANCHOR)]))
    result = run("init", "p", "--conversion", ANY_SPEC, "--window", "7", *TIMED, "--complete-through", COMPLETE_THROUGH,
                 "--warehouse", str(warehouse), "--min-support", "0")

    assert result.exit_code == 2
    assert "--min-support" in result.output
    assert not (tmp_path / "home" / "p").exists()


def test_build_reports_dropped_features(run, demo_warehouse, tmp_path):
    result = run("init", "support", "--warehouse", str(demo_warehouse), "--conversion", FREE_SPEC,
                 "--days", "30", "--window", "7", "--start", "2025-01-15", "--end", "2025-10-31",
                 "--sample", "900", "--min-support", "20", *FAST_MODEL)
    assert result.exit_code == 0, result.output
    result = run("build", "support")
    assert result.exit_code == 0, result.output

    project = tmp_path / "home" / "support"
    info = json.loads((project / "info.json").read_text())
    model_info = json.loads((project / "model_info.json").read_text())
    matrix = load_features(project / "features.npz")
    built = [entry for entry in model_info["feature_families"] if entry["status"] == "built"]

    assert info["settings"]["min_support"] == 20
    assert {entry["family"] for entry in built} == {"activity", "events", "signup", "traffic"}
    assert sum(entry["dropped_below_min_support"] for entry in built) > 0
    assert sum(entry["features"] for entry in built) == len(matrix.feature_names)
    assert matrix.X.getnnz(axis=0).min() >= 20
    assert set(joblib.load(project / "model.joblib")["feature_names"]) <= set(matrix.feature_names)


# --- which families a cohort runs ----------------------------------------------

def build_in_process(run, demo_warehouse, tmp_path, spec: str) -> list[str]:
    """Build project p up to the features; return the templates of every query that ran."""
    result = run("init", "p", "--warehouse", str(demo_warehouse), "--conversion", spec,
                 "--days", "30", "--window", "7", "--start", "2025-01-15", "--end", "2025-10-31", *FAST_MODEL)
    assert result.exit_code == 0, result.output
    project = Project(tmp_path / "home", "p")
    info = project.load_info()
    with open_engine(str(demo_warehouse), read_only=True) as engine:
        ctx = make_context(engine, info)
        Build(project, info, ctx, echo=lambda line: None).run("features")
    return [template for template, _ in ctx.executed]


def test_free_build_runs_no_paid_only_family(run, demo_warehouse, tmp_path):
    templates = build_in_process(run, demo_warehouse, tmp_path, FREE_SPEC)

    assert "features/subscriptions.sql" not in templates
    assert "features/events.sql" in templates


def test_any_build_runs_subscriptions_family(run, demo_warehouse, tmp_path):
    templates = build_in_process(run, demo_warehouse, tmp_path, "site_any:event_like_^checkout_complete$")

    assert "features/subscriptions.sql" in templates


@pytest.mark.parametrize("spec, expected", [
    (FREE_SPEC, False),
    ("site_paid:paid_to_free", True),
    ("site_any:event_like_^checkout", True),
])
def test_dry_run_lists_paid_family(run, tmp_path, spec, expected):
    init_project(run, tmp_path, spec, [site(1, ANCHOR)], TIMED)
    result = run("build", "p", "--dry-run", home=tmp_path / "home")

    assert result.exit_code == 0, result.output
    assert ("-- stage features (subscriptions)" in result.output) is expected
    assert ("subscriptions__" in result.output) is expected
    assert "-- stage features (events)" in result.output


@pytest.mark.parametrize("until, stages", [
    ("cohort", ["cohort", "eligibility"]),
    ("labels", ["cohort", "eligibility", "labels"]),
])
def test_dry_run_stops_at_until(run, tmp_path, until, stages):
    init_project(run, tmp_path, FREE_SPEC, [site(1, ANCHOR)], TIMED)
    result = run("build", "p", "--dry-run", "--until", until, home=tmp_path / "home")

    assert result.exit_code == 0, result.output
    shown = [line.split()[2].rstrip(":") for line in result.output.splitlines() if line.startswith("-- stage ")]
    assert shown == stages


def test_long_rows_drop_zero_values(run, tmp_path):
    # A site whose only traffic has zero views has no traffic feature at all.
    rows = [site(1, ANCHOR), traffic(1, "2025-03-04", 0, 0)]
    values, _, _ = compute_features(run, tmp_path, ANY_SPEC, rows)

    assert with_prefix(values[1], "traffic__") == {}
    assert np.isfinite(list(values[1].values())).all()


# --- pivoting ------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1, 10**12], ids=["dense-ids", "sparse-ids"])
def test_entity_positions_finds_rows(scale):
    entity_ids = np.array([3, 5, 9], dtype=np.int64) * scale

    assert entity_positions(entity_ids, entity_ids[[2, 0, 1, 1]]).tolist() == [2, 0, 1, 1]
    for unknown in (entity_ids[0] - 1, entity_ids[0] + 1, entity_ids[-1] + 1):
        with pytest.raises(ValueError, match="not in pipe_eligible"):
            entity_positions(entity_ids, np.array([unknown], dtype=np.int64))


def test_long_rows_in_chunks_pivot():
    schema = pa.schema([("entity_id", pa.int64()), ("feature", pa.string()), ("value", pa.float64())])
    first = pa.table({"entity_id": [7, 3], "feature": ["b", "a"], "value": [1.0, 2.0]}, schema=schema)
    second = pa.table({"entity_id": [7, 3, 3], "feature": ["a", "c", "a"], "value": [4.0, 0.0, 1.5]}, schema=schema)
    matrix = long_rows_to_matrix(pa.concat_tables([first, second]), np.array([3, 7], dtype=np.int64))

    assert matrix.feature_names == ["a", "b", "c"]
    assert matrix.X.toarray().tolist() == [[3.5, 0.0, 0.0], [4.0, 1.0, 0.0]]
    assert matrix.X.nnz == 3
