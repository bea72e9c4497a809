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


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory):
    """A 2,000-site demo warehouse (seed 3), shared by the whole session; treat it as read-only."""
    from pipe.demo import write_demo_warehouse

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    write_demo_warehouse(path, n_sites=2000, seed=3)
    return path


#: init options that keep a test build fast: no tuning, two folds.
FAST_MODEL = ("--trials", "0", "--folds", "2")
