"""User errors: each prints one line and exits with status 2.

Stages raise these for problems a user can fix (a bad spec, an impossible
date range, an empty cohort, a tampered artifact). Bugs stay ordinary Python
exceptions so that they keep their traceback.
"""

import click


class PipeError(click.ClickException):
    """A problem with the user's input or data; the CLI prints it on one line."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


class SpecError(PipeError):
    """An invalid cohort, conversion or option value."""


class DateRangeError(PipeError):
    """A date range that is impossible or not covered by complete data."""


class WarehouseError(PipeError):
    """A warehouse that cannot be opened or lacks a required table."""


class ProjectError(PipeError):
    """A missing, existing or tampered project or artifact."""


class DataError(PipeError):
    """Data that cannot train a model: an empty cohort, one class only."""
