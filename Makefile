# neuroanim: `make demo` and `make test` each do the whole set-up first.
# Set-up is idempotent: Debian packages are checked with dpkg-query (milliseconds),
# the venv install is redone only when pyproject.toml changes (a stamp file).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEB_BUILD := libcairo2-dev libpango1.0-dev pkg-config fonts-dejavu-core gifsicle \
  gcc python3-dev python3-venv
DEB_BROWSER := chromium chromium-driver
STAMP := $(VENV)/.neuroanim-installed
# axe-core, for the accessibility audit of the interactive widgets (npm, pinned)
AXE := tests/js/node_modules/axe-core/axe.min.js

.PHONY: setup debian demo test lint bench clean

setup: debian $(STAMP)

debian:
	@scripts/setup-debian.sh $(DEB_BUILD)

$(STAMP): pyproject.toml | debian
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "neuroanim set-up: installing the package into $(VENV) (first run takes a minute)"
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,dask]' 2>&1 \
	  | grep -v "^WARNING: Location .* is ignored" || true
	@$(PY) -c "import manim, neuroanim, distributed" || { echo "neuroanim set-up: install failed" >&2; exit 1; }
	@touch $@

# The built-in lessons by path: a lesson.toml of yours in this folder is not built.
demo: setup
	@echo "make demo: the built-in lesson (chapter 2) into renders/, the chapter 3 preview into renders/chapter-3/"
	$(VENV)/bin/neuroanim build neuroanim/lessons/chapter-2.toml
	$(VENV)/bin/neuroanim build neuroanim/lessons/chapter-3.toml -o renders/chapter-3

test: setup $(AXE)
	@scripts/setup-debian.sh $(DEB_BROWSER)
	$(PY) -m pytest -n 2 tests

$(AXE): tests/js/package.json tests/js/package-lock.json
	@command -v npm >/dev/null || scripts/setup-debian.sh nodejs npm
	@echo "neuroanim set-up: installing axe-core for the browser tests (npm ci)"
	@npm ci --prefix tests/js --no-audit --no-fund --silent
	@touch $@

lint: setup
	$(VENV)/bin/ruff check neuroanim scenes tests benchmarks

bench: setup
	@$(PY) -m pip install -q -e '.[bench]' 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) benchmarks/core.py
	$(PY) benchmarks/render_and_gate.py
	$(PY) benchmarks/render_floor.py
	$(PY) benchmarks/build.py --quality-h --one-core
	$(PY) benchmarks/build.py --dask
	$(PY) benchmarks/startup.py
	$(PY) benchmarks/storyboard.py
	$(PY) benchmarks/serve.py

clean:
	rm -rf $(VENV)
