"""``pipe audit``: check a project's feature families for leakage.

A feature leaks when its value depends on a row dated at or after the
entity's cutoff. The audit copies the warehouse's tables into a scratch DuckDB
file in a temporary folder and builds every feature family that the project's
cohort runs. Then it adds and changes rows dated at or after each eligible
entity's cutoff and builds the families again. Any feature whose value moves
for any entity is reported with its family. The user's warehouse is attached
read-only and never written.

The rows changed for each eligible entity, whose cutoff is C:

- events: its own event names from before C, the 10 most common names and
  the new name ``pipe_audit_new_event``, at C, C + 1 microsecond, C + 1 hour,
  C + 25 hours, C + 8 days and C + 45 days;
- traffic of its sites: views and visitors changed on every day from C's
  date on, and new rows for the 15 days from C's date where there were none;
- subscriptions: plans starting at or after C start (and end) a day later,
  plans active at C end at another instant at or after C, and three new plans
  start at or after C: the most common paid product, a new paid product and a
  free plan;
- sites: its owner gets a new site created at C + 1 hour.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd

from pipe.cohort import build_population
from pipe.context import Context, make_context
from pipe.eligibility import apply_eligibility
from pipe.engines.duckdb import DuckDBEngine
from pipe.errors import DataError, PipeError, WarehouseError
from pipe.features import FeatureMatrix, family_matrices
from pipe.labels import upload_eligible

#: Two values are equal when they differ by at most this share of |a| + |b|,
#: because an engine may add floating-point values in another order on each run.
RELATIVE_TOLERANCE = 1e-5

NEW_EVENT = "pipe_audit_new_event"
NEW_PAID_PRODUCT = "pipe_audit_paid_product"
NEW_FREE_PRODUCT = "pipe_audit_free_product"
EVENT_OFFSETS = ("INTERVAL 0 MICROSECOND", "INTERVAL 1 MICROSECOND", "INTERVAL 1 HOUR", "INTERVAL 25 HOUR", "INTERVAL 8 DAY", "INTERVAL 45 DAY")
COMMON_EVENT_NAMES = 10
TRAFFIC_NEW_DAYS = 15


class LeakageError(PipeError):
    """A feature's value changed when only rows at or after the cutoff changed."""


@dataclass
class FamilyAudit:
    """The outcome for one feature family.

    ``changed`` lists (feature, entities whose value changed), by feature name.
    """

    family: str
    status: str
    features: int = 0
    changed: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class AuditResult:
    """The outcome of one audit: entities compared and one entry per family."""

    entities: int
    families: list[FamilyAudit]

    @property
    def features(self) -> int:
        return sum(f.features for f in self.families)

    @property
    def leaky(self) -> list[FamilyAudit]:
        return [f for f in self.families if f.changed]


def warehouse_file(url: str) -> Path:
    """Return the DuckDB file of a warehouse URL; raise WarehouseError for other engines."""
    scheme, separator, rest = url.partition("://")
    if separator and scheme != "duckdb":
        # NOTE: only DuckDB warehouses can be copied for now; another engine
        # would need its tables exported into the scratch database.
        raise WarehouseError(f"pipe audit reads DuckDB warehouses only, not {scheme!r} ({url}); audit a DuckDB copy of the warehouse")
    path = Path(rest if separator else url).expanduser().resolve()
    if path.suffix.lower() in (".yml", ".yaml"):
        raise WarehouseError(f"pipe audit reads DuckDB files only, not the warehouse configuration {path}; audit a DuckDB copy of the warehouse")
    if not path.is_file():
        raise WarehouseError(f"warehouse file not found: {path}; pass --warehouse with the project's DuckDB file")
    return path


