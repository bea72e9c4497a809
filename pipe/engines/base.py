"""The interface every warehouse engine implements."""

from __future__ import annotations

import abc
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, ClassVar, Sequence

import pandas as pd
import pyarrow as pa

log = logging.getLogger(__name__)

#: Test-only: seconds that ``replace_rows`` sleeps inside its open transaction,
#: after the DELETE and INSERT and before COMMIT, so that a test can kill the
#: process mid-write. Unset in normal use.
PAUSE_BEFORE_COMMIT_ENV = "PIPE_TEST_PAUSE_BEFORE_COMMIT"


@dataclass(frozen=True)
class Replacement:
    """The rows that replace one key's rows of an output table.

    ``key`` maps column names to values, for example ``{"project": "m", "day":
    date(2025, 7, 1)}``; every row of ``table`` that matches all of them is
    deleted, then ``rows`` are inserted. ``create_sql`` creates ``table`` when
    it does not exist (``CREATE TABLE IF NOT EXISTS``).
    """

    table: str
    key: dict[str, Any]
    rows: pa.Table
    create_sql: str


def pause_before_commit() -> None:
    """Sleep for ``PIPE_TEST_PAUSE_BEFORE_COMMIT`` seconds when it is set (tests only)."""
    seconds = os.environ.get(PAUSE_BEFORE_COMMIT_ENV)
    if seconds:
        log.warning("%s is set: sleeping %s s before COMMIT", PAUSE_BEFORE_COMMIT_ENV, seconds)
        time.sleep(float(seconds))


class Engine(abc.ABC):
    """A connection to a warehouse that runs pipe's rendered SQL.

    Templates are rendered for ``dialect``: a template under ``sql/<dialect>/``
    overrides the default at the same path. Bound parameters are written into
    the SQL text by ``placeholder`` and passed beside it, so user input such as
    an event pattern reaches the engine as data, never as SQL text.
    """

    #: Name used in warehouse URLs and for template overrides.
    dialect: ClassVar[str]

    #: The warehouse configuration file the engine was opened from
    #: (``pipe.config.WarehouseConfig``), or None when tables keep pipe's names.
    config: Any = None

    @abc.abstractmethod
    def placeholder(self, name: str) -> str:
        """Return the SQL text that stands for the bound parameter ``name``."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Return the warehouse's settings for ``info.json``, without secrets."""

    @abc.abstractmethod
    def _execute(self, sql: str, params: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def _fetch_arrow(self, sql: str, params: dict[str, Any]) -> pa.Table: ...

    @abc.abstractmethod
    def table_exists(self, name: str) -> bool:
        """Return whether ``name`` is a table or view in the warehouse."""

    @abc.abstractmethod
    def upload(self, name: str, table: pa.Table | pd.DataFrame) -> None:
        """Create (or replace) the session-scoped table ``name`` from local data."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def replace_rows(self, replacements: Sequence[Replacement]) -> None:
        """Apply every replacement in one transaction: create the table if missing, delete the key's rows, insert.

        An implementation must be atomic, so that a failure or a killed
        process leaves every table as it was before the call. Needs a
        connection opened with write access.
        """
        raise NotImplementedError(f"the {self.dialect} engine cannot write output tables yet")

    def execute(self, sql: str, params: dict[str, Any] | None = None, what: str = "") -> None:
        """Run a statement that returns no rows; log ``what`` with its duration."""
        started = time.perf_counter()
        self._execute(sql, params or {})
        if what:
            log.debug("%s took %.2f s", what, time.perf_counter() - started)

    def fetch_arrow(self, sql: str, params: dict[str, Any] | None = None, what: str = "") -> pa.Table:
        """Run a query and return its rows as an Arrow table."""
        started = time.perf_counter()
        result = self._fetch_arrow(sql, params or {})
        if what:
            log.debug("%s: %d rows in %.2f s", what, result.num_rows, time.perf_counter() - started)
        return result

    def fetch_df(self, sql: str, params: dict[str, Any] | None = None, what: str = "") -> pd.DataFrame:
        """Run a query and return its rows as a pandas DataFrame."""
        return self.fetch_arrow(sql, params, what).to_pandas()

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """Run a query and return the first column of its first row, or None."""
        table = self.fetch_arrow(sql, params)
        if table.num_rows == 0:
            return None
        return table.column(0)[0].as_py()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
