# The README's commands. Each installs what it needs into .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/codex-otel demo --record .demo/session.jsonl

# The viewer's browser tests drive Debian's chromium; the script installs it where missing.
test: $(STAMP)
	.ci/install-chromium
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff format --check codex_otel tests examples benchmarks
	$(BIN)/ruff check codex_otel tests examples benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts .demo
