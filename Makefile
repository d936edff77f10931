# Everything a fresh clone needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3,11) <= sys.version_info[:2] <= (3,12))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run test bench lint typecheck check clean install lock tools k8s-rules

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

# Real tools the tests drive, from Debian's packages: promtool (package prometheus)
# checks the alert rules, kubectl renders k8s/ with its built-in kustomize, chromium
# is the browser the dashboard tests drive through Playwright.
APT_TOOLS := promtool:prometheus kubectl:kubectl chromium:chromium
tools:
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	for pair in $(APT_TOOLS); do tool=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$tool >/dev/null 2>&1 && continue; \
	  echo "installing $$tool (Debian package $$pkg)"; \
	  $$SUDO apt-get install -y --no-install-recommends $$pkg >/dev/null 2>&1 || \
	  { $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y --no-install-recommends $$pkg >/dev/null; } || \
	  { echo "could not install $$tool: apt-get install $$pkg"; exit 1; }; \
	done

# k8s/base/prometheusrule.yaml is generated from monitoring/alerts.rules.yml.
k8s-rules: $(STAMP)
	$(BIN)/python monitoring/render_prometheusrule.py

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
