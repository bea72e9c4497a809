"""HDFS sync through the hdfs package, against a WebHDFS test double on 127.0.0.1."""

import socket

import pytest

from conftest import FAST_MODEL
from webhdfs_double import WebHdfsDouble

INIT = ("--conversion", "site_free:free_to_paid", "--days", "30", "--window", "7",
        "--start", "2025-03-01", "--end", "2025-04-30", *FAST_MODEL)


@pytest.fixture
def webhdfs(tmp_path, monkeypatch):
    double = WebHdfsDouble(tmp_path / "hdfs").start()
    monkeypatch.setenv("PIPE_HDFS_URL", double.url)
    monkeypatch.setenv("PIPE_HDFS_USER", "analyst")
    monkeypatch.delenv("PIPE_HDFS_ROOT", raising=False)
    yield double
    double.stop()


def remote_names(double, project="p"):
    folder = f"/user/analyst/pipe-projects/{project}/"
    return sorted(path[len(folder):] for path in double.files() if path.startswith(folder))


def test_init_and_build_sync_project(run, demo_warehouse, webhdfs, tmp_path):
    result = run("init", "p", "--warehouse", str(demo_warehouse), *INIT)
    assert result.exit_code == 0, result.output
    assert remote_names(webhdfs) == ["info.json"]
    assert "copied 1 files to HDFS" in result.output

    result = run("build", "p", "--until", "labels")
    assert result.exit_code == 0, result.output
    assert remote_names(webhdfs) == ["cohort.parquet", "info.json", "raw.parquet"]
    local = tmp_path / "home" / "p"
    for name in remote_names(webhdfs):
        assert webhdfs.files()[f"/user/analyst/pipe-projects/p/{name}"] == (local / name).read_bytes()
    assert not any(".pipe-upload" in path for path in webhdfs.files())


def test_sync_removes_stale_remote_files(run, demo_warehouse, webhdfs):
    assert run("init", "p", "--warehouse", str(demo_warehouse), *INIT).exit_code == 0
    assert run("build", "p", "--until", "labels").exit_code == 0
    assert "raw.parquet" in remote_names(webhdfs)

    result = run("build", "p", "--until", "cohort")
    assert result.exit_code == 0, result.output
    assert remote_names(webhdfs) == ["cohort.parquet", "info.json"]


def test_sync_command_copies_by_hand(run, demo_warehouse, webhdfs, monkeypatch):
    monkeypatch.delenv("PIPE_HDFS_URL")
    assert run("init", "p", "--warehouse", str(demo_warehouse), *INIT).exit_code == 0
    assert webhdfs.files() == {}

    monkeypatch.setenv("PIPE_HDFS_URL", webhdfs.url)
    monkeypatch.setenv("PIPE_HDFS_ROOT", "/data/models")
    result = run("sync", "p")
    assert result.exit_code == 0, result.output
    assert list(webhdfs.files()) == ["/data/models/p/info.json"]


def test_sync_without_configuration_fails(run, demo_warehouse, monkeypatch):
    monkeypatch.delenv("PIPE_HDFS_URL", raising=False)
    assert run("init", "p", "--warehouse", str(demo_warehouse), *INIT).exit_code == 0
    result = run("sync", "p")
    assert result.exit_code == 2
    assert "PIPE_HDFS_URL" in result.output


def test_sync_to_stopped_namenode_fails(run, demo_warehouse, monkeypatch):
    monkeypatch.delenv("PIPE_HDFS_URL", raising=False)
    assert run("init", "p", "--warehouse", str(demo_warehouse), *INIT).exit_code == 0
    with socket.socket() as probe:  # a port with no server behind it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("PIPE_HDFS_URL", f"http://127.0.0.1:{port}")
    result = run("sync", "p")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert f"127.0.0.1:{port}" in lines[0]
    assert "pipe sync p" in lines[0]