def copy_tables(scratch: DuckDBEngine, source: Path, tables: list[str]) -> list[str]:
    """Copy each of ``tables`` that ``source`` has into ``scratch``; return the names copied.

    ``source`` is attached read-only and detached again.
    """
    quoted_path = str(source).replace("'", "''")
    try:
        scratch.execute(f"ATTACH '{quoted_path}' AS pipe_audit_source (READ_ONLY)")
    except duckdb.Error as error:
        raise WarehouseError(f"cannot open {source} as a DuckDB warehouse: {error}") from error
    try:
        present = set(scratch.fetch_arrow(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'pipe_audit_source'"
        ).column("table_name").to_pylist())
        copied = [t for t in tables if t in present]
        for table in copied:
            scratch.execute(f'CREATE TABLE "{table}" AS SELECT * FROM pipe_audit_source.main."{table}"', what=f"copy {table}")
    finally:
        scratch.execute("DETACH pipe_audit_source")
    return copied


def eligible_entities(ctx: Context) -> pd.DataFrame:
    """Return the project's eligible entities as the build selects them, sample included."""
    population = build_population(ctx)
    if population.empty:
        raise DataError(f"the cohort {ctx.spec.cohort.name} is empty, so there is nothing to audit; check the project's dates")
    eligible, _ = apply_eligibility(ctx, population)
    if eligible.empty:
        raise DataError(f"no entity of the {len(population)} in the cohort {ctx.spec.cohort.name} is eligible, so there is nothing to audit")
    if ctx.settings.get("sample"):
        # Imported here because pipe.build loads the training libraries.
        from pipe.build import sample_entities

        eligible = sample_entities(eligible, int(ctx.settings["sample"]), int(ctx.settings.get("seed", 0)))
    return eligible


def _count(engine: DuckDBEngine, sql: str, params: dict | None = None) -> int:
    """Run an INSERT or UPDATE and return the number of rows it inserted or updated."""
    row = engine.connection.execute(sql, params or {}).fetchone()
    return int(row[0]) if row else 0


