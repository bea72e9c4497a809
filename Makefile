# make demo: set up a virtualenv, generate the demo warehouse, build the demo model.
# make test: set up the virtualenv and run the whole test suite.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DEMO_WAREHOUSE ?= demo.duckdb
DEMO_HOME ?= pipe-projects
DEMO_PROJECT ?= demo_free_to_paid

.PHONY: install browser demo test clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pipe demo --out $(DEMO_WAREHOUSE)
	rm -rf $(DEMO_HOME)/$(DEMO_PROJECT)
	$(BIN)/pipe init $(DEMO_PROJECT) --home $(DEMO_HOME) --warehouse $(DEMO_WAREHOUSE) \
		--conversion site_free:free_to_paid --days 30 --window 7 --start 2025-02-01 --end 2025-11-25
	$(BIN)/pipe build $(DEMO_PROJECT) --home $(DEMO_HOME)

# The report test opens report.html in headless Chromium (Debian package
# chromium); installing it needs root and apt-get.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the report test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) browser
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(DEMO_WAREHOUSE) $(DEMO_HOME) build dist
