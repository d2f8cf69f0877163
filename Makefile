# The two commands: `make book` and `make test`. Both create .venv from the pinned lock first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# One OpenMP thread: two threads on two shared cores are often 25-50x slower than one.
export OMP_NUM_THREADS ?= 1
export OMP_WAIT_POLICY ?= PASSIVE
PROFILE ?=
BOOK_ARGS := $(if $(PROFILE),--profile $(PROFILE))

.PHONY: book test check bench venv vendor lab clean

book: venv vendor
	$(PY) scripts/build_book.py $(BOOK_ARGS)

test: venv vendor
	$(PY) -m pytest

# The quick loop: unit tests only, without the book build and the browser.
check: venv
	$(PY) -m pytest -q --ignore=tests/test_book.py

bench: venv
	$(PY) -m memo_utils bench

lab: venv
	$(VENV)/bin/jupyter lab book/

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

vendor: vendor/node_modules/.installed
vendor/node_modules/.installed: vendor/package-lock.json
	npm ci --prefix vendor --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf _build
