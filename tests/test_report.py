"""report.html renders its plots in headless Chromium, offline."""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import FAST_MODEL
from pipe.report import _table


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium not found; `make test` installs the Debian package chromium")


def render_dom(browser, page, profile):
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--dump-dom", page.as_uri(),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_report_plots_render(run, demo_warehouse, tmp_path):
    result = run("init", "report", "--warehouse", str(demo_warehouse), "--conversion", "site_free:free_to_paid",
                 "--days", "30", "--window", "7", "--start", "2025-01-15", "--end", "2025-10-31", *FAST_MODEL)
    assert result.exit_code == 0, result.output
    assert run("build", "report").exit_code == 0
    page = tmp_path / "home" / "report" / "report.html"
    text = page.read_text()

    # Self-contained: every image is inline and nothing is fetched.
    assert "http://" not in text
    assert "https://" not in text
    assert len(re.findall(r'src="data:image/png;base64,', text)) == 2

    dom = render_dom(find_chromium(), page, tmp_path / "profile")
    assert 'data-plots-total="2"' in dom
    assert 'data-plots-rendered="2"' in dom
    assert '<p id="render-status"></p>' in dom

    model_info = json.loads((page.parent / "model_info.json").read_text())
    assert f"{model_info['test_metrics']['roc_auc']:.4g}" in dom


class _TableCells(HTMLParser):
    """Collect the text of each row's th and td cells."""

    def __init__(self):
        super().__init__()
        self.rows, self._cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self.rows[-1].append(self._cell)
            self._cell = None


def test_attrition_table_headers_every_cell():
    # The rows that Build records: the labelled row adds two keys.
    attrition = [
        {"step": "population", "entities": 120, "removed": 0},
        {"step": "free through the cutoff", "entities": 100, "removed": 20},
        {"step": "labelled", "entities": 100, "removed": 0, "positives": 7, "prevalence": 0.07},
    ]
    parser = _TableCells()
    parser.feed(_table(attrition))

    header, *body = parser.rows
    assert header == ["step", "entities", "removed", "positives", "prevalence"]
    assert body[0] == ["population", "120", "0", "", ""]
    assert body[1] == ["free through the cutoff", "100", "20", "", ""]
    assert body[2] == ["labelled", "100", "0", "7", "0.07"]
