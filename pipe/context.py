"""The stages' shared context: the engine, the templates, the spec and the date plan."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from pipe.config import missing_tables, missing_tables_hint, table_sources
from pipe.engines import Engine
from pipe.errors import WarehouseError
from pipe.plan import DatePlan
from pipe.registry import Definition, Registry
from pipe.spec import Spec, parse_spec
from pipe.templates import RenderedSQL, SQLRenderer, sql_search_path

log = logging.getLogger(__name__)


@dataclass
class Context:
    """A project's settings bound to an open warehouse.

    ``executed`` records every statement run, in order, with its template, so
    that ``pipe build --dry-run`` and the tests can see the SQL.
    """

    engine: Engine
    registry: Registry
    renderer: SQLRenderer
    spec: Spec
    plan: DatePlan
    settings: dict[str, Any]
    executed: list[tuple[str, RenderedSQL]] = field(default_factory=list)

    def render(self, template: str, **context: Any) -> RenderedSQL:
        """Render ``template`` with the project's common values and ``context``."""
        values = dict(
            timed=self.plan.timed,
            days=self.plan.days,
            window=self.plan.window,
            key=self.spec.key,
            entity=self.spec.entity,
            status=self.spec.cohort.status,
        )
        values.update(context)
        return self.renderer.render(template, **values)

    def query(self, template: str, what: str, **context: Any) -> pa.Table:
        """Render and run ``template``, returning its rows; logs the time taken."""
        return self.run(template, self.render(template, **context), what)

    def run(self, template: str, sql: RenderedSQL, what: str) -> pa.Table:
        """Run SQL rendered from ``template``, returning its rows; logs the time taken."""
        self.executed.append((template, sql))
        started = time.perf_counter()
        rows = self.engine.fetch_arrow(sql.text, sql.params)
        log.debug("%s: %d rows in %.2f s", what, rows.num_rows, time.perf_counter() - started)
        return rows

    def require_tables(self, definition: Definition) -> None:
        """Raise WarehouseError when the warehouse lacks a table ``definition`` needs."""
        missing = self.missing_tables(definition)
        if missing:
            kind = definition.kind.rstrip("s")
            raise WarehouseError(
                f"{kind} {definition.name!r} needs table(s) {', '.join(missing)}, {missing_tables_hint(self.engine)}"
            )

    def missing_tables(self, definition: Definition) -> list[str]:
        """Return the tables that ``definition`` needs and the warehouse (or its configuration) lacks."""
        return missing_tables(self.engine, definition.requires)


def make_context(engine: Engine, info: dict[str, Any]) -> Context:
    """Bind the settings of ``info.json`` to an open engine."""
    settings = info["settings"]
    folders = sql_search_path(settings.get("sql_path") or [])
    registry = Registry(folders)
    tables = table_sources(engine)
    renderer = SQLRenderer(engine.dialect, engine.placeholder, tables, folders)
    spec = parse_spec(settings["conversion"], registry)
    plan = DatePlan.from_json(info["plan"])
    return Context(engine=engine, registry=registry, renderer=renderer, spec=spec, plan=plan, settings=settings)
