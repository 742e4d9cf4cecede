# Fresh machine → working molgen. `make demo` trains a D-MPNN on ESOL; `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
# CPU build by default; GPU users: make setup TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
PYTEST_ARGS ?=
BENCH_OUTPUT ?= runs/benchmark-ci

.PHONY: setup demo demo-info test test-fast test-moses lint format docs benchmark-ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev,lint,docs]"
	touch $@

setup: $(VENV)/.installed

# Says what it does and how long before anything runs (the first run also builds the venv).
demo-info:
	@echo "make demo: $(if $(wildcard $(VENV)/.installed),,first installs the venv (torch, RDKit, Lightning: several minutes), then )trains"
	@echo "  a D-MPNN (hidden 300) on ESOL (1,128 molecules, water solubility; from the data mirror or downloaded once),"
	@echo "  seeded random split, up to 50 epochs with early stopping (patience 10): about 8 s per epoch on 2 CPU cores,"
	@echo "  so at most ~7 min. Output: runs/demo-esol-dmpnn (metrics.json, model/, model card; replaced on each run)"

demo: demo-info setup
	$(BIN)/molgen train --data esol --model dmpnn --split random --seed 0 --output runs/demo-esol-dmpnn --overwrite

# The suite runs on TEST_WORKERS processes (pytest-xdist), each with one torch/OpenMP thread: tiny models gain
# nothing from a second thread, and 2 workers x 2 threads on 2 cores spin-wait (the MolGAN overfit went from
# ~30 s to over 600 s next to busy neighbours). --dist worksteal: an idle worker takes tests queued on the other.
# xdist's default (load) handed one worker the first block of tests, all the process-level CLI tests, which then
# ran alone for minutes after the other worker had finished: 12:40-14:03 then, 8:37-8:58 with worksteal (2 quiet
# cores, 1,209 tests, 2026-12-07).
TEST_WORKERS ?= 2
PYTEST := OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

test: setup
	$(PYTEST) -m "not moses_reference" --durations=25 $(PYTEST_ARGS)

# The MOSES "Train row" correctness check of the generation metrics: ~7 min with cached reference
# statistics, ~40 min more on 2 cores the first time (ChemNet activations of Test/TestSF, canonical train set).
test-moses: setup
	$(BIN)/python -m pytest -m moses_reference $(PYTEST_ARGS)

test-fast: setup
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

LINT_PATHS := src tests benchmarks scripts

# ruff (lint + format check) and mypy, as CI runs them; paths that do not exist yet are skipped.
lint: setup
	$(BIN)/ruff check $(wildcard $(LINT_PATHS))
	$(BIN)/ruff format --check $(wildcard $(LINT_PATHS))
	$(BIN)/mypy src

format: setup
	$(BIN)/ruff check --fix $(wildcard $(LINT_PATHS))
	$(BIN)/ruff format $(wildcard $(LINT_PATHS))

# The documentation site (docs/, mkdocs.yml); --strict turns every warning (a broken link or
# docstring reference) into an error. DOCS_OUTPUT defaults to site/.
DOCS_OUTPUT ?= site
docs: setup
	$(BIN)/mkdocs build --strict -d $(DOCS_OUTPUT)

# The ci profiles of the MoleculeNet (~20 min on 2 cores) and expression (~7 min) suites as a regression
# gate: exits 1 when a metric crosses its threshold (benchmarks/*.yaml) or a cell fails. Rerunning with
# the same BENCH_OUTPUT resumes.
benchmark-ci: setup
	$(BIN)/molgen benchmark moleculenet --profile ci --check --output $(BENCH_OUTPUT)/moleculenet
	$(BIN)/molgen benchmark expression --profile ci --check --output $(BENCH_OUTPUT)/expression
	$(BIN)/molgen benchmark moses --profile ci --check --output $(BENCH_OUTPUT)/moses

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache site
