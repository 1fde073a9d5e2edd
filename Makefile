# Booth Connect: `make run` serves the app with demo data; `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app server
PG_ADMIN_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-sqlite test-postgres install lint bench schema clean pwa test-js test-e2e chromium convergence convergence-http convergence-concurrent mutation mutation-server prod-check prod-tools soak

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The offline app: built into pwa/dist (never committed) whenever its sources change.
PWA_SOURCES := $(shell find pwa/src pwa/tools -type f) pwa/build.mjs pwa/package.json

pwa/node_modules/.installed: pwa/package.json pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund
	touch $@

pwa/dist/index.html: pwa/node_modules/.installed $(PWA_SOURCES) pwa/package-lock.json
	cd pwa && node build.mjs

pwa: pwa/dist/index.html

run: install pwa
	$(FLASK) init-db
	$(FLASK) seed-demo
	$(FLASK) vapid-keys
	PUSH_INPROCESS=1 $(FLASK) run --host 127.0.0.1 --port 5000

# Both databases: SQLite, the embedded default, and PostgreSQL, the central one.
test: install lint pwa test-js test-sqlite test-postgres test-e2e prod-check

test-sqlite: install
	TEST_DATABASE=sqlite $(PY) -m pytest -p no:cacheprovider --ignore=tests/e2e --ignore=tests/prod $(PYTEST_ARGS)

test-postgres: install
	TEST_DATABASE=postgres TEST_PG_ADMIN_URL=$(PG_ADMIN_URL) $(PY) -m pytest -p no:cacheprovider --ignore=tests/e2e --ignore=tests/prod $(PYTEST_ARGS)

# The app's own checks: JSDoc types (tsc --checkJs) and unit tests (sync engine, catalogues).
test-js: pwa
	cd pwa && node_modules/.bin/tsc -p jsconfig.json
	cd pwa && node --test ../tests/pwa/

# Debian's Chromium for the browser tests (and a Devanagari font for readable screenshots).
# Installed when missing and root; otherwise a missing browser fails the browser tests.
chromium:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=hi | grep -q .; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-lohit-deva fontconfig; \
	  else echo "Chromium or a Devanagari font is missing: apt-get install chromium fonts-lohit-deva" >&2; fi; \
	fi

# The app in real Chromium against the real server, always on PostgreSQL.
test-e2e: install pwa chromium
	TEST_PG_ADMIN_URL=$(PG_ADMIN_URL) $(PY) -m pytest -p no:cacheprovider tests/e2e $(PYTEST_ARGS)

# nginx and PgBouncer (Debian's packages) for the production rehearsal; installed when
# missing and root (their services are not started), otherwise a missing one fails it.
prod-tools:
	@if [ ! -x /usr/sbin/nginx ] || [ ! -x /usr/sbin/pgbouncer ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx pgbouncer openssl; \
	  else echo "nginx or pgbouncer is missing: apt-get install nginx pgbouncer" >&2; fi; \
	fi

# The production stack rehearsed on 127.0.0.1 (tests/prod/stack.py): nginx with a
# self-signed certificate, two gunicorn nodes, PgBouncer, its own PostgreSQL, the push
# worker; the offline flow in Chromium and a Web Push round trip through HTTPS.
prod-check: install pwa chromium prod-tools
	start=$$(date +%s); $(PY) -m pytest -p no:cacheprovider tests/prod $(PYTEST_ARGS); \
	  status=$$?; echo "prod-check: $$(( $$(date +%s) - start )) s"; exit $$status

# Convergence at scale: seeds 0 to N-1 of the random histories against sync/ in memory
# (about 80 s for 10,000 on one core); each failing seed is printed, to replay and shrink
# with `$(PY) -m tests.sync.simulation.memory SEED --shrink`.
CONVERGENCE_HISTORIES ?= 10000
convergence: install
	$(PY) -m tests.sync.simulation.memory --range 0 $(CONVERGENCE_HISTORIES)

# Convergence under concurrency and crashes, on PostgreSQL: histories whose phones push at
# the same moment from threads (each request on its own connection), then the same plans
# against gunicorn with pushes SIGKILLed mid-batch (and the server restarted). Prints the
# figures of docs/benchmarks.md, "Convergence under concurrency and crashes"; each failing
# seed replays with `$(PY) -m tests.server.syncing.concurrent_histories SEED` (or crash_histories).
CONCURRENT_HISTORIES ?= 60
CRASH_HISTORIES ?= 40
convergence-concurrent: install
	TEST_PG_ADMIN_URL=$(PG_ADMIN_URL) $(PY) -m tests.server.syncing.concurrent_histories --range 0 $(CONCURRENT_HISTORIES) && \
	TEST_PG_ADMIN_URL=$(PG_ADMIN_URL) $(PY) -m tests.server.syncing.crash_histories --range 0 $(CRASH_HISTORIES)

# The same seeds over HTTP through the Flask app, on SQLite and then on PostgreSQL, each
# split over CONVERGENCE_SHARDS processes with a database apiece; a failing seed's report
# goes to a folder the run names (replay: `$(PY) -m tests.server.syncing.simulation SEED`).
# CONVERGENCE_MINUTES time-boxes each database's run (the figure says how many ran).
CONVERGENCE_SHARDS ?= 2
SWEEP = $(PY) -m tests.server.syncing.sweep --range 0 $(CONVERGENCE_HISTORIES) \
	--shards $(CONVERGENCE_SHARDS) $(if $(CONVERGENCE_MINUTES),--minutes $(CONVERGENCE_MINUTES))
convergence-http: install
	$(SWEEP) --database sqlite
	$(SWEEP) --database postgres --pg-admin-url $(PG_ADMIN_URL)

lint: install
	$(VENV)/bin/ruff check server sync tests bench deploy

bench: install pwa prod-tools
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test,soak]'
	$(PY) bench/run_all.py