def alter_after_cutoff(ctx: Context, copied: list[str]) -> dict[str, int]:
    """Add and change rows dated at or after each entity's cutoff in the scratch copy.

    Reads the entities and cutoffs from ``pipe_eligible``. Returns the number
    of rows added or changed per table.
    """
    engine = ctx.engine
    tables = ctx.renderer.tables
    key = ctx.spec.key
    sites = tables["sites"]
    # The user who owns each entity: the site's owner, or the user itself.
    if ctx.spec.entity == "site":
        owners = f"SELECT e.entity_id, e.cutoff_at, s.user_id FROM pipe_eligible e LEFT JOIN {sites} s ON s.site_id = e.entity_id"
        site_column, user_column = "o.entity_id", "o.user_id"
    else:
        owners = "SELECT e.entity_id, e.cutoff_at, e.entity_id AS user_id FROM pipe_eligible e"
        site_column, user_column = "NULL", "o.entity_id"
    engine.execute(f"CREATE OR REPLACE TEMP TABLE pipe_audit_owners AS {owners}")
    counts: dict[str, int] = {}

    if tables["events"] in copied:
        events = tables["events"]
        offsets = " UNION ALL ".join(f"SELECT {offset} AS shift" for offset in EVENT_OFFSETS)
        counts["events added"] = _count(engine, f"""
            INSERT INTO {events} (site_id, user_id, event, ts)
            WITH own AS (
                SELECT DISTINCT e.entity_id, ev.event
                FROM pipe_eligible e
                JOIN {events} ev ON ev.{key} = e.entity_id AND ev.ts < e.cutoff_at
            ),
            common AS (
                SELECT event FROM (SELECT event, COUNT(*) AS n FROM {events} GROUP BY event ORDER BY n DESC, event LIMIT {COMMON_EVENT_NAMES})
                UNION ALL
                SELECT '{NEW_EVENT}'
            ),
            names AS (
                SELECT entity_id, event FROM own
                UNION
                SELECT e.entity_id, c.event FROM pipe_eligible e CROSS JOIN common c
            )
            SELECT {site_column}, {user_column}, n.event, o.cutoff_at + s.shift
            FROM names n
            JOIN pipe_audit_owners o ON o.entity_id = n.entity_id
            CROSS JOIN ({offsets}) s
        """)

    if tables["traffic"] in copied:
        traffic = tables["traffic"]
        if ctx.spec.entity == "site":
            audited_sites = "SELECT entity_id AS site_id, CAST(cutoff_at AS DATE) AS cutoff_day FROM pipe_eligible"
        else:
            audited_sites = f"SELECT s.site_id, CAST(e.cutoff_at AS DATE) AS cutoff_day FROM pipe_eligible e JOIN {sites} s ON s.user_id = e.entity_id"
        engine.execute(f"CREATE OR REPLACE TEMP TABLE pipe_audit_sites AS {audited_sites}")
        counts["traffic rows changed"] = _count(engine, f"""
            UPDATE {traffic} t
            SET views = t.views * 3 + 7, visitors = t.visitors * 2 + 5
            FROM pipe_audit_sites a
            WHERE t.site_id = a.site_id AND t.day >= a.cutoff_day
        """)
        counts["traffic rows added"] = _count(engine, f"""
            INSERT INTO {traffic} (site_id, day, views, visitors)
            SELECT a.site_id, a.cutoff_day + CAST(r.k AS INTEGER), 1000 + r.k, 100 + r.k
            FROM pipe_audit_sites a
            CROSS JOIN range(0, {TRAFFIC_NEW_DAYS}) r(k)
            WHERE NOT EXISTS (
                SELECT 1 FROM {traffic} t WHERE t.site_id = a.site_id AND t.day = a.cutoff_day + CAST(r.k AS INTEGER)
            )
        """)

    if tables["subscriptions"] in copied:
        subscriptions = tables["subscriptions"]
        # Later plans first, so that the plans added below keep their start.
        counts["later subscriptions moved"] = _count(engine, f"""
            UPDATE {subscriptions} s
            SET started_at = s.started_at + INTERVAL 1 DAY, ended_at = s.ended_at + INTERVAL 1 DAY
            FROM pipe_eligible e
            WHERE s.{key} = e.entity_id AND s.started_at >= e.cutoff_at
        """)
        counts["active subscriptions ended elsewhere"] = _count(engine, f"""
            UPDATE {subscriptions} s
            SET ended_at = CASE WHEN s.ended_at IS NULL OR s.ended_at = e.cutoff_at THEN e.cutoff_at + INTERVAL 3 DAY ELSE e.cutoff_at END
            FROM pipe_eligible e
            WHERE s.{key} = e.entity_id AND s.started_at < e.cutoff_at AND (s.ended_at IS NULL OR s.ended_at >= e.cutoff_at)
        """)
        common_paid = engine.scalar(f"SELECT product FROM {subscriptions} WHERE is_paid GROUP BY product ORDER BY COUNT(*) DESC, product LIMIT 1")
        counts["subscriptions added"] = _count(engine, f"""
            INSERT INTO {subscriptions} (site_id, user_id, product, is_paid, started_at, ended_at)
            SELECT {site_column}, {user_column}, p.product, p.is_paid, o.cutoff_at + p.start_shift, o.cutoff_at + p.end_shift
            FROM pipe_audit_owners o
            CROSS JOIN (
                SELECT $common_paid AS product, TRUE AS is_paid, INTERVAL 0 DAY AS start_shift, CAST(NULL AS INTERVAL) AS end_shift
                UNION ALL SELECT '{NEW_PAID_PRODUCT}', TRUE, INTERVAL 1 DAY, INTERVAL 10 DAY
                UNION ALL SELECT '{NEW_FREE_PRODUCT}', FALSE, INTERVAL 0 DAY, NULL
            ) p
        """, {"common_paid": common_paid or NEW_PAID_PRODUCT})

    if sites in copied:
        counts["sites added"] = _count(engine, f"""
            INSERT INTO {sites} (site_id, user_id, created_at, lang, country)
            SELECT m.top + ROW_NUMBER() OVER (ORDER BY o.entity_id), o.user_id, o.cutoff_at + INTERVAL 1 HOUR, 'en', 'US'
            FROM pipe_audit_owners o
            CROSS JOIN (SELECT COALESCE(MAX(site_id), 0) AS top FROM {sites}) m
            WHERE o.user_id IS NOT NULL
        """)
    return counts


