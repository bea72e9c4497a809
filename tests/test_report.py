"""report.html renders its plots in headless Chromium, offline."""

import json
import re
import shutil
import subprocess

import pytest

from conftest import FAST_MODEL


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
