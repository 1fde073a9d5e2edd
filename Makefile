# Booth Connect: `make run` serves the app with demo data; `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app server
PG_ADMIN_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-sqlite test-postgres install lint bench schema clean

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(FLASK) init-db
	$(FLASK) seed-demo
	$(FLASK) vapid-keys
	PUSH_INPROCESS=1 $(FLASK) run --host 127.0.0.1 --port 5000

# Both databases: SQLite, the embedded default, and PostgreSQL, the central one.
test: install lint test-sqlite test-postgres

test-sqlite: install
	TEST_DATABASE=sqlite $(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

test-postgres: install
	TEST_DATABASE=postgres TEST_PG_ADMIN_URL=$(PG_ADMIN_URL) $(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check server sync tests bench

bench: install
	$(PY) bench/run_all.py

# Regenerates the initial migration from the models (only until the first release).
schema: install
	rm -f server/migrations/versions/0001_initial.py
	tmp=$$(mktemp -u /tmp/booth-schema-XXXX.db) && \
	  DATABASE_URL=sqlite:///$$tmp $(FLASK) db migrate --rev-id 0001 -m initial >/dev/null && \
	  rm -f $$tmp
	ruff_out=$$($(VENV)/bin/ruff format -q server/migrations/versions 2>&1) || true

clean:
	rm -rf $(VENV) *.egg-info instance/booth.db
