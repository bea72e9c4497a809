"""Checks of the settings in ``info.json`` each time a command reads them.

``pipe init`` checks its options, but ``info.json`` is a text file that a user
can edit, copy or damage afterwards. Every command therefore checks the
settings again with the same rules as ``init``, and requires the recorded
date plan to be the one that the settings give. An edited window, date or
share is rejected with one line, so no entity is labelled or split with
values the model was not built for. ``build`` records ``settings_digest``
with model.joblib's SHA-256, and ``pipe.daily.check_model_settings``
compares it with the current settings before ``predict`` or ``evaluate``
relies on the model.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from pipe.errors import DateRangeError, ProjectError
from pipe.model_settings import DEFAULT_MODEL_SETTINGS, ESTIMATOR_NAMES
from pipe.plan import make_plan

#: The folds that ``--folds`` accepts.
FOLDS_RANGE = (2, 20)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _invalid(source: Path | str, key: str, value: Any, expected: str) -> ProjectError:
    return ProjectError(
        f"{source}: settings.{key} is {value!r}, expected {expected}; "
        "info.json was edited after `pipe init`, so create the project again with `pipe init` to change a setting"
    )


def _date(settings: dict, key: str, source: Path | str) -> dt.date | None:
    value = settings.get(key)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _invalid(source, key, value, "a date YYYY-MM-DD or null") from None


def check_settings(info: dict[str, Any], source: Path | str) -> None:
    """Raise ProjectError unless ``info``'s settings pass init's checks and give its recorded plan.

    ``source`` names the file in messages.
    """
    settings = info["settings"]
    if not isinstance(settings, dict):
        raise ProjectError(f"{source}: settings is not a JSON object; create the project again with `pipe init`")
    for key in ("window", "days", "sample", "min_support", "seed"):
        value = settings.get(key)
        optional = key in ("days", "sample")
        if not (_is_whole(value) or (optional and value is None)):
            raise _invalid(source, key, value, "a whole number" + (" or null" if optional else ""))
    if settings["min_support"] < 1:
        raise _invalid(source, "min_support", settings["min_support"], "at least 1")
    if settings["sample"] is not None and settings["sample"] < 1:
        raise _invalid(source, "sample", settings["sample"], "at least 1 or null")
    share = settings.get("control_share")
    if not _is_number(share) or not 0 <= share <= 1:
        raise _invalid(source, "control_share", share, "a number from 0 to 1")
    if not isinstance(settings.get("ab_salt"), str) or not settings["ab_salt"]:
        raise _invalid(source, "ab_salt", settings.get("ab_salt"), "the text that init drew")
    _check_model(settings.get("model"), source)

    complete_through = _date(settings, "complete_through", source)
    if complete_through is None:
        raise _invalid(source, "complete_through", None, "a date YYYY-MM-DD")
    try:
        plan = make_plan(
            window=settings["window"],
            complete_through=complete_through,
            days=settings["days"],
            start=_date(settings, "start", source),
            end=_date(settings, "end", source),
            analysis_end=_date(settings, "analysis_end", source),
        )
    except DateRangeError as error:
        raise ProjectError(f"{source}: the settings no longer pass init's date checks: {error}") from None
    except TypeError:
        # A timed project without start or end, or an untimed one without analysis_end.
        raise ProjectError(
            f"{source}: settings need days, start and end (timed) or analysis_end (untimed); "
            "create the project again with `pipe init`"
        ) from None
    derived = plan.to_json()
    recorded = info["plan"]
    for key, value in derived.items():
        if recorded.get(key) != value:
            raise ProjectError(
                f"{source}: plan.{key} is {recorded.get(key)!r} but the settings give {value!r}; "
                "info.json was edited after `pipe init`, so create the project again with `pipe init` to change a setting"
            )


def _check_model(model: Any, source: Path | str) -> None:
    if not isinstance(model, dict):
        raise _invalid(source, "model", model, "an object with the keys " + ", ".join(DEFAULT_MODEL_SETTINGS))
    if model.get("estimator") not in ESTIMATOR_NAMES:
        raise _invalid(source, "model.estimator", model.get("estimator"), "one of " + ", ".join(ESTIMATOR_NAMES))
    trials, folds = model.get("trials"), model.get("folds")
    if not _is_whole(trials) or trials < 0:
        raise _invalid(source, "model.trials", trials, "a whole number, at least 0")
    if not _is_whole(folds) or not FOLDS_RANGE[0] <= folds <= FOLDS_RANGE[1]:
        raise _invalid(source, "model.folds", folds, f"a whole number from {FOLDS_RANGE[0]} to {FOLDS_RANGE[1]}")
    for key in ("test_size", "selection_ratio"):
        value = model.get(key)
        if not _is_number(value) or not 0 < value < 1:
            raise _invalid(source, f"model.{key}", value, "a number between 0 and 1")
    tolerance = model.get("selection_tolerance")
    if not _is_number(tolerance) or tolerance < 0:
        raise _invalid(source, "model.selection_tolerance", tolerance, "a number, at least 0")
    largest = model.get("tuning_max_entities")
    if not _is_whole(largest) or largest < 1:
        raise _invalid(source, "model.tuning_max_entities", largest, "a whole number, at least 1")


def settings_digest(info: dict[str, Any]) -> str:
    """Return the SHA-256 of ``info``'s settings and plan, in a canonical JSON form."""
    canonical = json.dumps({"settings": info["settings"], "plan": info["plan"]}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
