# Accord: every target bootstraps what it needs, from a bare clone on a fresh machine.
#   make demo   run the product with its demo network on http://127.0.0.1:8000
#   make test   the whole test suite (SQLite, browser tests included)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Root installs system packages itself; anyone else goes through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PG_URL ?= postgres://postgres@127.0.0.1:5432/accord
PYTEST_ARGS ?=
# Two workers (the machines have two cores); XDIST= runs the suite in one process.
XDIST ?= -n 2

.PHONY: help .venv demo test test-postgres system-deps lint openapi bench bench-kpi bench-tiers bench-conflicts bench-governance clean

help:
	@echo "make demo           load the demo network and serve it on http://127.0.0.1:8000"
	@echo "make test           run the whole test suite on SQLite (browser tests included)"
	@echo "make test-postgres  run the suite on PostgreSQL ($(PG_URL))"
	@echo "make lint           ruff"
	@echo "make openapi        regenerate docs/openapi.json"
	@echo "make bench          run the benchmarks (they print ratios)"
	@echo "make bench-kpi      the KPI benchmark (100k organisations, 10M lines) on SQLite and PostgreSQL"
	@echo "make bench-tiers    tier evaluation vs its KPIs (100k organisations, 10M lines), both databases"
	@echo "make bench-conflicts  deal conflict check against 1M registrations, both databases"
	@echo "make bench-governance  escalation sweep, relationship list, dashboard (10k relationships, 100k issues), both databases"

# The virtual environment, rebuilt when pyproject.toml changes.
.venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Accord needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/accord demo

# Debian packages the tests use: Chromium (driven by Playwright) and CJK fonts for the
# browser tests, GNU gettext for the translation-catalogue test.
SYSTEM_PACKAGES := chromium fonts-noto-cjk gettext
system-deps:
	@if dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 && [ -x /usr/bin/chromium ]; then \
		echo "$(SYSTEM_PACKAGES): installed"; \
	else \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q \
		&& $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $(SYSTEM_PACKAGES); \
	fi

test: $(STAMP) system-deps
	env -u ACCORD_DATABASE_URL $(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# Browser tests are left to the SQLite leg (they test pages, not the database).
test-postgres: $(STAMP)
	ACCORD_DATABASE_URL=$(PG_URL) $(BIN)/pytest $(XDIST) -m "not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check accord tests bench

openapi: $(STAMP)
	$(BIN)/accord export_openapi_schema --api accord.api.api --indent 2 --output docs/openapi.json

bench: $(STAMP)
	$(BIN)/python bench/demo_load.py
	$(BIN)/python bench/restrict.py
	$(BIN)/python bench/kpi.py
	$(BIN)/python bench/tiers.py --organisations 10000 --lines 1000000
	$(BIN)/python bench/conflicts.py --registrations 50000 --queries 300
	$(BIN)/python bench/governance.py --small

# The KPI benchmark at its full size on both databases (SQLite scratch file, then PostgreSQL).
bench-kpi: $(STAMP)
	$(BIN)/python bench/kpi.py $(BENCH_ARGS)
	psql "$(dir $(PG_URL))postgres" -qc "DROP DATABASE IF EXISTS accord_bench_kpi" \
		-c "CREATE DATABASE accord_bench_kpi"
	ACCORD_DATABASE_URL=$(dir $(PG_URL))accord_bench_kpi $(BIN)/python bench/kpi.py $(BENCH_ARGS)

# Tier evaluation against its KPIs at the same size, on both databases. BENCH_ARGS=--keep
# reuses a loaded network: the SQLite one bench-kpi --keep left under ./var/bench/, and the
# PostgreSQL database accord_bench_tiers (made afresh without --keep).
BENCH_TIERS_DB := $(dir $(PG_URL))accord_bench_tiers
bench-tiers: $(STAMP)
	$(BIN)/python bench/tiers.py $(BENCH_ARGS)
	$(if $(filter --keep,$(BENCH_ARGS)),,psql "$(dir $(PG_URL))postgres" -qc \
		"DROP DATABASE IF EXISTS accord_bench_tiers")
	psql "$(dir $(PG_URL))postgres" -qtAc \
		"SELECT 1 FROM pg_database WHERE datname = 'accord_bench_tiers'" | grep -q 1 \
		|| psql "$(dir $(PG_URL))postgres" -qc "CREATE DATABASE accord_bench_tiers"
	ACCORD_DATABASE_URL=$(BENCH_TIERS_DB) $(BIN)/python bench/tiers.py $(BENCH_ARGS)

# The deal conflict check against 1M registrations, on both databases. BENCH_ARGS=--keep
# reuses the loaded ones: ./var/bench/conflicts-1000000/ and accord_bench_conflicts.
BENCH_CONFLICTS_DB := $(dir $(PG_URL))accord_bench_conflicts
bench-conflicts: $(STAMP)
	$(BIN)/python bench/conflicts.py $(BENCH_ARGS)
	$(if $(filter --keep,$(BENCH_ARGS)),,psql "$(dir $(PG_URL))postgres" -qc \
		"DROP DATABASE IF EXISTS accord_bench_conflicts")
	psql "$(dir $(PG_URL))postgres" -qtAc \
		"SELECT 1 FROM pg_database WHERE datname = 'accord_bench_conflicts'" | grep -q 1 \
		|| psql "$(dir $(PG_URL))postgres" -qc "CREATE DATABASE accord_bench_conflicts"
	ACCORD_DATABASE_URL=$(BENCH_CONFLICTS_DB) $(BIN)/python bench/conflicts.py $(BENCH_ARGS)

# Governance at 10,000 relationships and 100,000 open issues (5 % overdue), on both databases
# (a scratch SQLite file, then the PostgreSQL database bench_governance, made afresh).
# BENCH_ARGS=--small runs 1,000 and 10,000.
BENCH_GOVERNANCE_DB := $(dir $(PG_URL))bench_governance
bench-governance: $(STAMP)
	$(BIN)/python bench/governance.py $(BENCH_ARGS)
	psql "$(dir $(PG_URL))postgres" -qc "DROP DATABASE IF EXISTS bench_governance" \
		-c "CREATE DATABASE bench_governance"
	ACCORD_DATABASE_URL=$(BENCH_GOVERNANCE_DB) $(BIN)/python bench/governance.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/*.sqlite3* test-results
