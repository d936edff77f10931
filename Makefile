# Everything a fresh clone needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3,11) <= sys.version_info[:2] <= (3,12))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test bench lint typecheck check clean install lock tools

install: $(STAMP)

# The tests run on exactly what the image ships: requirements.lock constrains the install.
$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "chirpflow needs Python 3.11 or 3.12 (bytewax 0.21.1 has no wheels for newer)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c requirements.lock
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/chirpflow run $(ARGS)

test: $(STAMP) tools
	$(BIN)/python -m pytest $(ARGS)

# promtool (Debian's prometheus package) checks the alert rules in the tests.
tools:
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "installing promtool (Debian package prometheus)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1 || \
	  { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y --no-install-recommends prometheus >/dev/null; } || \
	  { echo "could not install promtool: apt-get install prometheus"; exit 1; }; }

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .chirpflow .pytest_cache .mypy_cache .ruff_cache

lock:
	rm -rf /tmp/chirpflow-lock && $(PYTHON) -m venv /tmp/chirpflow-lock
	/tmp/chirpflow-lock/bin/pip install --quiet .
	(echo "# Runtime dependencies of chirpflow, pinned (regenerate: make lock)."; \
	 /tmp/chirpflow-lock/bin/pip freeze --exclude-editable | grep -v '^chirpflow') > requirements.lock
