# make demo: set up a virtualenv, generate the demo warehouse, build the demo model.
# make test: set up the virtualenv and run the whole test suite.
# make example: build the three Stack Exchange example models and print their figures.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DEMO_WAREHOUSE ?= demo.duckdb
DEMO_HOME ?= pipe-projects
DEMO_PROJECT ?= demo_free_to_paid

EXAMPLE_DIR := examples/stackexchange
EXAMPLE_HOME ?= pipe-projects
EXAMPLE_INIT = $(BIN)/pipe init --home $(EXAMPLE_HOME) --warehouse $(EXAMPLE_DIR)/warehouse.yml --folds 3 --trials 4
EXAMPLE_PROJECTS := stackexchange_answer stackexchange_contribute stackexchange_comment

.PHONY: install browser java demo example test clean

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

# The questions and their figures are explained in examples/stackexchange/README.md.
example: $(STAMP)
	rm -rf $(addprefix $(EXAMPLE_HOME)/,$(EXAMPLE_PROJECTS))
	$(EXAMPLE_INIT) stackexchange_answer --conversion 'user_any:event_like_^post_answer$$' \
		--days 7 --window 23 --start 2018-03-09 --end 2018-08-03
	$(BIN)/pipe build stackexchange_answer --home $(EXAMPLE_HOME)
	$(EXAMPLE_INIT) stackexchange_contribute --conversion 'user_any:event_like_^(post_question|post_answer|comment)$$' \
		--days 3 --window 27 --start 2018-03-09 --end 2018-08-03
	$(BIN)/pipe build stackexchange_contribute --home $(EXAMPLE_HOME)
	$(EXAMPLE_INIT) stackexchange_comment --conversion 'user_any:event_like_^comment$$' \
		--analysis-end 2018-08-02 --window 30
	$(BIN)/pipe build stackexchange_comment --home $(EXAMPLE_HOME)
	$(BIN)/python $(EXAMPLE_DIR)/summary.py $(EXAMPLE_HOME) $(EXAMPLE_PROJECTS)

# The report test opens report.html in headless Chromium (Debian package
# chromium); installing it needs root and apt-get.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the report test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The Spark and HiveServer2 tests run pyspark's JVM (Debian package
# openjdk-17-jre-headless when java is missing); installing it needs root and apt-get.
java:
	@command -v java >/dev/null 2>&1 || { \
		echo "installing Debian's openjdk-17-jre-headless for the Spark tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

test: $(STAMP) browser java
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(DEMO_WAREHOUSE) $(DEMO_HOME) build dist
