# The commands people type. The README and .ci/run call these targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The lock files (make lock) pin every package with its hashes; pyproject.toml keeps the ranges.
LOCK := requirements/dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(LOCK) | sha1sum | cut -c1-12)
# In priority order: a worker takes orders and webhooks before catalog work.
QUEUES := create-order process-webhook update-stock sync-products

.PHONY: run check lint typecheck typescript test test-system install lock hooks worker scheduler web bench format migrate shell clean

# Everything comes from the lock, hash-checked, pip and setuptools included; the project itself is
# then installed without its dependencies and built with the locked setuptools, so nothing is
# fetched unpinned.
$(STAMP): $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	@# A package the lock no longer names is removed, so the venv holds what a fresh clone's does
	@# (pip-sync removes the project too: it is installed again on the next line).
	$(BIN)/pip-sync --quiet $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## lock: pin pyproject.toml's ranges (runtime, then runtime + dev extras) into requirements/*.txt
# Options (hashes, pip and setuptools pinned) are in pyproject.toml's [tool.pip-tools].
# UPGRADE=1 moves every pin to the newest release within the ranges; otherwise pins only move
# where pyproject.toml no longer allows them.
lock: install
	$(BIN)/pip-compile --quiet --all-build-deps $(if $(UPGRADE),--upgrade) \
	  --output-file requirements/main.txt pyproject.toml
	$(BIN)/pip-compile --quiet --all-build-deps --extra dev --constraint requirements/main.txt \
	  $(if $(UPGRADE),--upgrade) --output-file requirements/dev.txt pyproject.toml

# Without a CJ key (environment or .env), `make run` starts the CJ simulator and points the client at it.
CJ_KEY_GIVEN := $(strip $(CJ_API_KEY)$(shell test -f .env && sed -n 's/^CJ_API_KEY=\([^ \#]*\).*/\1/p' .env))
DEBUG_GIVEN := $(strip $(DJANGO_DEBUG)$(shell test -f .env && sed -n 's/^DJANGO_DEBUG=\([^ \#]*\).*/\1/p' .env))
CJ_SIMULATOR_PORT ?= 8765
ifeq ($(CJ_KEY_GIVEN),)
RUN_PROCESSES := cj-simulator web worker stock-worker sync-worker scheduler webhooks-register
run: export CJ_API_BASE = http://127.0.0.1:$(CJ_SIMULATOR_PORT)/api2.0/v1/
run: export CJ_API_KEY = SIMULATOR-DEMO-KEY
run: export CJ_OPEN_ID = 1234567890
run: export CJ_SIMULATOR_PORT := $(CJ_SIMULATOR_PORT)
# The simulated account runs at 10 requests/s (CJ's real levels: 1-6) so a newcomer's first sync
# shows products within seconds; the simulator enforces the same rate.
CJ_QPS ?= 10
run: export CJ_QPS := $(CJ_QPS)
# Debug defaults on only here, against the simulator: with a real CJ key it is never switched on
# by itself (the debug pages would show a stranger what a real account runs on).
ifeq ($(DEBUG_GIVEN),)
run: export DJANGO_DEBUG = true
endif
# An empty shop gets the starter selection from the simulator (the sample product and one keyword
# rule, published); with a real key staff choose what to sell (admin: CJ search, import rules).
RUN_STARTER := sync_cj starter --enqueue --if-empty
else
RUN_PROCESSES := web worker stock-worker sync-worker scheduler
RUN_STARTER := sync_cj products --enqueue --if-empty
endif

# Without a Stripe key (environment or .env), `make run` also starts localstripe, the stand-in for
# Stripe, signs its webhooks with a secret kept in var/ and registers our receiver with it.
STRIPE_KEY_GIVEN := $(strip $(STRIPE_SECRET_KEY)$(shell test -f .env && sed -n 's/^STRIPE_SECRET_KEY=\([^ \#]*\).*/\1/p' .env))
LOCALSTRIPE_PORT ?= 8420
ifeq ($(STRIPE_KEY_GIVEN),)
RUN_PROCESSES += localstripe stripe-webhooks-register
run: export LOCALSTRIPE_PORT := $(LOCALSTRIPE_PORT)
run: export STRIPE_API_BASE = http://127.0.0.1:$(LOCALSTRIPE_PORT)
run: export STRIPE_WEBHOOK_SECRET = $(shell mkdir -p var && { test -s var/localstripe-webhook-secret || $(PYTHON) -c 'import secrets; print("whsec_" + secrets.token_hex(24))' > var/localstripe-webhook-secret; } && cat var/localstripe-webhook-secret)
endif

## run: the whole system in the foreground, each process supervised (config/supervise.py); Ctrl-C stops all
# More processes (e.g. a payments stand-in) are one Procfile line each and a name in RUN_PROCESSES.
run: install
	$(BIN)/python manage.py bootstrap
	$(BIN)/python manage.py $(RUN_STARTER)
# honcho exits 130 when Ctrl-C stops it: that is the way out, not a failure for make to report.
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile $(RUN_PROCESSES) \
		|| { status=$$?; test $$status -eq 130 || exit $$status; }

## check: what CI runs - lint, typecheck, the TypeScript client, then the tests
check: lint typecheck typescript test

## lint: ruff (lint and format) and a missing migration
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.test_settings $(BIN)/python manage.py makemigrations --check --dry-run

## typecheck: mypy with the Django and DRF plugins (settings in pyproject.toml's [tool.mypy])
typecheck: install
	$(BIN)/mypy

## typescript: export the OpenAPI schema, generate the storefront's types from it (openapi-typescript)
## and type-check the storefront script with tsc; a breaking schema change fails here
# npm ci installs exactly storefront/package-lock.json, from npm's cache when it holds the packages.
typescript: install
	DJANGO_SETTINGS_MODULE=config.test_settings $(BIN)/python manage.py spectacular --validate --fail-on-warn \
	  --file storefront/schema.yaml
	cd storefront && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	cd storefront && npx openapi-typescript schema.yaml --default-non-nullable false --output src/api.d.ts
	cd storefront && npx tsc --noEmit -p .
	storefront/check-broken.sh

## test: secret scan, then pytest on the real PostgreSQL and Redis
test: install
	@if [ -x ../shared/tools/secret-scan ]; then ../shared/tools/secret-scan . && echo "secret scan: clean"; \
	 else echo "secret scan skipped: ../shared/tools/secret-scan not present"; fi
	$(BIN)/pytest $(PYTEST_ARGS)

## test-system: only the system drills (real gunicorn, workers, simulator, own Redis server)
test-system: install
	$(BIN)/pytest tests/system/test_drills.py tests/system/test_fault_drills.py tests/system/test_make_run.py $(PYTEST_ARGS)

## worker: one worker on the four queues, with RQ's scheduler (retries and delayed jobs)
worker: install
	$(BIN)/python manage.py rqworker $(QUEUES) --with-scheduler

## scheduler: the periodic jobs of config/cron.py
scheduler: install
	$(BIN)/python manage.py scheduler

## web: gunicorn alone
web: install
	$(BIN)/gunicorn config.wsgi --bind $${WEB_BIND:-127.0.0.1}:$${WEB_PORT:-8000} --workers $${WEB_CONCURRENCY:-2}

## bench: every script in bench/, one after the other
bench: install
	$(BIN)/python bench/figures.py $(BENCH)

## hooks: run the pre-commit hooks (.pre-commit-config.yaml) before every git commit
hooks: install
	$(BIN)/pre-commit install

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

migrate: install
	$(BIN)/python manage.py bootstrap

shell: install
	$(BIN)/python manage.py shell

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
