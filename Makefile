# Set-up is two commands: `make demo` and `make test`. Each creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2
LOCK := requirements/base.lock
DEV_LOCK := requirements/dev.lock
UV_VERSION := 0.13.9
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml requirements/tools.in --universal --python-version 3.11 \
	--generate-hashes --quiet --custom-compile-command "make lock" $(UV_ARGS)

.PHONY: demo test lint bench install clean docs lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs come from the lock files: the exact versions the tests ran on, each file checked against
# its hash (pyproject.toml keeps only lower bounds). scripts/lock.py refuses a lock that is stale
# against pyproject.toml. Stamps: reinstall only when pyproject.toml or a lock changes.
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python scripts/lock.py check $(LOCK)
	$(PIP) --require-hashes -r $(LOCK)
	$(PIP) --no-deps -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(DEV_LOCK) | $(BIN)/python
	$(BIN)/python scripts/lock.py check $(DEV_LOCK)
	$(PIP) --require-hashes -r $(DEV_LOCK)
	$(PIP) --no-deps -e .
	touch $@ $(VENV)/.installed

# Re-resolve the locks after changing dependencies in pyproject.toml (needs network). Versions already
# locked are kept where they still fit; `make lock UV_ARGS=--upgrade` moves everything to the newest.
# uv resolves for every platform and Python >= 3.11 (--universal), so the same lock serves any machine.
lock: | $(BIN)/python
	$(PIP) uv==$(UV_VERSION)
	$(UV_COMPILE) --extra dev --extra spark -o $(DEV_LOCK)
	$(UV_COMPILE) -c $(DEV_LOCK) -o $(LOCK)
	$(BIN)/python scripts/lock.py stamp

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/onward demo

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Style, types (src, tests, scripts), the layering of docs/architecture.md, reviewed security findings,
# known vulnerabilities in the lock, and a lock that matches pyproject.toml.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/security_lint.py bandit
	$(BIN)/python scripts/security_lint.py audit
	$(BIN)/python scripts/lock.py check

# docs/cli.md and README's settings table are generated from the code; tests/test_docs.py checks them.
docs: $(VENV)/.installed
	$(BIN)/python -m onward.cli._docs

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) onward-data .pytest_cache .mypy_cache
