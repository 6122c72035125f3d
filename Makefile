# Campus Tiers-Lieux — the two set-up commands are `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
HOST ?= 127.0.0.1:8000
# Frozen into the demo's QR codes and mails: the address people open (make run
# HOST=0.0.0.0:8000 SITE_URL=http://my-machine:8000 to serve a network).
SITE_URL ?= http://$(HOST)

.PHONY: run test install install-dev migrate demo serve worker lint format messages bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --no-input

# The demo's certificates freeze their verification address into the QR code: it
# follows the address served (make run HOST=127.0.0.1:8001).
demo: migrate
	SITE_URL=$(SITE_URL) $(PY) manage.py seed_demo

## make run: install, migrate, load the demo and serve http://127.0.0.1:8000
## (another address: make run HOST=127.0.0.1:8001)
run: demo
	@echo "Campus Tiers-Lieux: http://$(HOST)/  (Ctrl-C to stop)"
	SITE_URL=$(SITE_URL) $(PY) manage.py runserver $(HOST)

## make test: install the dev dependencies and run the whole suite, one pytest-xdist
## worker per core (at most 4); tests that start servers and workers share one
test: install-dev
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadgroup

## make worker: a Celery worker with the beat scheduler (needs CELERY_BROKER_URL)
worker: install
	$(VENV)/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make messages: refresh the French catalogue (needs GNU gettext) and compile it
messages: install-dev
	$(PY) manage.py makemessages -l fr --no-obsolete --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages -l fr --ignore=.venv

## make bench: certificate rendering, then the load benchmark on a national-size
## PostgreSQL population (BENCH_SCALE=0.1 for a quick run); see docs/performance.md
BENCH_SCALE ?= 1
BENCH_HOLD ?= 120
bench: install-dev
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk; \
	  else echo "wrk is missing: sudo apt-get install -y wrk"; exit 1; fi; }
	$(PY) bench/certificates.py
	BENCH_SCALE=$(BENCH_SCALE) $(PY) -m bench.population
	$(PY) -m bench.load --hold $(BENCH_HOLD)

clean:
	rm -rf $(VENV) var/
