# SOCdesk: `make run` serves the product on embedded SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SOCDESK_DATA_DIR ?= ./var

.PHONY: install run test lint format lock bench clean-venv

# The venv is rebuilt when the lock or the project metadata change.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Migrate, create the admin + demo data on the first run, then serve web + worker on http://127.0.0.1:$${PORT:-8000}
run: install
	exec $(BIN)/socdesk run

## The whole suite (unit, HTTP, subprocess, browser); set DATABASE_URL for PostgreSQL. Test data goes to a temp dir.
test: install
	SOCDESK_DATA_DIR=$$(mktemp -d) $(BIN)/python -m pytest $(PYTEST_ARGS)

## ruff (lint + format check), then mypy with django-stubs (configured in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SOCDESK_DATA_DIR=$$(mktemp -d) $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Every benchmark script in bench/ (each prints a table and appends to docs/benchmarks.md).
bench: install
	@set -e; found=0; for script in bench/*.py; do \
		[ -e "$$script" ] || continue; found=1; \
		echo "== $$script"; $(BIN)/python "$$script"; \
	done; [ $$found = 1 ] || echo "No benchmark scripts in bench/ yet."

lock:
	uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11 -q
