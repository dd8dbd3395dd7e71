# The two commands: `make run` (the daily pipeline on the bundled real sample) and `make test`.
# Each creates .venv when missing and installs the project into it; nothing else is needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export HURACAN_HOME ?= $(CURDIR)/.huracan
export MLFLOW_DISABLE_TELEMETRY ?= true

.PHONY: run hamilton test test-fast lint docs ui mlflow workers browser clean bench-peer

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	@start=$$(date +%s); $(VENV)/bin/huracan run; rc=$$?; \
	  echo "make run: pipeline took $$(( $$(date +%s) - start )) s"; exit $$rc

# Hamilton paper-trades the roster's champions forward over the bundled sample, a 15-minute bar a second
hamilton: $(STAMP)
	$(VENV)/bin/huracan hamilton

# Lint, formatting, types and the docs first (seconds), then the suite on two workers, a test file each: much of it
# waits (on the UI's daemon ticks, a browser, PostgreSQL, S3) while the other file computes. A file's tests stay
# together, in order, with their module fixtures; the files go out in the tiers' order (tests/conftest.py TIER_ORDER).
test: $(STAMP) browser lint
	$(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# The core and definitions tiers: pure units and the code location loading (under 90 s)
test-fast: $(STAMP)
	$(PY) -m pytest -n 2 tests/core tests/definitions

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pyright
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# The export tables of docs/exports.md are generated from huracan_core/exports/tables.py; the site goes to site/
docs: $(STAMP)
	$(PY) -m huracan_core.exports.contract docs/exports.md
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

ui: $(STAMP)
	$(VENV)/bin/huracan ui

mlflow: $(STAMP)
	$(VENV)/bin/huracan mlflow

# A Celery worker for the runs' steps, with HURACAN_EXECUTOR=celery (docs/operations.md, steps over workers)
workers: $(STAMP)
	$(VENV)/bin/huracan workers

# Headless Chromium for the UI tests (Debian packages); the UI tests skip, saying why, where it cannot install.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) ; } || \
	  echo "chromium not installed: the UI tests will be skipped"

# The freqtrade peer benchmark (bench/peer/README.md), on demand: its own venv, then one JSON line (ARGS=--no-dagster
# skips the few minutes of the Dagster run)
PEER_VENV := bench/peer/.venv
PEER_STAMP := $(PEER_VENV)/.installed-stamp

$(PEER_STAMP): bench/peer/requirements.txt
	@test -x $(PEER_VENV)/bin/python || $(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install -q --upgrade pip
	$(PEER_VENV)/bin/python -m pip install -q -r bench/peer/requirements.txt
	@touch $@

bench-peer: $(STAMP) $(PEER_STAMP)
	$(PY) bench/peer/bench_peer.py $(ARGS)

clean:
	rm -rf $(VENV) $(PEER_VENV) .huracan site
