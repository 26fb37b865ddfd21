# Two commands on a fresh machine: `make demo` and `make test`. Both bootstrap .venv once
# and reuse it: make demo installs what it runs (requirements.lock), make test and make
# lint add the test and lint tools, the Snowflake emulator, MetricFlow and Dagster
# (requirements-dev.lock).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
EVENTS ?= 1000000
SEED ?= 42
BENCH_FLAGS ?=

.PHONY: demo test lint fmt build lock clean venv venv-runtime bench

$(RUNTIME): requirements.lock pyproject.toml
	@echo ">> creating $(VENV) from requirements.lock"
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(PIP) -r requirements.lock
	@$(PIP) --no-deps --no-build-isolation -e .
	@touch $@

$(DEV): $(RUNTIME) requirements-dev.lock
	@echo ">> adding the dev tools to $(VENV) from requirements-dev.lock"
	@$(PIP) -r requirements.lock -r requirements-dev.lock
	@touch $@

venv: $(DEV)
venv-runtime: $(RUNTIME)

demo: $(RUNTIME)
	@$(BIN)/microseg demo --events $(EVENTS) --seed $(SEED)

# Modules run on TEST_WORKERS pytest-xdist workers, each module whole on one worker.
TEST_WORKERS ?= 2

test: $(DEV) lint
	@$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

lint: $(DEV)
	@echo ">> ruff"
	@$(BIN)/ruff check src pytests models
	@$(BIN)/ruff format --check src pytests models
	@echo ">> sqlfluff (dbt templater)"
	@$(BIN)/microseg lint
	@echo ">> sqlfluff (the benchmark's plain DuckDB baseline)"
	@$(BIN)/sqlfluff lint --templater raw src/microseg/bench/baseline.sql
	@echo ">> sqlfluff (the generator's DuckDB SQL, placeholder templater)"
	@$(BIN)/sqlfluff lint --templater placeholder src/microseg/generate/sql
	@echo ">> mypy"
	@$(BIN)/mypy

# Full build, +1% incremental run, +0.1% micro-batch and plain-DuckDB baseline; results in build/bench
# (make bench EVENTS=10000000 for 10M; BENCH_FLAGS=--full-only for a scale run of the full build).
bench: $(RUNTIME)
	@$(BIN)/microseg bench --events $(EVENTS) --seed $(SEED) $(BENCH_FLAGS)

fmt: $(DEV)
	@$(BIN)/ruff format src pytests models
	@$(BIN)/ruff check --fix src pytests models

# Re-resolve every dependency from pyproject.toml and pin the result: what make demo runs
# in requirements.lock, the dev extra's additions (resolved with those pins) in
# requirements-dev.lock.
LOCK_VENV := build/lockvenv
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet -e .
	{ echo "# What make demo installs, every dependency pinned. Regenerate: make lock."; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable | grep -v "^pip=="; } > requirements.lock
	$(LOCK_VENV)/bin/pip install --quiet -c requirements.lock -e ".[dev]"
	$(LOCK_VENV)/bin/pip freeze --all --exclude-editable | grep -v "^pip==" \
	  | grep -vxFf requirements.lock > $(LOCK_VENV)/dev.txt || true
	{ echo "# make test and make lint: the dev extra beyond requirements.lock, pinned. Regenerate: make lock."; \
	  cat $(LOCK_VENV)/dev.txt; } > requirements-dev.lock

clean:
	rm -rf build target logs
