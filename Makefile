# The README's commands. Each installs what it needs itself, from uv.lock, into .venv.
PYTHON ?= python3
# uv, pinned, installed once with pip into .tools (nothing is downloaded but from PyPI).
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := --extra httpx --extra openai --extra anthropic
# uv never downloads an interpreter: it uses the Pythons on the machine.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test lint bench docs docs-serve lock test-latest test-lowest test-pythons clean

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target .tools uv==$(UV_VERSION)

# What the demo needs: the package and its own dependencies. --inexact keeps what `make test`
# added.
demo: $(UV)
	$(UV) sync --quiet --locked --inexact --no-dev --python $(PYTHON)
	$(BIN)/codex-otel demo --record .demo/session.jsonl

# The viewer's browser tests drive Debian's chromium; the script installs it where missing.
test: $(UV)
	$(UV) sync --quiet --locked $(EXTRAS) --python $(PYTHON)
	.ci/install-chromium
	$(BIN)/python -m pytest

lint: $(UV)
	$(UV) sync --quiet --locked $(EXTRAS) --python $(PYTHON)
	$(BIN)/ruff format --check codex_otel tests examples benchmarks
	$(BIN)/ruff check codex_otel tests examples benchmarks
	$(BIN)/mypy

bench: $(UV)
	$(UV) sync --quiet --locked $(EXTRAS) --python $(PYTHON)
	$(BIN)/python -m benchmarks

# The docs site (mkdocs.yml): strict, so a broken link, reference or generated section fails.
# Material's notice about its successor is not a warning about these docs.
DOCS_SYNC := $(UV) sync --quiet --locked --group docs $(EXTRAS) --python $(PYTHON)
docs: $(UV)
	$(DOCS_SYNC)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Serves the site on 127.0.0.1:8000, rebuilt as pages change.
docs-serve: $(UV)
	$(DOCS_SYNC)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8000

# Refresh uv.lock deliberately: the newest versions pyproject.toml's ranges allow.
lock: $(UV)
	$(UV) lock --upgrade

# Both ends of the ranges, each in a venv of its own (before widening a range, before a release).
test-latest: $(UV)
	scripts/test-resolution .venv-latest highest $(PYTHON)

test-lowest: $(UV)
	scripts/test-resolution .venv-lowest lowest-direct $(PYTHON)

# The locked suite under every supported interpreter found on the machine.
test-pythons: $(UV)
	scripts/test-pythons

clean:
	rm -rf $(VENV) .venv-* .tools .pytest_cache .mypy_cache .ruff_cache test-artifacts .demo site
