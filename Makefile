# Huimin: `make run` serves the app with demo data; `make test` runs the whole suite.
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask
export FLASK_APP := app
export PYTHONPATH := $(CURDIR)

.PHONY: run test test-sqlite test-postgres lint bandit audit check serve worker scheduler setup system-deps translations bench clean

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

system-deps:
	@bash tools/system-deps.sh

translations: $(VENV)/.installed
	@$(PY) tools/i18n.py compile

setup: $(VENV)/.installed system-deps translations

run: setup
	$(FLASK) db upgrade
	$(FLASK) seed demo-if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

# SQLite always; PostgreSQL as well when TEST_DATABASE_URL is set. One worker per core
# (pytest-xdist; a test file stays on one worker, so its module fixtures are built once).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST := $(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile
test: setup
	env -u TEST_DATABASE_URL $(PYTEST)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL: $$TEST_DATABASE_URL"; \
	  $(PYTEST); \
	fi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# Security lint of the app's code: any finding of medium or high severity fails.
BANDIT_PATHS := core catalog marketplace evaluation seeds app.py
bandit: $(VENV)/.installed
	$(VENV)/bin/bandit -q -r --severity-level medium $(BANDIT_PATHS)

# Known vulnerabilities in the pinned requirements; needs PyPI's vulnerability service, and
# fails loudly (exit 3, "NOT AUDITED") when it cannot reach it.
audit: $(VENV)/.installed
	@bash tools/pip-audit.sh

check: lint bandit audit

# With REDIS_URL set, run `make worker` (any number) and `make scheduler` (exactly one) beside it
# (other units or containers): Celery renders reports and runs the periodic tasks. Without Redis,
# tasks run in the app and `flask jobs run-due` (cron) runs the periodic ones.
serve: setup
	$(FLASK) db upgrade
	$(VENV)/bin/gunicorn --workers $${WORKERS:-2} --bind $${BIND:-127.0.0.1:8000} "app:create_app()"

worker: setup
	$(FLASK) jobs worker

scheduler: setup
	$(FLASK) jobs scheduler

# Performance at district scale (README "Performance"): builds or reuses the scale databases in
# bench/out/ and PostgreSQL database bench_pg, prints the table, writes bench/out/bench.json.
# BENCH_DURATION (seconds per page, default 10), BENCH_PG_FACTOR (default 1), BENCH_ARGS=--skip-pg.
bench: setup
	$(PY) tools/bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