# 1,000 simulated phones for 10 minutes against the production rehearsal (tests/prod/stack.py)
# while workers die, a node stops, PgBouncer and PostgreSQL restart; then every mutation and
# every phone is verified. About 17 minutes; the figures go to docs/benchmarks.md ("Soak").
soak: install pwa prod-tools
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test,soak]'
	$(PY) bench/soak.py $(SOAK_ARGS)

# Mutation testing of the sync rules (too slow for CI): mutmut over sync/ with the
# database-free tests of tests/sync/ (100 memory convergence histories, not 300: a survivor
# runs every test that reaches it), StrykerJS over pwa/src/sync/ with tests/pwa/; the
# scores go to the end of docs/benchmarks.md. mutants/ and reports/ are work folders.
mutation: install pwa/node_modules/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test,mutation]'
	rm -rf mutants reports/mutation
	start=$$(date +%s); MEMORY_HISTORIES=100 $(VENV)/bin/mutmut run --max-children 2 && \
	py=$$(( $$(date +%s) - start )) && start=$$(date +%s) && \
	pwa/node_modules/.bin/stryker run pwa/stryker.config.mjs && \
	js=$$(( $$(date +%s) - start )) && \
	$(PY) bench/mutation_report.py --python-seconds $$py --js-seconds $$js

# Mutation testing of the server's sync and scope code (too slow for CI): mutmut over
# server/syncing/*.py and server/scope.py with the server's quick sync tests on SQLite (not
# the convergence histories: bench/mutation_server.py says why), two mutants at a time
# (each test uses its own temporary database). mutmut 3 reads one
# config, so it runs in a copy of the project (build/mutation-server/) given its own
# [tool.mutmut] by bench/mutation_server.py; the score goes to the end of docs/benchmarks.md.
mutation-server: install
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test,mutation]'
	$(PY) bench/mutation_server.py --fresh
	start=$$(date +%s); cd build/mutation-server && \
	  TEST_DATABASE=sqlite ../../$(VENV)/bin/mutmut run --max-children 2 && \
	  cd ../.. && $(PY) bench/mutation_server_report.py --seconds $$(( $$(date +%s) - start ))

# Regenerates the initial migration from the models (only until the first release).
schema: install
	rm -f server/migrations/versions/0001_initial.py
	tmp=$$(mktemp -u /tmp/booth-schema-XXXX.db) && \
	  DATABASE_URL=sqlite:///$$tmp $(FLASK) db migrate --rev-id 0001 -m initial >/dev/null && \
	  rm -f $$tmp
	ruff_out=$$($(VENV)/bin/ruff format -q server/migrations/versions 2>&1) || true

clean:
	rm -rf $(VENV) *.egg-info instance/booth.db
