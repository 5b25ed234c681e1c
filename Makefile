# Two commands: `make run` (the whole review, offline on the embedded snapshot by default)
# and `make test`. Both create .venv if it is missing and install the package into it.
# Also `make test-fast` (no full pipeline run: the loop while working) and `make lint`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2
SNAKEMAKE_ARGS ?=
# pytest-xdist workers for make test / test-fast (TEST_WORKERS=0: one process, no workers)
TEST_WORKERS ?= 2
# The review folder (config/, data/, results/): this project's own by default; one made by
# `ohevidence init DIR` with `make run REVIEW=DIR` (the workflow stays here).
REVIEW ?= .
# Rules call the `ohevidence` CLI: put the venv first on PATH for snakemake's jobs.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test test-fast lint report install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Snakemake loads profiles/default/ itself (rerun-incomplete...); unlock-stale first removes the
# locks a killed run left (only when no Snakemake runs here), so `make run` also resumes it.
run: install
	$(BIN)/ohevidence unlock-stale --directory $(REVIEW)
	$(BIN)/snakemake --cores $(CORES) --directory $(REVIEW) $(SNAKEMAKE_ARGS)
	$(BIN)/snakemake --cores $(CORES) --directory $(REVIEW) --report results/report.html $(SNAKEMAKE_ARGS)

# The tests share one full pipeline run, however many workers (tests/conftest.py).
test: install-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

test-fast: install-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not workflow"

lint: install-test
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src benchmarks

clean:
	rm -rf results/* .snakemake logs
