"""Parsing and checking the ``COHORT:CONVERSION`` spec of a project."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from pipe.errors import SpecError
from pipe.registry import Definition, Registry


@dataclass(frozen=True)
class Spec:
    """A parsed spec: the cohort, the conversion and the conversion's argument."""

    text: str
    cohort: Definition
    conversion: Definition
    argument: str | None

    @property
    def entity(self) -> str:
        return self.cohort.entity

    @property
    def key(self) -> str:
        """The column that contains the entity's id in warehouse tables."""
        return f"{self.cohort.entity}_id"


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"expected one of: {', '.join(choices)}{hint}"


def _find_conversion(name: str, registry: Registry) -> tuple[Definition, str | None]:
    exact = registry.get("conversions", name)
    if exact is not None and exact.argument is None:
        return exact, None
    for candidate in registry.names("conversions"):
        definition = registry.get("conversions", candidate)
        prefix = f"{candidate}_"
        if definition.argument and name.startswith(prefix):
            value = name[len(prefix):]
            if not value:
                raise SpecError(f"conversion {name!r} has an empty {definition.argument}; write {candidate}_{definition.argument.upper()}, for example {candidate}_post_publish")
            return definition, value
    shown = [c if registry.get("conversions", c).argument is None else f"{c}_{registry.get('conversions', c).argument.upper()}" for c in registry.names("conversions")]
    raise SpecError(f"unknown conversion {name!r}; {_suggest(name, shown)}")


def parse_spec(text: str, registry: Registry) -> Spec:
    """Parse ``COHORT:CONVERSION`` and check that the two go together.

    Raises
    ------
    SpecError
        For a malformed spec, an unknown cohort or conversion, or a conversion
        that does not apply to the cohort's status; the message names the
        value and what is accepted.
    """
    cohort_name, colon, conversion_name = text.partition(":")
    if not colon or not cohort_name or not conversion_name:
        raise SpecError(f"invalid --conversion {text!r}: expected COHORT:CONVERSION, for example site_free:free_to_paid")

    cohort = registry.get("cohorts", cohort_name)
    if cohort is None:
        raise SpecError(f"unknown cohort {cohort_name!r}; {_suggest(cohort_name, registry.names('cohorts'))}")
    conversion, argument = _find_conversion(conversion_name, registry)

    if not conversion.applies(cohort.status):
        allowed = [c for c in registry.names("cohorts") if conversion.applies(registry.get("cohorts", c).status)]
        raise SpecError(
            f"conversion {conversion.name!r} does not apply to the {cohort.status} cohort {cohort_name!r}; "
            f"it applies to {', '.join(conversion.applies_to)} cohorts: {', '.join(allowed)}"
        )
    return Spec(text=text, cohort=cohort, conversion=conversion, argument=argument)