def changed_features(before: FeatureMatrix, after: FeatureMatrix) -> tuple[int, list[tuple[str, int]]]:
    """Compare two matrices of the same entities.

    Returns the number of features compared (the union of both sets of
    names) and (feature, entities whose value differs) for each feature that
    differs, by name. A feature that only one matrix has differs wherever it
    is non-zero.
    """
    names = sorted(set(before.feature_names) | set(after.feature_names))
    a = before.align(names).X
    b = after.align(names).X
    difference = abs(a - b).tocsr()
    scale = (abs(a) + abs(b)).tocsr()
    # Both are non-zero wherever the difference is, so the ratio is defined.
    relative = difference.multiply(scale.power(-1)).tocoo()
    columns = relative.col[relative.data > RELATIVE_TOLERANCE]
    entities = np.bincount(columns, minlength=len(names))
    return len(names), [(names[i], int(entities[i])) for i in np.flatnonzero(entities)]


def audit_project(info: dict, warehouse_url: str, echo: Callable[[str], None] = print) -> AuditResult:
    """Build the project's features before and after changing rows at or after each cutoff.

    ``echo`` receives one progress line per step. Raises WarehouseError when
    the warehouse is not a DuckDB file and DataError when no entity is
    eligible.
    """
    source = warehouse_file(warehouse_url)
    with tempfile.TemporaryDirectory(prefix="pipe-audit-") as folder:
        scratch = DuckDBEngine(str(Path(folder) / "scratch.duckdb"), create=True)
        try:
            return _audit_in(scratch, source, info, echo)
        finally:
            scratch.close()


def _audit_in(scratch: DuckDBEngine, source: Path, info: dict, echo: Callable[[str], None]) -> AuditResult:
    ctx = make_context(scratch, info)
    started = time.perf_counter()
    copied = copy_tables(scratch, source, sorted(set(ctx.renderer.tables.values())))
    echo(f"copied tables {', '.join(copied)} of {source} into a scratch database ({time.perf_counter() - started:.1f} s)")

    eligible = eligible_entities(ctx)
    entity_ids = np.sort(eligible["entity_id"].to_numpy(dtype=np.int64))
    upload_eligible(ctx, eligible)

    started = time.perf_counter()
    before = {family.name: (block, entry) for family, block, entry in family_matrices(ctx, entity_ids)}
    echo(f"built the features of {len(entity_ids)} eligible entities on the copy ({time.perf_counter() - started:.1f} s)")

    started = time.perf_counter()
    counts = alter_after_cutoff(ctx, copied)
    changes = ", ".join(f"{what} {n}" for what, n in counts.items())
    echo(f"changed rows at or after each cutoff: {changes} ({time.perf_counter() - started:.1f} s)")

    started = time.perf_counter()
    families = []
    for family, block, entry in family_matrices(ctx, entity_ids):
        original, _ = before[family.name]
        if block is None or original is None:
            families.append(FamilyAudit(family.name, entry["status"]))
            continue
        compared, changed = changed_features(original, block)
        families.append(FamilyAudit(family.name, "compared", compared, changed))
    echo(f"built the features again on the changed copy ({time.perf_counter() - started:.1f} s)")
    return AuditResult(entities=len(entity_ids), families=families)


def report(result: AuditResult, echo: Callable[[str], None] = print) -> None:
    """Print one line per changed feature, then raise LeakageError; or print one line that the audit passed."""
    for family in result.families:
        for feature, entities in family.changed:
            echo(f"leak: family {family.family}, feature {feature}: changed for {entities} of {result.entities} entities")
    leaky = result.leaky
    if leaky:
        named = ", ".join(f"{f.family} ({len(f.changed)} of {f.features} features)" for f in leaky)
        raise LeakageError(
            f"features changed when only rows dated at or after the cutoff changed, in families {named}; "
            "fix each family's template so that it reads only rows before cutoff_at"
        )
    compared = ", ".join(f"{f.family} {f.features}" if f.status == "compared" else f"{f.family} {f.status}" for f in result.families)
    echo(f"audit passed: {result.features} features compared for {result.entities} entities, none changed by rows at or after the cutoff ({compared})")
