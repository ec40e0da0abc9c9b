# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
CELERY := $(VENV)/bin/celery -A kartra_integrations

.PHONY: run test install migrate demo lint format check-deploy bench-leads bench-api bench-hooks faults fuzz zapier-test

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
	@trap 'kill 0' INT TERM EXIT; \
	$(CELERY) worker --loglevel=INFO --concurrency=2 & \
	$(CELERY) beat --loglevel=INFO & \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: install
	DJANGO_SETTINGS_MODULE=kartra_integrations.settings.production \
	SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
	ALLOWED_HOSTS=integrations.example.com DATABASE_URL=sqlite:///var/check.sqlite3 \
	$(PY) manage.py check --deploy --fail-level WARNING

# Hook delivery speed (issue 5). Needs DATABASE_URL (PostgreSQL) and REDIS_URL.
bench-hooks: install
	$(PY) bench/bench_hooks.py

# Hook delivery under faults: 5xx, a SIGKILLed worker, a Redis restart (its own redis-server on :6390).
faults: install
	$(PY) bench/faults.py
