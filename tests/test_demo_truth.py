"""The demo's hidden propensity is compared with the model only for the question it answers."""

import datetime as dt
import json
import types

import pytest

from conftest import FAST_MODEL
from pipe.build import demo_truth_applies
from pipe.plan import DatePlan
from pipe.registry import Registry
from pipe.spec import parse_spec
from pipe.templates import sql_search_path

TIMED = DatePlan(window=7, complete_through=dt.date(2025, 12, 31), days=30,
                 anchor_start=dt.date(2025, 2, 1), anchor_end=dt.date(2025, 10, 31))
UNTIMED = DatePlan(window=7, complete_through=dt.date(2025, 12, 31), analysis_end=dt.date(2025, 10, 31))


@pytest.mark.parametrize("conversion, plan, expected", [
    ("site_free:free_to_paid", TIMED, True),
    ("site_free:free_to_paid", UNTIMED, False),
    ("site_paid:paid_to_free", TIMED, False),
    ("site_free:event_like_^checkout_start$", TIMED, False),
    ("site_any:event_like_checkout", TIMED, False),
    ("user_free:free_to_paid", TIMED, False),
], ids=["timed free_to_paid", "untimed free_to_paid", "paid_to_free", "free event_like", "any event_like", "user free_to_paid"])
def test_demo_truth_applies_to_question(conversion, plan, expected):
    ctx = types.SimpleNamespace(spec=parse_spec(conversion, Registry(sql_search_path())), plan=plan)
    assert demo_truth_applies(ctx) is expected


def build(run, warehouse, name, conversion, start, end):
    result = run("init", name, "--warehouse", str(warehouse), "--conversion", conversion, "--days", "30", "--window", "7",
                 "--start", start, "--end", end, *FAST_MODEL)
    assert result.exit_code == 0, result.output
    result = run("build", name)
    assert result.exit_code == 0, result.output
    return result


def test_paid_to_free_build_omits_demo_truth(run, demo_warehouse, tmp_path):
    result = build(run, demo_warehouse, "churn", "site_paid:paid_to_free", "2025-01-15", "2025-10-31")

    assert "test ROC AUC" in result.stdout
    # The build still logs each feature family's counts, which predict logs at DEBUG only.
    assert "feature family events: " in result.stderr
    assert "demo_truth" not in result.stdout
    metrics = json.loads((tmp_path / "home" / "churn" / "model_info.json").read_text())["test_metrics"]
    assert "demo_truth_roc_auc" not in metrics
    assert "roc_auc_over_demo_truth" not in metrics


def test_free_to_paid_build_prints_demo_truth(run, demo_warehouse, tmp_path):
    result = build(run, demo_warehouse, "buy", "site_free:free_to_paid", "2025-01-15", "2025-10-31")

    metrics = json.loads((tmp_path / "home" / "buy" / "model_info.json").read_text())["test_metrics"]
    assert 0.5 < metrics["demo_truth_roc_auc"] < 1
    assert f"demo_truth.propensity ROC AUC on the same test entities {metrics['demo_truth_roc_auc']:.4f}" in result.stdout
