# Everything runs from the project's own virtual environment; nothing needs activating.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: run test lint bench clean install install-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Always reinstall: the editable finder maps the packages that exist at install time.
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

run: install
	$(BIN)/casetasks migrate
	$(BIN)/casetasks demo
	@echo "GraphiQL: http://$(HOST):$(PORT)/graphql"
	$(BIN)/casetasks serve --host $(HOST) --port $(PORT)

test: install-test
	bash scripts/ensure_browser.sh
	bash scripts/ensure_npm_packages.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The benchmark suite (bench/README.md). Quick: make bench BENCH_ARGS="--size S --quick"
bench: install-test
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BIN)/python -m bench $(BENCH_ARGS)

# Leaves .venv and the local casetasks.db alone; `rm -rf .venv` starts from scratch.
clean:
	rm -rf build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
