"""Print the figures of built pipe projects as one Markdown table.

Usage: python summary.py HOME PROJECT [PROJECT ...]

Reads each project's model_info.json (written by ``pipe build``) and prints
the conversion, the attrition from population to labelled entities, the
prevalence, and the test split's size, ROC AUC and informedness, rounded as
the README of this example shows them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HEADER = ("project", "conversion", "population", "eligible", "positives", "prevalence",
          "test entities (positives)", "test ROC AUC", "test informedness")


def summary_row(home: Path, project: str) -> list[str]:
    """Return the table row of one project's model_info.json."""
    info = json.loads((home / project / "model_info.json").read_text(encoding="utf-8"))
    steps = {row["step"].split(" ")[0]: row for row in info["attrition"]}
    labelled = steps["labelled"]
    metrics = info["test_metrics"]
    return [
        project,
        # A pipe inside a table cell must be escaped, even in a code span.
        "`" + info["settings"]["conversion"].replace("|", "\\|") + "`",
        str(steps["population"]["entities"]),
        str(steps["eligibility"]["entities"]),
        str(labelled["positives"]),
        f"{labelled['prevalence']:.2%}",
        f"{metrics['n']} ({metrics['positives']})",
        f"{metrics['roc_auc']:.4f}",
        f"{metrics['informedness']:.4f}",
    ]


def main(arguments: list[str]) -> None:
    if len(arguments) < 2:
        sys.exit("usage: python summary.py HOME PROJECT [PROJECT ...]")
    home = Path(arguments[0])
    rows = [list(HEADER), ["---"] * len(HEADER)]
    rows += [summary_row(home, project) for project in arguments[1:]]
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
