"""Cohorts, conversions and feature families, found as YAML beside SQL templates.

Each definition is ``<kind>/<name>.yml`` in a template folder, with its SQL in
``<kind>/<name>.sql`` unless the YAML names another ``template``. Folders
earlier on the search path win, so a user can add or replace a definition by
dropping files into a folder named by ``PIPE_SQL_PATH``; no Python changes.

YAML keys
---------
cohorts/NAME.yml
    description, entity (``site`` or ``user``), status (``free``, ``paid`` or
    ``any``: the eligibility rule), requires (tables), optional template and
    vars (values passed to the template). The SQL returns one row per candidate
    entity with ``entity_id``, ``created_at``, ``anchor_at``, ``lang`` and
    ``country``.
conversions/NAME.yml
    description, applies_to (statuses), requires, optional argument (a name
    such as ``pattern``: the spec is then ``NAME_VALUE`` and the value is bound
    as a parameter). The SQL reads ``pipe_eligible`` and returns
    ``entity_id, label`` with label 0 or 1.
features/NAME.yml
    description, applies_to, requires. The SQL reads ``pipe_eligible`` and
    returns long rows ``entity_id, feature, value``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipe.errors import SpecError

STATUSES = ("free", "paid", "any")
ENTITIES = ("site", "user")
KNOWN_TABLES = ("sites", "users", "subscriptions", "events", "traffic")
KINDS = ("cohorts", "conversions", "features")


@dataclass(frozen=True)
class Definition:
    """One cohort, conversion or feature family."""

    kind: str
    name: str
    description: str
    template: str
    requires: tuple[str, ...]
    source: Path
    entity: str | None = None
    status: str | None = None
    applies_to: tuple[str, ...] = ()
    argument: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)

    def applies(self, status: str) -> bool:
        return status in self.applies_to


def _invalid(path: Path, message: str) -> SpecError:
    return SpecError(f"invalid definition {path}: {message}")


def _parse(kind: str, path: Path) -> Definition:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise _invalid(path, f"not valid YAML ({error})") from error
    if not isinstance(raw, dict):
        raise _invalid(path, "expected a mapping of keys")
    name = path.stem
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise _invalid(path, "missing 'description' (one line of text)")
    requires = tuple(raw.get("requires") or ())
    unknown = [t for t in requires if t not in KNOWN_TABLES]
    if unknown:
        raise _invalid(path, f"unknown table(s) in 'requires': {', '.join(map(str, unknown))}; expected some of {', '.join(KNOWN_TABLES)}")
    template = raw.get("template") or f"{kind}/{name}.sql"
    common = dict(kind=kind, name=name, description=description.strip(), template=template, requires=requires, source=path)

    if kind == "cohorts":
        entity, status = raw.get("entity"), raw.get("status")
        if entity not in ENTITIES:
            raise _invalid(path, f"'entity' is {entity!r}; expected one of {', '.join(ENTITIES)}")
        if status not in STATUSES:
            raise _invalid(path, f"'status' is {status!r}; expected one of {', '.join(STATUSES)}")
        return Definition(entity=entity, status=status, vars=dict(raw.get("vars") or {}), **common)

    applies_to = tuple(raw.get("applies_to") or ())
    bad = [s for s in applies_to if s not in STATUSES] or ([] if applies_to else ["(empty)"])
    if bad:
        raise _invalid(path, f"'applies_to' has {', '.join(map(str, bad))}; expected a list of {', '.join(STATUSES)}")
    argument = raw.get("argument") if kind == "conversions" else None
    if argument is not None and not (isinstance(argument, str) and argument.isidentifier()):
        raise _invalid(path, f"'argument' is {argument!r}; expected a parameter name such as pattern")
    return Definition(applies_to=applies_to, argument=argument, **common)


class Registry:
    """Every definition found on a template search path, by kind and name."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders
        self.definitions: dict[str, dict[str, Definition]] = {kind: {} for kind in KINDS}
        for folder in reversed(folders):
            for kind in KINDS:
                for path in sorted((folder / kind).glob("*.yml")):
                    self.definitions[kind][path.stem] = _parse(kind, path)

    def names(self, kind: str) -> list[str]:
        return sorted(self.definitions[kind])

    def get(self, kind: str, name: str) -> Definition | None:
        return self.definitions[kind].get(name)

    def families_for(self, status: str) -> list[Definition]:
        """Return the feature families that apply to a cohort status, by name."""
        return [d for _, d in sorted(self.definitions["features"].items()) if d.applies(status)]
