# Two commands on a fresh machine: `make demo` and `make test`.
# Both bootstrap .venv from requirements.lock once and reuse it afterwards.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EVENTS ?= 1000000
SEED ?= 42
BENCH_FLAGS ?=

.PHONY: demo test lint fmt build lock clean venv bench

$(STAMP): requirements.lock pyproject.toml
	@echo ">> creating $(VENV) from requirements.lock"
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@$(BIN)/microseg demo --events $(EVENTS) --seed $(SEED)

# Modules run on TEST_WORKERS pytest-xdist workers, each module whole on one worker.
TEST_WORKERS ?= 2

test: $(STAMP) lint
	@$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

lint: $(STAMP)
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
bench: $(STAMP)
	@$(BIN)/microseg bench --events $(EVENTS) --seed $(SEED) $(BENCH_FLAGS)

fmt: $(STAMP)
	@$(BIN)/ruff format src pytests models
	@$(BIN)/ruff check --fix src pytests models

# Re-resolve every dependency from pyproject.toml and pin the result.
lock:
	rm -rf build/lockvenv && $(PYTHON) -m venv build/lockvenv
	build/lockvenv/bin/pip install --quiet -e ".[dev]"
	{ echo "# Every dependency pinned. Regenerate: make lock (resolves pyproject.toml into a fresh venv)."; \
	  build/lockvenv/bin/pip freeze --all --exclude-editable | grep -v "^pip=="; } > requirements.lock

clean:
	rm -rf build target logs
