"""Copy a DuckDB warehouse into Spark: Parquet files and tables over them."""

from __future__ import annotations

from pathlib import Path

import duckdb


def export_parquet(warehouse: Path, folder: Path) -> dict[str, Path]:
    """Write each table of the DuckDB file ``warehouse`` to ``folder/TABLE/data.parquet``.

    TIMESTAMP columns are written as UTC instants (Parquet's isAdjustedToUTC),
    which Spark reads as its TIMESTAMP type; DuckDB's zone-less TIMESTAMP
    would read as TIMESTAMP_NTZ.
    """
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        connection.execute("SET TimeZone = 'UTC'")
        tables = [row[0] for row in connection.execute("SHOW TABLES").fetchall()]
        written = {}
        for table in tables:
            columns = connection.execute(f'DESCRIBE "{table}"').fetchall()
            selected = ", ".join(
                f'CAST("{name}" AS TIMESTAMPTZ) AS "{name}"' if kind == "TIMESTAMP" else f'"{name}"'
                for name, kind, *_ in columns
            )
            target = folder / table
            target.mkdir(parents=True, exist_ok=True)
            connection.execute(f"COPY (SELECT {selected} FROM \"{table}\") TO '{target / 'data.parquet'}' (FORMAT parquet)")
            written[table] = target
        return written
    finally:
        connection.close()


def create_table_statements(database: str, folders: dict[str, Path]) -> list[str]:
    """Return the Spark SQL that creates ``database`` with one table over each folder of Parquet files."""
    statements = [f"CREATE DATABASE IF NOT EXISTS {database}"]
    for table, folder in folders.items():
        statements.append(f"CREATE TABLE IF NOT EXISTS {database}.{table} USING parquet LOCATION '{folder}'")
    return statements


class ThriftServer:
    """Spark's Thrift server (HiveServer2) from the pyspark package, on 127.0.0.1.

    ``start`` launches ``spark-submit --class ...HiveThriftServer2`` with
    ``--master local[2]``, a warehouse folder and a Derby metastore under
    ``folder``, and waits until the port accepts connections. ``stop`` ends
    the process group it started.
    """

    def __init__(self, folder: Path, port: int) -> None:
        self.folder = Path(folder)
        self.port = port
        self.process = None
        self.startup_seconds = None

    def command(self) -> list[str]:
        import pyspark

        spark_home = Path(pyspark.__file__).parent
        derby = self.folder / "derby"
        return [
            str(spark_home / "bin" / "spark-submit"),
            "--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
            "--master", "local[2]",
            "--name", "pipe-test-thrift-server",
            "--driver-memory", "1g",
            "--conf", f"spark.sql.warehouse.dir={self.folder / 'warehouse'}",
            "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={derby}",
            "--conf", f"spark.hadoop.javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName={derby / 'metastore_db'};create=true",
            "--conf", "spark.driver.host=127.0.0.1",
            "--conf", "spark.driver.bindAddress=127.0.0.1",
            "--conf", "spark.ui.enabled=false",
            "--conf", "spark.sql.session.timeZone=UTC",
            "--hiveconf", f"hive.server2.thrift.port={self.port}",
            "--hiveconf", "hive.server2.thrift.bind.host=127.0.0.1",
            "--hiveconf", "hive.server2.authentication=NOSASL",
            "spark-internal",
        ]

    def start(self, timeout: float) -> "ThriftServer":
        import os
        import socket
        import subprocess
        import time

        import pyspark

        self.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "SPARK_HOME": str(Path(pyspark.__file__).parent), "SPARK_LOCAL_IP": "127.0.0.1"}
        started = time.monotonic()
        with open(self.folder / "server.log", "wb") as log:
            self.process = subprocess.Popen(self.command(), cwd=self.folder, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Thrift server exited with status {self.process.returncode}; see {self.folder / 'server.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    self.startup_seconds = time.monotonic() - started
                    return self
            except OSError:
                time.sleep(1)
        self.stop()
        raise RuntimeError(f"the Thrift server did not open port {self.port} within {timeout:.0f} s; see {self.folder / 'server.log'}")

    def stop(self) -> None:
        import os
        import signal
        import subprocess

        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def project_files(folder: Path) -> dict[str, bytes]:
    """Return every file of a project folder by its relative path."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(Path(folder).rglob("*")) if path.is_file()}
