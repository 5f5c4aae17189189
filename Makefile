# ocppd developer entry points. On a fresh Debian machine:
#   make demo    set up and run the one-command demo
#   make test    set up, lint, type-check and run the whole suite (and the .deb install test)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# pytest's own timeout guard is our `fail_after`; this bounds a hung run as a whole
PYTEST := timeout 1200 $(BIN)/pytest

# what lint covers (bench/ and tools/ may not exist in every checkout)
CODE := $(wildcard ocppd hal tests bench tools)

.PHONY: demo test setup setup-test lint typecheck unit crash-test install-test deb bench soak gen clean

$(VENV)/.stamp-base: pyproject.toml
	tools/system-deps.sh demo
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-base
	tools/system-deps.sh test
	$(PY) -m pip install -q -e '.[dev,systemd]'
	touch $@

setup: $(VENV)/.stamp-base
setup-test: $(VENV)/.stamp-test

demo: setup
	$(BIN)/ocppd demo

test: setup-test lint typecheck unit install-test

lint: setup-test
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

typecheck: setup-test
	$(BIN)/mypy

unit: setup-test
	$(PYTEST) -q -m 'not slow and not install'

# SIGKILL the daemon at random points of charging cycles, then check the oracle.
crash-test: setup-test
	$(PYTEST) -q tests/test_crash.py -m slow --crash-iterations=$${ITERATIONS:-200}

deb:
	tools/system-deps.sh deb
	tools/build-deb.sh

install-test: setup-test deb
	$(PYTEST) -q -m install tests/install

bench: setup
	$(PY) -m bench

soak: setup
	$(PY) -m bench.soak

gen: setup
	$(PY) tools/gen_v16.py

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
