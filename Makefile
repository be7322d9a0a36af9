# neuroanim: `make demo` and `make test` each do the whole set-up first, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEB_BUILD := libcairo2-dev libpango1.0-dev pkg-config fonts-dejavu-core
DEB_BROWSER := chromium chromium-driver
STAMP := $(VENV)/.neuroanim-installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@scripts/setup-debian.sh $(DEB_BUILD)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

demo: setup
	$(VENV)/bin/neuroanim build

test: setup
	@scripts/setup-debian.sh $(DEB_BROWSER)
	$(PY) -m pytest -n 2 tests

lint: setup
	$(VENV)/bin/ruff check neuroanim scenes tests benchmarks

bench: setup
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) benchmarks/core.py
	$(PY) benchmarks/render_and_gate.py
	$(PY) benchmarks/build.py

clean:
	rm -rf $(VENV) .cache/neuroanim
