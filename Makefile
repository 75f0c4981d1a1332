# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv, installs what it needs, then runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.nvc-installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/nvc demo --out demo_out

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: lint
	command -v pdftoppm >/dev/null || (apt-get update && apt-get install -y poppler-utils)
	$(VENV)/bin/pytest

clean:
	rm -rf $(VENV) demo_out .pytest_cache .mypy_cache .ruff_cache
