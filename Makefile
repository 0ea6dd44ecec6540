# Operations Management System — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest bench bench-quick bench-scale demo-server clean installer installer-test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the embedded server with demo data and the desktop app signed in to it.
run: $(STAMP)
	$(BIN)/python -m desktop.launch_demo

## Lint, type-check and run the whole test suite. mypy runs beside pytest (one process on the cores
## pytest's workers leave idle as they start and as the last tests finish); either failing fails.
test: $(STAMP) lint
	$(MAKE) --no-print-directory -j2 typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# pytest-xdist workers: auto (one per core) or 0 (serially, in this process).
PYTEST_WORKERS ?= auto

# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE): the
# suite starts dozens of Python processes (ops-server, pytest inside pytest) that would each
# compile the project's modules again.
pytest: $(STAMP)
	PYTHONDONTWRITEBYTECODE= QT_QPA_PLATFORM=offscreen $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## Every DESIGN §9 target at full size / on small data (under two minutes).
bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

## Scale by organization on PostgreSQL: 1,000 organizations, 10M rows (minutes; not in bench).
bench-scale: $(STAMP)
	$(BIN)/python -m bench --only scale_by_org

## The desktop installer for this machine (Linux: dist/ops-desktop-<version>-linux-<arch>.tar.gz),
## built from a clean environment holding only .[desktop,installer] (installers/build.py).
installer:
	$(PYTHON) installers/build.py

## Build the installer, then smoke-test what was built and the install groups (CI runs this after
## `make test`; tests/installers).
installer-test: $(STAMP) installer
	OPS_INSTALLER_TESTS=1 QT_QPA_PLATFORM=offscreen $(BIN)/pytest -m installer tests/installers $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info build dist
