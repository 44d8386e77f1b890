# Gongkai — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint venv system-deps bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

## make run: install, migrate, load the demo data, serve on http://127.0.0.1:5000 with the
## background-job worker (python app.py worker) alongside, stopped when the server stops
run: venv
	$(PY) app.py init
	$(PY) app.py demo
	$(PY) app.py worker & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(PY) app.py serve --host $(HOST) --port $(PORT)

## make lint: ruff lint + format check
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## system-deps: Debian packages for tests (Chromium, pdftoppm, CJK font, PostgreSQL)
system-deps:
	bash tools/system-deps.sh

## make test: lint, the whole suite on SQLite, the integration suite on PostgreSQL
test: venv system-deps lint
	bash tools/run-tests.sh

## make bench: reduced benchmarks (10k/100k requests, SQLite + PostgreSQL), bounded; see bench/RESULTS.md
bench: venv
	bash bench/run.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis test-artifacts
