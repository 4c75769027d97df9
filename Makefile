# Huimin: `make run` serves the app with demo data; `make test` runs the whole suite.
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask
# Where `make run` serves: `make run PORT=5001`, `make run HOST=0.0.0.0`.
PORT   ?= 5000
HOST   ?= 127.0.0.1
export FLASK_APP := app
export PYTHONPATH := $(CURDIR)

.PHONY: run test lint bandit audit check serve worker scheduler setup setup-dev system-deps translations bench bench-curve \
        requirements clean

# Two installs, each with its own stamp: the runtime (requirements.txt: what a server needs) for
# `make run`, and the runtime plus tests, lint and bench tools (requirements-dev.txt) for
# `make test`. Both files are hash-pinned; every download is checked against its hash.
PIP_INSTALL := $(VENV)/bin/pip install -q --disable-pip-version-check --require-hashes

$(VENV)/.installed-runtime: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed-runtime
	$(PIP_INSTALL) -r requirements-dev.txt
	@touch $@

# After editing requirements.in or requirements-dev.in (or to take newer releases: add --upgrade).
PIP_COMPILE := $(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --no-emit-index-url \
               --no-emit-find-links
requirements: $(VENV)/.installed-dev
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in

system-deps:
	@bash tools/system-deps.sh

translations: $(VENV)/.installed-runtime
	@$(PY) tools/i18n.py compile

setup: $(VENV)/.installed-runtime system-deps translations

setup-dev: setup $(VENV)/.installed-dev

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed demo-if-empty
	$(FLASK) run --host $(HOST) --port $(PORT)

# SQLite always; PostgreSQL as well when TEST_DATABASE_URL is set. One worker per core
# (pytest-xdist; a test file stays on one worker, so its module fixtures are built once).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST := $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile
test: setup-dev
	env -u TEST_DATABASE_URL $(PYTEST)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL: $$TEST_DATABASE_URL"; \
	  $(PYTEST); \
	fi

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

# Security lint of the app's code: any finding of medium or high severity fails.
BANDIT_PATHS := core catalog marketplace evaluation seeds app.py
bandit: $(VENV)/.installed-dev
	$(VENV)/bin/bandit -q -r --severity-level medium $(BANDIT_PATHS)

# Known vulnerabilities in the pinned requirements; needs PyPI's vulnerability service, and
# fails loudly (exit 3, "NOT AUDITED") when it cannot reach it.
audit: $(VENV)/.installed-dev
	@bash tools/pip-audit.sh

check: lint bandit audit

# With REDIS_URL set, run `make worker` (any number) and `make scheduler` (exactly one) beside it
# (other units or containers): Celery renders reports and runs the periodic tasks. Without Redis,
# tasks run in the app and `flask jobs run-due` (cron) runs the periodic ones.
# Workers: gunicorn.conf.py (2 × cores; WEB_WORKERS=n overrides).
serve: setup
	$(FLASK) db upgrade
	$(VENV)/bin/gunicorn --bind $${BIND:-127.0.0.1:8000} "app:create_app()"

worker: setup
	$(FLASK) jobs worker

scheduler: setup
	$(FLASK) jobs scheduler

# Performance at district scale (README "Performance"): builds or reuses the scale databases in
# bench/out/ and PostgreSQL database bench_pg (BENCH_PG_DB), measures every key page on SQLite and
# PostgreSQL (latency and throughput passes), the recompute, the briefing, the bids and the growth
# curve; prints the tables, writes bench/out/bench.json. BENCH_DURATION (seconds per page and
# pass, default 6), BENCH_PG_FACTOR (default 1), BENCH_CURVE_FACTORS (default 0.1,0.3,1; add 3
# for the large curve), BENCH_ARGS=--skip-pg or --skip-curve.
bench: setup-dev
	$(PY) tools/bench/run.py $(BENCH_ARGS)

# The growth curve alone: every page, the recompute and the incremental update at each factor.
bench-curve: setup-dev
	$(PY) tools/bench/run.py --curve-only $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
