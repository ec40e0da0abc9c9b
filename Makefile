# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: zapier-check run test install migrate demo lint typecheck format check-deploy bench-leads bench-api bench-hooks faults fuzz

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo_data

# The web app on 127.0.0.1:$(PORT) with a Celery worker and beat; one Ctrl-C stops all three.
run: demo
	@PORT=$(PORT) scripts/run-dev.sh

# The Python suite; when that ran on PostgreSQL, again on `make run`'s embedded defaults (SQLite, no
# Redis, no browser), whose fallbacks the PostgreSQL-only statements need; then the Zapier app's tests:
# offline ones, and live ones run by Zapier's own SDK against a throwaway service (web server + Celery
# worker) on its own database.
test: install zapier/node_modules/.installed
	$(PY) -m pytest
	if [ -n "$$DATABASE_URL" ]; then env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -q -p no:cacheprovider -m "not browser"; fi
	$(MAKE) zapier-check
	zapier/scripts/with-service.sh

# The Zapier app against Zapier's integration checks (title case, help text, dropdown or search on
# id fields, samples without nulls, descriptions), its static samples against the Python builders,
# and `zapier-platform validate --without-style` on node 22 (fetched from the npm registry by npx).
zapier-check: install zapier/node_modules/.installed
	cd zapier && node scripts/check.js
	$(PY) manage.py zapier_samples --check
	zapier/scripts/validate.sh

zapier/node_modules/.installed: zapier/package-lock.json
	cd zapier && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# ruff, then the type check (CI runs this).
lint: install typecheck
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with the Django and DRF plugins over the apps listed in pyproject.toml ([tool.mypy] files).
typecheck: install
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: install
	DJANGO_SETTINGS_MODULE=kartra_integrations.settings.production \
	SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
	ALLOWED_HOSTS=integrations.example.com DATABASE_URL=sqlite:///var/check.sqlite3 \
	$(PY) manage.py check --deploy --fail-level WARNING

# A million leads in one account on PostgreSQL (database ki_bench_leads, created if missing):
# lookup-by-email and leads-list times at 10k and 1M. BENCH_SMALL / BENCH_LARGE override the counts.
bench-leads: install
	$(PY) bench/bench_leads.py

# Property-based fuzzing: every /api/v1 operation from the OpenAPI schema, plus lone surrogates, NUL,
# digits of other scripts, deep nesting and huge numbers in bodies, paths, queries, the Basic header
# and the hosted pages: no 500 on any input. On PostgreSQL (NUL and integer ranges fail only there):
# DATABASE_URL, or a database ki_fuzz on 127.0.0.1 (pytest creates test_ki_fuzz).
fuzz: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ki_fuzz} \
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-150} $(PY) -m pytest -q -p no:cacheprovider tests/leads/test_api_fuzz.py

# The v1 API under load (gunicorn on PostgreSQL, wrk on loopback); BENCH_LEADS=100000 to iterate.
bench-api: install
	scripts/apt-ensure.sh wrk
	$(PY) bench/bench_api.py

# Hook delivery speed. Needs DATABASE_URL (PostgreSQL) and REDIS_URL.
bench-hooks: install
	$(PY) bench/bench_hooks.py

# Hook delivery under faults: 5xx, a SIGKILLed worker, a Redis restart (its own redis-server on :6390).
faults: install
	$(PY) bench/faults.py
