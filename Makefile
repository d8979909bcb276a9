# simsource — the two commands of the README, plus bench, app and clean.
# Every target creates .venv if it is missing and installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
N      ?= 100
JOBS   ?= 2

.PHONY: run test test-fast golden bench app clean lint typecheck lint-imports mutate native

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[native]"
	touch $@

## make native: the model's hot modules compiled with mypyc into build/native (about a minute;
## simsource/model/native.py). Rebuilt when a model source changes; until then, and wherever
## the build fails, the model runs as Python with the same numbers.
NATIVE_SOURCES = $(wildcard simsource/model/*.py)
build/native/manifest.json: $(NATIVE_SOURCES) | $(VENV)/.installed-base
	$(BIN)/python -c "from simsource.model.native import main; raise SystemExit(main())" \
		|| echo "make: the compiled model was not built; simsource runs as Python"
native: build/native/manifest.json

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,app,dask,animate,ema,mutate,native]"
	touch $@ $(VENV)/.installed-base

## make run: the ladder of Nacka scenarios, one change per rung, compared step by step
LADDER = nacka-single nacka-split nacka-multi-10 nacka-multi-10-cell1 nacka-multi-10-reinvest \
	nacka-multi
run: $(VENV)/.installed-base build/native/manifest.json
	$(BIN)/simsource compare --ladder $(LADDER) -n $(N) -j $(JOBS) --seed 2017 --out results/nacka
	$(BIN)/simsource plot results/nacka
	$(BIN)/simsource report results/nacka -o results/nacka/report.html
	@echo "results: results/nacka (comparison.csv, plots/, report.html)"

## make test: lint, type-check, the import-layer contracts and every test (as CI does)
test: $(VENV)/.installed-dev build/native/manifest.json
	$(BIN)/ruff check simsource tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest

## make test-fast: every test but the slow, dask and browser ones, on $(JOBS) pytest-xdist
## workers (under a minute). Compiled test modules are cached even where the environment sets
## PYTHONDONTWRITEBYTECODE (it makes every collection recompile and rewrite them).
test-fast: $(VENV)/.installed-dev build/native/manifest.json
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -m "not slow and not dask and not browser" \
		-n $(JOBS) --dist worksteal

## make golden: refresh tests/golden/kpis.json after a deliberate change of the model
golden: $(VENV)/.installed-dev
	$(BIN)/python tests/golden/refresh.py

## make mutate: mutation testing (mutmut) of simsource/model/ against the fast model tests
## ([tool.mutmut] in pyproject.toml); the score and the survivors by tests/mutation_score.py.
## All ~4,400 mutants take several CPU-hours (resumable); MUTANTS='simsource.model.staffing*'
## picks a module; SAMPLE=250 a uniform random sample (seed MUTATE_SEED) with its 95 % interval.
MUTANTS ?=
SAMPLE ?=
MUTATE_SEED ?= 1
mutate: export SIMSOURCE_PURE = 1
mutate: $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e ".[mutate]"
ifeq ($(SAMPLE),)
	$(BIN)/mutmut run --max-children $(JOBS) $(MUTANTS)
	$(BIN)/python tests/mutation_score.py
else
	$(BIN)/mutmut run --max-children $(JOBS) "simsource.model.loop*"
	$(BIN)/mutmut run --max-children $(JOBS) \
		$$($(BIN)/python tests/mutation_score.py --pick $(SAMPLE) --seed $(MUTATE_SEED))
	$(BIN)/python tests/mutation_score.py --sample $(SAMPLE) --seed $(MUTATE_SEED)
endif

lint-imports: $(VENV)/.installed-dev
	$(BIN)/lint-imports

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check simsource tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

$(VENV)/.installed-bench: pyproject.toml | $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e ".[dev,app,dask,animate,ema,bench,native]"
	touch $@

## make bench: benchmark suite (ratios against bare SimPy measured in the same run)
bench: $(VENV)/.installed-bench build/native/manifest.json
	$(BIN)/python -m benchmarks.run

## make app: the teaching web page on http://127.0.0.1:8501
app: $(VENV)/.installed-dev build/native/manifest.json
	$(BIN)/simsource app

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find results -mindepth 1 ! -name README.md -exec rm -rf {} + 2>/dev/null || true
