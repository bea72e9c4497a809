"""The ``pipe`` command line: thin click commands over one module per stage.

The commands are grouped by the work they do. ``project_commands`` has demo,
init, build and list, ``daily_commands`` has predict, evaluate and audit, and
``cluster_commands`` has sync and schedule. ``common`` has what they share.
"""

from __future__ import annotations

import click

from pipe import __version__
from pipe.cli import cluster_commands, daily_commands, project_commands
from pipe.errors import SpecError


class _OneLineErrors(click.Group):
    """The command group, whose commands' usage errors print one line like every other error.

    click prints a usage block before a bad option value or a missing
    argument, so schedulers' logs would get three lines where pipe promises
    one. The error becomes a SpecError (exit status 2) that names the
    command's --help.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            command = f"pipe {ctx.invoked_subcommand}" if ctx.invoked_subcommand else "pipe"
            raise SpecError(f"{error.format_message()} (see `{command} --help`)") from error


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pipe")
def cli() -> None:
    """Leakage-safe propensity models from a product analytics warehouse.

    pipe init fixes a question and its dates, pipe build makes the model.
    """


for command in (
    project_commands.demo,
    project_commands.init,
    project_commands.build,
    project_commands.list_definitions,
    daily_commands.predict,
    daily_commands.evaluate,
    daily_commands.audit,
    cluster_commands.sync,
    cluster_commands.schedule,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="pipe")
