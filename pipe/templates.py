"""SQL templates: lookup with engine overrides, rendering with bound parameters.

Templates are Jinja files under ``sql/``. For a template ``labels/x.sql`` and
the engine ``impala``, the loader tries ``impala/labels/x.sql`` before
``labels/x.sql`` in each folder of the search path: first the folders named by
``PIPE_SQL_PATH`` (separated by ``os.pathsep``) and by configuration, then the
templates shipped with pipe. The constructs that differ between dialects (date
arithmetic, regular expressions, hashing) are macros in ``macros/dialect.sql``
with one override per engine.
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


class _OverrideLoader(jinja2.BaseLoader):
    def __init__(self, folders: list[Path], dialect: str) -> None:
        self.folders = folders
        self.dialect = dialect

    def candidates(self, name: str) -> list[Path]:
        paths = []
        for folder in self.folders:
            paths.append(folder / self.dialect / name)
            paths.append(folder / name)
        return paths

    def get_source(self, environment: jinja2.Environment, template: str):
        for path in self.candidates(template):
            if path.is_file():
                source = path.read_text(encoding="utf-8")
                mtime = path.stat().st_mtime
                return source, str(path), lambda: path.stat().st_mtime == mtime
        tried = ", ".join(str(p) for p in self.candidates(template))
        raise TemplateMissing(f"SQL template {template!r} not found; tried: {tried}")


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
