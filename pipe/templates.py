"""SQL templates: lookup with engine overrides, rendering with bound parameters.

Templates are Jinja files under ``sql/``. A template is looked up at three
levels in each folder of the search path, most specific first: the engine's
own folder (``impala/labels/x.sql``), its family's folder (``hive/`` for
Impala and Spark, which share HiveQL's DDL and functions), and the folder's
top level (``labels/x.sql``). The folders are those named by
``PIPE_SQL_PATH`` (separated by ``os.pathsep``) and by configuration, then
the templates shipped with pipe.

A template is taken whole from the first place that has it. Macro files
under ``macros/`` are the exception: every place that has one contributes,
and a macro defined at a more specific level replaces the one of the same
name below it. So ``macros/dialect.sql`` contains the DuckDB version of each
construct that differs between dialects (date arithmetic, regular
expressions, DDL), and ``impala/macros/dialect.sql`` only what Impala does
differently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import jinja2

from pipe.errors import PipeError

PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_sql_dir() -> Path:
    """Return the folder of templates shipped with pipe.

    A wheel carries them as ``pipe/sql``; an editable install reads them from
    the repository's top-level ``sql/``.
    """
    for candidate in (PACKAGE_DIR / "sql", PACKAGE_DIR.parent / "sql"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"pipe's SQL templates are missing: neither {PACKAGE_DIR / 'sql'} nor {PACKAGE_DIR.parent / 'sql'} exists")


def sql_search_path(extra: Iterable[str | Path] = ()) -> list[Path]:
    """Return the template folders in lookup order: user folders first, shipped last."""
    folders = [Path(p) for p in extra]
    env_path = os.environ.get("PIPE_SQL_PATH", "")
    folders += [Path(p) for p in env_path.split(os.pathsep) if p]
    folders.append(shipped_sql_dir())
    return folders


class TemplateMissing(PipeError):
    """No folder of the search path has the template."""


#: The family of each dialect: a folder of templates shared by its members.
DIALECT_FAMILIES = {"impala": "hive", "spark": "hive"}
MACRO_FOLDER = "macros/"


class _OverrideLoader(jinja2.BaseLoader):
    def __init__(self, folders: list[Path], dialect: str) -> None:
        self.folders = folders
        self.levels = [dialect] + ([DIALECT_FAMILIES[dialect]] if dialect in DIALECT_FAMILIES else [])

    def candidates(self, name: str) -> list[Path]:
        """Return the places of template ``name``, most specific first."""
        paths = []
        for folder in self.folders:
            paths.extend(folder / level / name for level in self.levels)
            paths.append(folder / name)
        return paths

    def get_source(self, environment: jinja2.Environment, template: str):
        found = [path for path in self.candidates(template) if path.is_file()]
        if not found:
            tried = ", ".join(str(p) for p in self.candidates(template))
            raise TemplateMissing(f"SQL template {template!r} not found; tried: {tried}")
        if not template.startswith(MACRO_FOLDER):
            found = found[:1]
        # Least specific first, so that a later definition of a macro replaces an earlier one.
        layers = list(reversed(found))
        mtimes = [path.stat().st_mtime for path in layers]
        source = "\n".join(path.read_text(encoding="utf-8") for path in layers)

        def unchanged() -> bool:
            return [path.stat().st_mtime if path.is_file() else None for path in layers] == mtimes

        return source, str(layers[-1]), unchanged


@dataclass
class RenderedSQL:
    """SQL text for one engine and the values of its bound parameters."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)


class SQLRenderer:
    """Render templates for one engine, with the warehouse's table names.

    Parameters
    ----------
    dialect : str
        The engine's dialect, for overrides and placeholders.
    placeholder : callable
        Maps a parameter name to the SQL text that binds it.
    tables : dict
        Maps each logical table (``events``) to the warehouse's name for it.
    folders : list of Path
        Template folders in lookup order.
    """

    def __init__(self, dialect: str, placeholder, tables: dict[str, str], folders: list[Path]) -> None:
        self.dialect = dialect
        self.placeholder = placeholder
        self.tables = tables
        self.environment = jinja2.Environment(
            loader=_OverrideLoader(folders, dialect),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, template: str, **context: Any) -> RenderedSQL:
        """Render ``template``; ``param(name, value)`` inside it binds a value."""
        params: dict[str, Any] = {}

        def param(name: str, value: Any) -> str:
            if name in params and params[name] != value:
                raise ValueError(f"parameter {name!r} bound twice with different values")
            params[name] = value
            return self.placeholder(name)

        def table(name: str) -> str:
            return self.tables[name]

        text = self.environment.get_template(template).render(param=param, table=table, dialect=self.dialect, **context)
        return RenderedSQL(text=text.strip() + "\n", params=params)
