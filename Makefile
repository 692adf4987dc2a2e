# The commands people type. The README and .ci/run call these targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
QUEUES := sync-products create-order process-webhook update-stock

.PHONY: run test install worker scheduler web bench lint format migrate shell clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## run: the whole system in the foreground (web, worker with scheduler, cron scheduler); Ctrl-C stops all
run: export DJANGO_DEBUG ?= true
run: install
	$(BIN)/python manage.py bootstrap
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile web worker scheduler

## test: lint, migrations check, secret scan, then pytest on the real PostgreSQL and Redis
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.test_settings $(BIN)/python manage.py makemigrations --check --dry-run
	@if [ -x ../shared/tools/secret-scan ]; then ../shared/tools/secret-scan . && echo "secret scan: clean"; \
	 else echo "secret scan skipped: ../shared/tools/secret-scan not present"; fi
	$(BIN)/pytest $(PYTEST_ARGS)

## worker: one worker on the four queues, with RQ's scheduler (retries and delayed jobs)
worker: install
	$(BIN)/python manage.py rqworker $(QUEUES) --with-scheduler

## scheduler: the periodic jobs of config/cron.py
scheduler: install
	$(BIN)/python manage.py rqcron config.cron

## web: gunicorn alone
web: install
	$(BIN)/gunicorn config.wsgi --bind 0.0.0.0:$${WEB_PORT:-8000} --workers $${WEB_CONCURRENCY:-2}

## bench: every script in bench/, one after the other
bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

migrate: install
	$(BIN)/python manage.py bootstrap

shell: install
	$(BIN)/python manage.py shell

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
