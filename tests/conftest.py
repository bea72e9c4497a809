import logging

import pytest
from click.testing import CliRunner

from pipe.cli import cli


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def run(runner, tmp_path):
    """Invoke ``pipe`` with --home under tmp_path; returns the click Result."""

    def invoke(*args: str, home=None):
        result = runner.invoke(cli, [*args, "--home", str(home or tmp_path / "home")], catch_exceptions=False)
        return result

    return invoke


@pytest.fixture(autouse=True)
def _reset_pipe_logging():
    yield
    logging.getLogger("pipe").handlers[:] = []
