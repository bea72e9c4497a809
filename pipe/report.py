"""``report.html``: the model's test results for people, in one offline file.

Plots are drawn with matplotlib and embedded as base64 PNG images, so the
file needs no network and no other file to open.
"""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

TOP_FEATURES = 30


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _curves_figure(metrics: dict, curves: dict) -> str:
    figure, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    roc, pr, calibration = curves["roc"], curves["precision_recall"], curves["calibration"]

    axes[0].plot(roc["fpr"], roc["tpr"], label=f"model, AUC {metrics['roc_auc']:.3f}")
    axes[0].plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axes[0].set(title="ROC curve", xlabel="false positive rate", ylabel="true positive rate")
    axes[0].legend(loc="lower right")

    axes[1].plot(pr["recall"], pr["precision"], label=f"model, AP {metrics['average_precision']:.3f}")
    axes[1].axhline(metrics["base_rate"], linestyle="--", color="grey", label=f"base rate {metrics['base_rate']:.3f}")
    axes[1].set(title="Precision-recall curve", xlabel="recall", ylabel="precision")
    axes[1].legend(loc="upper right")

    axes[2].plot(calibration["mean_predicted"], calibration["fraction_positive"], marker="o", label="model")
    top = max(calibration["mean_predicted"] + calibration["fraction_positive"] + [0.01])
    axes[2].plot([0, top], [0, top], linestyle="--", color="grey", label="perfect calibration")
    axes[2].set(title="Calibration (quantile bins)", xlabel="mean predicted probability", ylabel="fraction positive")
    axes[2].legend(loc="upper left")

    matrix = metrics["confusion_matrix_normalized"]
    counts = metrics["confusion_matrix"]
    axes[3].imshow([[v or 0 for v in row] for row in matrix], cmap="Blues", vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            rate = matrix[i][j]
            axes[3].text(j, i, f"{counts[i][j]}\n({rate:.1%})" if rate is not None else str(counts[i][j]), ha="center", va="center")
    axes[3].set(title=f"Confusion matrix at threshold {metrics['threshold']:.3f}", xticks=[0, 1], yticks=[0, 1],
                xticklabels=["predicted 0", "predicted 1"], yticklabels=["actual 0", "actual 1"])
    return _png(figure)


def _importance_figure(importances: pd.DataFrame) -> str:
    top = importances.head(TOP_FEATURES).iloc[::-1]
    figure, axis = plt.subplots(figsize=(9, max(3, 0.28 * len(top) + 1)))
    axis.barh(top["feature"], top["importance"])
    axis.set(title=f"Top {len(top)} feature importances", xlabel="importance (mean decrease in impurity)")
    return _png(figure)


def _table(rows: list[dict]) -> str:
    """Return an HTML table with a column for every key of any row, in order of first appearance.

    A row without a key gets an empty cell there: the attrition table's
    "labelled" row has columns (positives, prevalence) that earlier rows lack.
    """
    if not rows:
        return "<p>none</p>"
    columns = list(dict.fromkeys(key for row in rows for key in row))
    header = "".join(f"<th>{html.escape(str(k))}</th>" for k in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(row.get(k)))}</td>" for k in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def render_report(model_info: dict, curves: dict, importances: pd.DataFrame) -> str:
    """Return the report as one HTML document."""
    metrics = model_info["test_metrics"]
    name = html.escape(model_info["project"])
    summary = [
        {"metric": key, "value": metrics[key]}
        for key in ("n", "positives", "base_rate", "roc_auc", "average_precision", "informedness", "threshold",
                    "tpr", "tnr", "precision", "tp", "fp", "tn", "fn")
    ]
    settings = [{"setting": k, "value": v} for k, v in model_info["settings"].items()]
    cv = model_info["cross_validation"]
    cv_rows = [{"fold": i + 1, "roc_auc": s} for i, s in enumerate(cv["roc_auc"])]
    top = importances.head(TOP_FEATURES)[["rank", "feature", "importance"]].to_dict("records")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pipe report: {name}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }}
img {{ max-width: 100%; }}
</style></head>
<body>
<h1>{name}: {html.escape(model_info['settings'].get('conversion', ''))}</h1>
<p>Test split: {metrics['n']} entities ({html.escape(model_info['split']['method'])}).
ROC AUC {_cell(metrics['roc_auc'])}, informedness {_cell(metrics['informedness'])} at threshold {_cell(metrics['threshold'])}.</p>
<h2>Curves and confusion matrix</h2>
<img id="curves" alt="ROC, precision-recall, calibration and confusion matrix" src="{_curves_figure(metrics, curves)}">
<h2>Test metrics</h2>
{_table(summary)}
<h2>Feature importances</h2>
<img id="importances" alt="top feature importances" src="{_importance_figure(importances)}">
{_table(top)}
<h2>Attrition</h2>
{_table(model_info['attrition'])}
<h2>Cross-validation (training split)</h2>
{_table(cv_rows)}
<h2>Settings</h2>
{_table(settings)}
<p id="render-status"></p>
<script>
// Count the plots the browser decoded, and say so when one failed.
window.addEventListener("load", function () {{
  var images = Array.prototype.slice.call(document.images);
  var rendered = images.filter(function (img) {{ return img.complete && img.naturalWidth > 0; }}).length;
  document.body.setAttribute("data-plots-rendered", String(rendered));
  document.body.setAttribute("data-plots-total", String(images.length));
  if (rendered < images.length) {{
    document.getElementById("render-status").textContent = (images.length - rendered) + " plot(s) failed to render.";
  }}
}});
</script>
</body></html>
"""
