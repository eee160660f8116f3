# Guestsync: `make run` starts everything on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip

.PHONY: run test test-fast migrate migration install install-dev bench clean graphql-schema openapi check-compose lint

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) -m pms_app migrate
	$(PY) -m crm_app migrate

## The next numbered migration file of a service, to fill in by hand (docs/operations.md):
##   make migration SERVICE=pms NAME=add_guest_vip
migration: install
	$(PY) -m core.makemigration "$(SERVICE)" "$(NAME)"

## Start PMS (+ delivery worker), CRM and dashboard on SQLite under ./data; Ctrl-C stops all.
run: migrate
	$(PY) -m core.launcher

## The whole suite on SQLite, and on MySQL/MariaDB too when TEST_MYSQL_URL is set; first lint, then
## the compose files (docker compose config, or the Compose Specification schema without Docker).
test: install-dev lint check-compose
	$(PY) -m pytest

## Lint (ruff), formatting check (ruff format) and type check of core/ (mypy); settings in pyproject.toml.
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy core

check-compose: install-dev
	$(PY) .ci/check_compose.py

bench: install-dev
	$(PY) bench/receiver.py
	$(PY) bench/e2e.py
	$(PY) bench/dashboard.py
	$(PY) bench/sender.py
	$(PY) bench/reconcile.py
	$(PY) bench/fanout.py
	$(PY) bench/worker.py
	$(PY) bench/endpoint_health.py
	$(PY) bench/cli_status.py

## Rewrite docs/graphql/*.graphql from the code's schemas (a test fails while they differ).
graphql-schema: install
	$(PY) -m core.graphql.sdl

## Rewrite docs/openapi/*.json from the code's OpenAPI documents (a test fails while they differ).
openapi: install
	$(PY) -m core.openapi.files

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
