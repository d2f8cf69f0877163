# The two commands: `make book` and `make test`. Both create .venv from the pinned lock first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# One OpenMP thread: two threads on two shared cores are often 25-50x slower than one.
export OMP_NUM_THREADS ?= 1
export OMP_WAIT_POLICY ?= PASSIVE
PROFILE ?=
# PROFILE reaches a shell command line: only a profile's name is let through, never shell text.
ifneq ($(filter-out smoke cpu gpu paper,$(PROFILE))$(word 2,$(PROFILE)),)
$(error PROFILE='$(PROFILE)' is not allowed: choose one of smoke, cpu, gpu, paper)
endif
BOOK_ARGS := $(if $(PROFILE),--profile $(PROFILE))

.PHONY: book test check lint bench venv vendor lab clean

book: venv vendor
	$(PY) scripts/build_book.py $(BOOK_ARGS)

# Everything: the house rules, every test (slow and browser ones too).
test: venv vendor lint
	$(PY) -m pytest

# The quick loop, under 2 minutes on 2 cores: the house rules and the tests not marked slow (no book
# build, no browser, no benchmark or whole-chapter subprocess runs).
check: venv lint
	$(PY) -m pytest -q -m "not slow" -n 2

# The house rules: ruff's lint and formatting (configured in pyproject.toml).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# On a GPU: the full benchmark, written to bench/results-<device>.json. Without CUDA: the quick
# check of the code path (tiny sizes, nothing written), said in one line.
bench: venv
	@if $(PY) -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then \
		$(PY) -m memo_utils bench; \
	else \
		echo "make bench: no CUDA device here, so only the quick check of the code path runs (tiny sizes, no results file); run it on a GPU for the book's cost page"; \
		$(PY) -m memo_utils bench --quick; \
	fi

# JupyterLab on working copies of book/ in lab/ (git-ignored; LAB_RESET=1 refreshes them from book/):
# open the address it prints, then double-click a chapter. Runs write into lab/results/ only.
LAB_ARGS ?=
lab: venv
	$(PY) scripts/lab.py $(if $(filter 1,$(LAB_RESET)),--reset) $(LAB_ARGS)

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

vendor: vendor/node_modules/.installed
vendor/node_modules/.installed: vendor/package-lock.json
	npm ci --prefix vendor --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf _build
