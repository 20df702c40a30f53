# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run web test lint format check clean browser bench bench-pg bench-micro

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## Migrate, load reference data, create the demo data and users that are missing (never
## overwriting), run the daily lifecycle once so statuses are today's, then serve on
## http://$(HOST):$(PORT) with a Celery worker and beat beside it (bin/run)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py setup_demo
	$(BIN)/python manage.py run_lifecycle
	HOST=$(HOST) PORT=$(PORT) bin/run

## The whole suite, plus Django's checks, migrations in step with the models, and ruff.
test: install browser
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

## Benchmarks, run by hand (never by make test); see bench/README.md.
## bench / bench-pg: the project under gunicorn (production settings, 2 workers) against the
## hand-written floor (bench/floor.py), on a PostgreSQL scratch database whose name contains
## "bench" (created and dropped): BENCH_ARGS="--agreements 10000 --rounds 5" for a quick run.
## bench-micro: the older in-process scripts (export memory, list latency), SQLite by default.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/dca_bench
bench: install
	DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} $(BIN)/python -m bench.compare $(BENCH_ARGS)

bench-pg: install
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.compare $(BENCH_ARGS)

bench-micro: install
	$(BIN)/python -m bench.export_memory $(BENCH_EXPORT_ARGS)
	$(BIN)/python -m bench.list_latency $(BENCH_LIST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) db.sqlite3 var .pytest_cache .ruff_cache

## Debian's Chromium for the browser tests, where it is missing and can be installed (root + apt).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
		|| echo "Could not install Chromium: the browser tests will be skipped."; \
	fi
