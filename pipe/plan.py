"""The date plan: cutoffs, label windows and the completeness check.

All instants are naive ``datetime`` values meaning UTC. Intervals are
half-open ``[start, end)``. The last complete day C means the warehouse contains
every row dated up to midnight at the end of C, that is before C + 1 day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from pipe.errors import DateRangeError

ONE_DAY = dt.timedelta(days=1)


def midnight(day: dt.date) -> dt.datetime:
    """Return midnight UTC at the start of ``day``."""
    return dt.datetime(day.year, day.month, day.day)


@dataclass(frozen=True)
class DatePlan:
    """When a project's entities are cut off and labelled.

    Timed projects (``days`` set) take the entities whose anchor date is in
    [anchor_start, anchor_end]; an entity anchored on day A has its cutoff at
    midnight of A + days and its label window [cutoff, cutoff + window days).
    Untimed projects share one cutoff, midnight at the end of analysis_end.
    """

    window: int
    complete_through: dt.date
    days: int | None = None
    anchor_start: dt.date | None = None
    anchor_end: dt.date | None = None
    analysis_end: dt.date | None = None

    @property
    def timed(self) -> bool:
        return self.days is not None

    def cutoff_for(self, anchor_day: dt.date) -> dt.datetime:
        """Return the cutoff of an entity anchored on ``anchor_day`` (timed)."""
        return midnight(anchor_day + dt.timedelta(days=self.days))

    @property
    def first_cutoff(self) -> dt.datetime:
        return self.cutoff_for(self.anchor_start) if self.timed else midnight(self.analysis_end + ONE_DAY)

    @property
    def last_cutoff(self) -> dt.datetime:
        return self.cutoff_for(self.anchor_end) if self.timed else midnight(self.analysis_end + ONE_DAY)

    @property
    def last_window_end(self) -> dt.datetime:
        """The exclusive end of the latest label window."""
        return self.last_cutoff + dt.timedelta(days=self.window)

    def to_json(self) -> dict:
        """Return the plan as JSON-ready values, derived instants included."""
        data = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(self).items()}
        data["kind"] = "timed" if self.timed else "untimed"
        data["first_cutoff"] = self.first_cutoff.isoformat()
        data["last_cutoff"] = self.last_cutoff.isoformat()
        data["last_window_end"] = self.last_window_end.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> "DatePlan":
        def day(key: str) -> dt.date | None:
            return dt.date.fromisoformat(data[key]) if data.get(key) else None

        return cls(
            window=int(data["window"]),
            complete_through=day("complete_through"),
            days=data.get("days"),
            anchor_start=day("anchor_start"),
            anchor_end=day("anchor_end"),
            analysis_end=day("analysis_end"),
        )


def latest_end(days: int | None, window: int, complete_through: dt.date) -> dt.date:
    """Return the latest ``--end`` (timed) or ``--analysis-end`` (untimed) whose
    label windows all end by midnight after ``complete_through``."""
    if days is None:
        # cutoff = A + 1 day, window end = A + 1 + window <= C + 1
        return complete_through - dt.timedelta(days=window)
    # cutoff = E + days, window end = E + days + window <= C + 1
    return complete_through + ONE_DAY - dt.timedelta(days=days + window)


def make_plan(
    window: int,
    complete_through: dt.date,
    days: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    analysis_end: dt.date | None = None,
) -> DatePlan:
    """Check the dates of ``pipe init`` and return the plan.

    Raises
    ------
    DateRangeError
        When the range is empty or a label window ends after the last
        complete day; the message names the latest date that works.
    """
    if window < 1:
        raise DateRangeError(f"invalid --window {window}: expected a whole number of days, at least 1")
    limit = latest_end(days, window, complete_through)
    if days is not None:
        if days < 1:
            raise DateRangeError(f"invalid --days {days}: expected a whole number of days, at least 1")
        if start > end:
            raise DateRangeError(f"--start {start} is after --end {end}; expected start <= end")
        if end > limit:
            raise DateRangeError(
                f"--end {end} needs data through {end + dt.timedelta(days=days + window - 1)}, "
                f"but the last complete day is {complete_through}; the latest --end that works is {limit}"
            )
        return DatePlan(window=window, complete_through=complete_through, days=days, anchor_start=start, anchor_end=end)
    if analysis_end > limit:
        raise DateRangeError(
            f"--analysis-end {analysis_end} needs data through {analysis_end + dt.timedelta(days=window)}, "
            f"but the last complete day is {complete_through}; the latest --analysis-end that works is {limit}"
        )
    return DatePlan(window=window, complete_through=complete_through, analysis_end=analysis_end)
