"""Time the features stage on demo warehouses of growing size, against a floor.

For each size in ``--sites`` the script writes a demo warehouse (unless the
file exists), creates a timed ``site_free:free_to_paid`` project with anchors
over most of the year (``--days 30``, 2025-01-01 to 2025-11-25) and builds it
up to the labels. Then, each in a child process of its own:

- the floor: one ``SELECT site_id, event, COUNT(*) FROM events GROUP BY ALL``
  fetched as Arrow, run before and after the features, the faster run kept
  (wall time and CPU time separately);
- the features stage alone: ``build_features`` over the project's labelled
  entities with the project's ``min_support``, as ``pipe build`` runs it.

It prints one table row per size: the number of features kept and dropped,
the wall and CPU time (user + system, all threads) of the features stage and
of the floor with their ratios, and each child's peak resident memory
(``ru_maxrss`` from ``os.wait4``, which Linux reports in KiB). Run it on an
otherwise idle machine, because other processes inflate the wall times. The
CPU times are less sensitive to them.

    python bench/features.py --workdir /tmp/pipe-bench-features --sites 10000 100000 1000000

Everything is written under ``--workdir``; ``--delete-after`` removes each
warehouse once its row is measured (the 1,000,000-site one takes about 3 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

PROJECT = "bench_features"
FLOOR_SQL = "SELECT site_id, event, COUNT(*) FROM events GROUP BY ALL"


def cpu_seconds() -> float:
    """Return the CPU time (user + system) of this process so far, all threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pipe_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipe", *args]


def run_measured(command: list[str], log_path: Path) -> tuple[float, float]:
    """Run ``command`` with its output in ``log_path``; return its wall time (s) and peak resident memory (MiB)."""
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code != 0:
        sys.exit(f"{' '.join(command)} failed with exit code {exit_code}; see {log_path}")
    return seconds, usage.ru_maxrss / 1024


def measure_child(mode: str, target: str, log_path: Path) -> tuple[dict, float]:
    """Run this script as a child in ``mode``; return the JSON it prints last and its peak memory (MiB)."""
    _, peak_mib = run_measured([sys.executable, __file__, "--child", mode, target], log_path)
    last_line = log_path.read_text(encoding="utf-8").strip().splitlines()[-1]
    return json.loads(last_line), peak_mib


def child_floor(warehouse: str) -> None:
    """Print the floor query's time and row count as JSON."""
    from pipe.engines import open_engine

    with open_engine(warehouse, read_only=True) as engine:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        rows = engine.fetch_arrow(FLOOR_SQL)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rows": rows.num_rows}))


def child_features(project_folder: str) -> None:
    """Print the features stage's time, features and per-family report as JSON."""
    import pandas as pd

    from pipe.context import make_context
    from pipe.engines import open_engine
    from pipe.features import DEFAULT_MIN_SUPPORT, build_features
    from pipe.project import read_info

    folder = Path(project_folder)
    info = read_info(folder / "info.json")
    raw = pd.read_parquet(folder / "raw.parquet")
    min_support = int(info["settings"].get("min_support", DEFAULT_MIN_SUPPORT))
    with open_engine(info["warehouse"]["path"], read_only=True) as engine:
        ctx = make_context(engine, info)
        started, cpu_started = time.perf_counter(), cpu_seconds()
        matrix, families = build_features(ctx, raw, min_support=min_support)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
        events = engine.scalar("SELECT COUNT(*) FROM events")
    print(json.dumps({
        "seconds": seconds,
        "cpu_seconds": cpu,
        "entities": len(raw),
        "events": events,
        "features": len(matrix.feature_names),
        "dropped": sum(f.get("dropped_below_min_support", 0) for f in families),
        "nonzero": int(matrix.X.nnz),
        "families": families,
    }))


def prepare(workdir: Path, sites: int) -> tuple[Path, Path]:
    """Write the warehouse and the labelled project of one size unless they exist; return both paths."""
    warehouse = workdir / f"demo_{sites}.duckdb"
    home = workdir / f"home_{sites}"
    if not warehouse.exists():
        seconds, _ = run_measured(pipe_command("demo", "--sites", str(sites), "--out", str(warehouse)), workdir / f"demo_{sites}.log")
        print(f"demo warehouse of {sites:,} sites written in {seconds:.0f} s", file=sys.stderr)
    if not (home / PROJECT / "raw.parquet").exists():
        shutil.rmtree(home / PROJECT, ignore_errors=True)
        run_measured(pipe_command("init", PROJECT, "--home", str(home), "--warehouse", str(warehouse),
                                  "--conversion", "site_free:free_to_paid", "--days", "30", "--window", "7",
                                  "--start", "2025-01-01", "--end", "2025-11-25"), workdir / f"init_{sites}.log")
        seconds, _ = run_measured(pipe_command("build", PROJECT, "--home", str(home), "--until", "labels"), workdir / f"labels_{sites}.log")
        print(f"cohort and labels of {sites:,} sites built in {seconds:.0f} s", file=sys.stderr)
    return warehouse, home / PROJECT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/pipe-bench-features"), help="Folder for the warehouses, projects and logs.")
    parser.add_argument("--sites", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="Sizes of the demo warehouses, in sites.")
    parser.add_argument("--delete-after", action="store_true", help="Delete each warehouse and project once measured.")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "TARGET"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.child:
        mode, target = arguments.child
        {"floor": child_floor, "features": child_features}[mode](target)
        return

    workdir = arguments.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    header = (f"{'sites':>9} {'events':>11} {'entities':>8} {'features':>8} {'dropped':>7} "
              f"{'features s':>10} {'floor s':>7} {'ratio':>5} {'features CPU s':>14} {'floor CPU s':>11} {'CPU ratio':>9} "
              f"{'peak RSS':>9} {'floor RSS':>9}")
    rows = []
    for sites in arguments.sites:
        warehouse, project = prepare(workdir, sites)
        first_floor, _ = measure_child("floor", str(warehouse), workdir / f"floor_{sites}_1.log")
        features, peak_mib = measure_child("features", str(project), workdir / f"features_{sites}.log")
        second_floor, floor_mib = measure_child("floor", str(warehouse), workdir / f"floor_{sites}_2.log")
        floor = min(first_floor["seconds"], second_floor["seconds"])
        floor_cpu = min(first_floor["cpu_seconds"], second_floor["cpu_seconds"])
        family_times = ", ".join(f"{f['family']} {f.get('seconds', 0):.1f} s" for f in features["families"])
        print(f"{sites:,} sites: {family_times}", file=sys.stderr)
        rows.append(
            f"{sites:>9,} {features['events']:>11,} {features['entities']:>8,} {features['features']:>8,} {features['dropped']:>7,} "
            f"{features['seconds']:>10.1f} {floor:>7.1f} {features['seconds'] / floor:>5.2f} "
            f"{features['cpu_seconds']:>14.1f} {floor_cpu:>11.1f} {features['cpu_seconds'] / floor_cpu:>9.2f} "
            f"{peak_mib / 1024:>7.2f} GB {floor_mib / 1024:>6.2f} GB"
        )
        print(rows[-1], file=sys.stderr)
        if arguments.delete_after:
            warehouse.unlink()
            shutil.rmtree(project.parent, ignore_errors=True)

    print(header)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
