"""Time ``pipe predict`` for one day of a large untimed project and report its peak memory.

The script writes a demo warehouse of ``--sites`` sites (unless the file
exists), creates an untimed ``site_any`` project trained on a sample of
``--sample`` sites, and then runs ``pipe predict --date DATE`` in a child
process. It prints the wall time and the child's peak resident memory
(``ru_maxrss`` from ``os.wait4``). The default date, 2026-01-01, is the
latest day that the demo's data (through 2025-12-31) complete, and its cohort
is every site of the demo.

    python bench/predict.py --workdir /tmp/pipe-bench --sites 1000000

Everything is written under ``--workdir``; delete it afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

PROJECT = "bench_any"


def pipe_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipe", *args]


def run_measured(command: list[str], log_path: Path) -> tuple[float, float]:
    """Run ``command`` with its output in ``log_path``; return its wall time (s) and peak resident memory (MiB).

    The peak is the child's own ``ru_maxrss`` from ``os.wait4``, which Linux
    reports in KiB.
    """
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code != 0:
        sys.exit(f"{' '.join(command)} failed with exit code {exit_code}; see {log_path}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/pipe-bench"), help="Folder for the warehouse, projects and logs.")
    parser.add_argument("--sites", type=int, default=1_000_000, help="Sites in the demo warehouse.")
    parser.add_argument("--sample", type=int, default=20_000, help="Sites the model is trained on.")
    parser.add_argument("--date", default="2026-01-01", help="The day to predict (YYYY-MM-DD).")
    parser.add_argument("--conversion", default="site_any:event_like_^post_publish$", help="The project's COHORT:CONVERSION.")
    arguments = parser.parse_args()

    workdir = arguments.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    warehouse = workdir / f"demo_{arguments.sites}.duckdb"
    home = workdir / "home"

    if not warehouse.exists():
        seconds, _ = run_measured(pipe_command("demo", "--sites", str(arguments.sites), "--out", str(warehouse)), workdir / "demo.log")
        print(f"demo warehouse of {arguments.sites:,} sites written in {seconds:.0f} s")

    if not (home / PROJECT / "model.joblib").exists():
        shutil.rmtree(home / PROJECT, ignore_errors=True)
        run_measured(pipe_command("init", PROJECT, "--home", str(home), "--warehouse", str(warehouse),
                               "--conversion", arguments.conversion, "--analysis-end", "2025-06-30", "--window", "7",
                               "--sample", str(arguments.sample), "--trials", "0"), workdir / "init.log")
        seconds, _ = run_measured(pipe_command("build", PROJECT, "--home", str(home)), workdir / "build.log")
        print(f"project built on a sample of {arguments.sample:,} sites in {seconds:.0f} s")

    seconds, peak_mib = run_measured(pipe_command("predict", PROJECT, "--home", str(home), "--date", arguments.date),
                                     workdir / "predict.log")

    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.execute("SELECT count(*) FROM pipe_predictions WHERE project = ? AND day = ?",
                                  [PROJECT, arguments.date]).fetchone()[0]
    finally:
        connection.close()
    print(f"pipe predict --date {arguments.date}: {rows:,} sites scored in {seconds:.1f} s, "
          f"peak resident memory {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
