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

.PHONY: demo test test-bookworm setup setup-test lint typecheck unit crash-test install-test deb bench soak gen screens clean

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

# The suite on Debian bookworm's library versions (from PyPI, pinned): trio 0.22,
# trio-websocket 0.9.2, pymodbus 3.0, gpiozero 1.6.2, pytest 7.2, httpx 0.23 with
# anyio 3.6, and pyftpdlib for the FTP tests. Not part of `make test`
# (the install test runs the packaged daemon on Debian's own libraries there).
BOOKWORM_PINS := trio==0.22.0 trio-websocket==0.9.2 pymodbus==3.0.0 gpiozero==1.6.2 \
	pyserial==3.5 pyserial-asyncio pytest==7.2.1 pytest-trio==0.8.0 ocpp trustme \
	httpx==0.23.* anyio==3.6.2 pyftpdlib \
	luma.oled==3.11.0 luma.core==2.4.0 pillow==9.4.0 qrcode==7.4.2 cryptography==38.0.4

.venv-bookworm/.stamp: pyproject.toml
	tools/system-deps.sh test
	$(PYTHON) -m venv .venv-bookworm
	.venv-bookworm/bin/python -m pip install -q $(BOOKWORM_PINS)
	.venv-bookworm/bin/python -m pip install -q --no-deps -e .
	touch $@

test-bookworm: .venv-bookworm/.stamp
	timeout 1800 .venv-bookworm/bin/pytest -q -m 'not slow and not install' \
		-W ignore::DeprecationWarning -p no:cacheprovider

# SIGKILL the daemon at random points of charging cycles, then check the oracle.
crash-test: setup-test
	$(PYTEST) -q tests/test_crash.py -m slow --crash-iterations=$${ITERATIONS:-200} $(if $(DIALECT),-k $(DIALECT))

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
	$(PY) tools/gen_v201.py

# the two screen pictures in the README, drawn by ocppd/view and hal/display.py
screens: setup
	$(PY) tools/screens.py

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
