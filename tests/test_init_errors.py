"""``pipe init`` rejects bad input with one line on stderr and creates nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from warehouse import ts, write_warehouse

NAME = "p"
DAYS = 7
WINDOW = 7

ONE_DAY = dt.timedelta(days=1)

# The latest event falls on this day, so it is the default last complete day.
LAST_COMPLETE = dt.date(2025, 3, 31)

# Timed: every label window must end by midnight after the last complete day,
# so end + days + window <= last complete day + 1 day.
LATEST_END = LAST_COMPLETE + ONE_DAY - dt.timedelta(days=DAYS + WINDOW)
# Untimed: the cutoff is analysis_end + 1 day, so analysis_end + window <= last complete day.
LATEST_ANALYSIS_END = LAST_COMPLETE - dt.timedelta(days=WINDOW)

# With --complete-through 2025-03-20 the same rule gives 2025-03-07.
COMPLETE_THROUGH = dt.date(2025, 3, 20)
LATEST_END_BY_OPTION = COMPLETE_THROUGH + ONE_DAY - dt.timedelta(days=DAYS + WINDOW)

TIMED = ("--days", str(DAYS), "--start", "2025-03-01", "--end", "2025-03-10")


@pytest.fixture
def warehouse(tmp_path):
    return write_warehouse(tmp_path / "warehouse.duckdb", {
        "sites": [(1, 1, ts("2025-03-02 10:00"), "en", "US")],
        "users": [(1, ts("2025-03-02 09:00"), "en", "US")],
        "subscriptions": [(1, 1, "pro", True, ts("2025-03-05"), None)],
        "events": [
            (1, 1, "post_publish", ts("2025-03-03 12:00")),
            (1, 1, "post_publish", ts("2025-03-31 23:59:59.999999")),
            (1, 1, "login", ts("2025-03-20 08:00")),
        ],
    })


def home_entries(home) -> list[str]:
    """Return the names in the home folder, temporary folders included."""
    return sorted(p.name for p in home.iterdir()) if home.exists() else []


def init(run, warehouse, *args: str):
    """Run ``pipe init`` with --window 7, which a later --window in ``args`` overrides."""
    return run("init", NAME, "--window", str(WINDOW), "--warehouse", str(warehouse), *args)


ERROR_CASES = [
    ("spec without colon", ["--conversion", "site_free", *TIMED],
     ["invalid --conversion 'site_free': expected COHORT:CONVERSION"]),
    ("spec with empty cohort", ["--conversion", ":free_to_paid", *TIMED],
     ["invalid --conversion ':free_to_paid'"]),
    ("spec with empty conversion", ["--conversion", "site_free:", *TIMED],
     ["invalid --conversion 'site_free:'"]),
    ("unknown cohort", ["--conversion", "site_fre:free_to_paid", *TIMED],
     ["unknown cohort 'site_fre'", "did you mean 'site_free'?"]),
    ("unknown conversion", ["--conversion", "site_free:free_to_pay", *TIMED],
     ["unknown conversion 'free_to_pay'", "did you mean 'free_to_paid'?"]),
    ("event pattern empty", ["--conversion", "site_any:event_like_", *TIMED],
     ["conversion 'event_like_' has an empty pattern"]),
    ("free cohort paid_to_free", ["--conversion", "site_free:paid_to_free", *TIMED],
     ["conversion 'paid_to_free' does not apply to the free cohort 'site_free'"]),
    ("paid cohort free_to_paid", ["--conversion", "site_paid:free_to_paid", *TIMED],
     ["conversion 'free_to_paid' does not apply to the paid cohort 'site_paid'"]),
    ("user free paid_to_free", ["--conversion", "user_free:paid_to_free", *TIMED],
     ["conversion 'paid_to_free' does not apply to the free cohort 'user_free'"]),
    ("start after end", ["--conversion", "site_free:free_to_paid", "--days", "7", "--start", "2025-03-10", "--end", "2025-03-09"],
     ["--start 2025-03-10 is after --end 2025-03-09"]),
    ("end past complete data", ["--conversion", "site_free:free_to_paid", "--days", "7", "--start", "2025-03-01", "--end", "2025-03-25"],
     ["--end 2025-03-25 needs data through 2025-04-07", f"the last complete day is {LAST_COMPLETE}", f"the latest --end that works is {LATEST_END}"]),
    ("analysis end past complete data", ["--conversion", "site_free:free_to_paid", "--analysis-end", "2025-03-28"],
     ["--analysis-end 2025-03-28 needs data through 2025-04-04", f"the last complete day is {LAST_COMPLETE}", f"the latest --analysis-end that works is {LATEST_ANALYSIS_END}"]),
    ("complete through limits end", ["--conversion", "site_free:free_to_paid", *TIMED, "--complete-through", COMPLETE_THROUGH.isoformat()],
     ["--end 2025-03-10", f"the last complete day is {COMPLETE_THROUGH}", f"the latest --end that works is {LATEST_END_BY_OPTION}"]),
    ("control share above 1", ["--conversion", "site_free:free_to_paid", *TIMED, "--control-share", "7"],
     ["Error: Invalid value for '--control-share': 7.0 is not in the range 0<=x<=1. (see `pipe init --help`)\n"]),
    ("unknown model", ["--conversion", "site_free:free_to_paid", *TIMED, "--model", "xgboost"],
     ["Error: Invalid value for '--model': 'xgboost' is not one of 'random_forest', 'extra_trees'."]),
    ("end before first data", ["--conversion", "site_free:free_to_paid", "--days", "7", "--start", "2025-02-01", "--end", "2025-03-01"],
     ["--end 2025-03-01 is before the first data: the earliest created_at in sites is on 2025-03-02, so the cohort would be empty; "
      "pass --end 2025-03-02 or later"]),
    ("analysis end before first data", ["--conversion", "user_any:event_like_post", "--analysis-end", "2025-03-01"],
     ["--analysis-end 2025-03-01 is before the first data: the earliest created_at in users is on 2025-03-02"]),
    ("complete through in the future", ["--conversion", "site_free:free_to_paid", *TIMED, "--complete-through", "2099-01-01"],
     ["--complete-through 2099-01-01 is not over yet (today is "]),
    ("missing start and end", ["--conversion", "site_free:free_to_paid", "--days", "7"],
     ["missing --start, --end"]),
    ("missing days", ["--conversion", "site_free:free_to_paid", "--start", "2025-03-01", "--end", "2025-03-10"],
     ["missing --days"]),
    ("no dates", ["--conversion", "site_free:free_to_paid"],
     ["missing --days, --start, --end"]),
    ("analysis end with days", ["--conversion", "site_free:free_to_paid", "--analysis-end", "2025-03-10", "--days", "7"],
     ["--analysis-end (untimed) cannot be combined with --days (timed)"]),
    ("analysis end with timed range", ["--conversion", "site_free:free_to_paid", "--analysis-end", "2025-03-10", *TIMED],
     ["cannot be combined with --days, --start, --end"]),
    ("window zero", ["--conversion", "site_free:free_to_paid", "--window", "0", *TIMED],
     ["invalid --window 0"]),
    ("days zero", ["--conversion", "site_free:free_to_paid", "--days", "0", "--start", "2025-03-01", "--end", "2025-03-10"],
     ["invalid --days 0"]),
    ("invalid regular expression", ["--conversion", "site_any:event_like_post_(", *TIMED],
     ["invalid regular expression 'post_('"]),
    ("invalid regex repetition", ["--conversion", "site_any:event_like_*post", *TIMED],
     ["invalid regular expression '*post'"]),
    ("start not a calendar date", ["--conversion", "site_free:free_to_paid", "--days", "7", "--start", "2025-02-31", "--end", "2025-03-10"],
     ["Error: invalid --start '2025-02-31': not a valid calendar date (day is out of range for month); expected YYYY-MM-DD\n"]),
    ("analysis end month 13", ["--conversion", "site_free:free_to_paid", "--analysis-end", "2025-13-01"],
     ["Error: invalid --analysis-end '2025-13-01': not a valid calendar date (month must be in 1..12); expected YYYY-MM-DD\n"]),
    ("end in another format", ["--conversion", "site_free:free_to_paid", "--days", "7", "--start", "2025-03-01", "--end", "10/03/2025"],
     ["Error: invalid --end '10/03/2025': expected a date as YYYY-MM-DD, for example 2025-01-31\n"]),
]


@pytest.mark.parametrize("args, fragments", [c[1:] for c in ERROR_CASES], ids=[c[0].replace(" ", "-") for c in ERROR_CASES])
def test_init_rejects(run, warehouse, tmp_path, args, fragments):
    result = init(run, warehouse, *args)

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert result.stdout == ""
    assert home_entries(tmp_path / "home") == []


def test_init_rejects_existing_name(run, warehouse, tmp_path):
    first = init(run, warehouse, "--conversion", "site_free:free_to_paid", *TIMED)
    assert first.exit_code == 0, first.stderr
    info_path = tmp_path / "home" / NAME / "info.json"
    info_before = info_path.read_bytes()

    second = init(run, warehouse, "--conversion", "site_any:event_like_^post_", *TIMED)

    assert second.exit_code == 2
    assert len(second.stderr.splitlines()) == 1, second.stderr
    assert f"project '{NAME}' already exists" in second.stderr
    assert second.stdout == ""
    assert home_entries(tmp_path / "home") == [NAME]
    assert sorted(p.name for p in (tmp_path / "home" / NAME).iterdir()) == ["info.json"]
    assert info_path.read_bytes() == info_before


def test_init_rejects_missing_warehouse(run, tmp_path):
    missing = tmp_path / "no-such-warehouse.duckdb"

    result = run("init", NAME, "--window", str(WINDOW), "--warehouse", str(missing), "--conversion", "site_free:free_to_paid", *TIMED)

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert f"warehouse file not found: {missing}" in result.stderr
    assert result.stdout == ""
    assert not missing.exists()
    assert home_entries(tmp_path / "home") == []


def test_latest_end_is_accepted(run, warehouse, tmp_path):
    result = init(run, warehouse, "--conversion", "site_free:free_to_paid",
                  "--days", str(DAYS), "--start", "2025-03-01", "--end", LATEST_END.isoformat())

    assert result.exit_code == 0, result.stderr
    plan = json.loads((tmp_path / "home" / NAME / "info.json").read_text())["plan"]
    assert plan["last_window_end"] == f"{LAST_COMPLETE + ONE_DAY}T00:00:00"


def test_day_after_latest_end_is_rejected(run, warehouse, tmp_path):
    too_late = LATEST_END + ONE_DAY

    result = init(run, warehouse, "--conversion", "site_free:free_to_paid",
                  "--days", str(DAYS), "--start", "2025-03-01", "--end", too_late.isoformat())

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert f"--end {too_late}" in result.stderr
    assert f"the latest --end that works is {LATEST_END}" in result.stderr
    assert home_entries(tmp_path / "home") == []


def test_latest_analysis_end_is_accepted(run, warehouse, tmp_path):
    result = init(run, warehouse, "--conversion", "site_free:free_to_paid", "--analysis-end", LATEST_ANALYSIS_END.isoformat())

    assert result.exit_code == 0, result.stderr
    plan = json.loads((tmp_path / "home" / NAME / "info.json").read_text())["plan"]
    assert plan["last_window_end"] == f"{LAST_COMPLETE + ONE_DAY}T00:00:00"


def test_day_after_latest_analysis_end_is_rejected(run, warehouse, tmp_path):
    too_late = LATEST_ANALYSIS_END + ONE_DAY

    result = init(run, warehouse, "--conversion", "site_free:free_to_paid", "--analysis-end", too_late.isoformat())

    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert f"--analysis-end {too_late}" in result.stderr
    assert f"the latest --analysis-end that works is {LATEST_ANALYSIS_END}" in result.stderr
    assert home_entries(tmp_path / "home") == []


@pytest.mark.parametrize("complete_through, warned", [
    (LAST_COMPLETE, False),  # the day of the latest event, 2025-03-31 23:59:59.999999
    (LAST_COMPLETE + ONE_DAY, True),
])
def test_init_complete_through_after_latest_event(run, warehouse, tmp_path, complete_through, warned):
    result = init(run, warehouse, "--conversion", "site_free:free_to_paid", *TIMED, "--complete-through", complete_through.isoformat())

    assert result.exit_code == 0, result.stderr
    warning = f"--complete-through {complete_through} is after the latest event, on {LAST_COMPLETE}"
    assert (warning in result.stderr) == warned, result.stderr
    info = json.loads((tmp_path / "home" / NAME / "info.json").read_text())
    assert info["settings"]["complete_through"] == complete_through.isoformat()
    assert info["settings"]["complete_through_source"] == "--complete-through"


def test_init_end_on_first_data_day(run, warehouse, tmp_path):
    """The site is created on 2025-03-02, so --end 2025-03-02 is the earliest --end with a cohort."""
    result = init(run, warehouse, "--conversion", "site_free:free_to_paid", "--days", "7", "--start", "2025-02-01", "--end", "2025-03-02")

    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "home" / NAME / "info.json").is_file()
