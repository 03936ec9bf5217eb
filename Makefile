# Set-up and run on a fresh machine: `make run`; the whole test suite: `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
HTMX_VERSION := 4.0.1
FLASK := $(BIN)/flask --app app

.PHONY: help install install-test db upgrade backup run dev test lint typecheck browser html-checker postgres caddy systemd redis load update-htmx communes bench coverage eval-communes

# The targets and what they do (the first line of their `## ` comment).
help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 24

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed  ## the virtualenv with the app

install-test: $(VENV)/.installed-test  ## the virtualenv with the test tools

# A secret key made once per machine, kept out of git.
# Only its owner reads it (0600, in a 0700 directory).
instance/config.py:
	mkdir -p -m 700 instance
	umask 077 && $(BIN)/python -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@

# The fictional demo catalogue only on a fresh instance (no catalogue yet) or with DEMO=1,
# never beside the operator's own (flask load-demo says so and skips it).
db: install instance/config.py  ## create or migrate the database, load communes and (demo mode) the demo catalogue
	$(FLASK) init-db
	$(FLASK) load-communes data/communes.csv.gz
	$(FLASK) load-demo data/catalogue-demo.csv

# After fetching a new release (git pull), on ONE host: a backup, then the migrations (once,
# serialised by a lock), then restart each server (docs/exploitation.md).
upgrade: install instance/config.py  ## after a git pull, on one host: backup, migrations, then restart each server
	$(FLASK) backup
	$(FLASK) init-db
	@echo "Base à jour. Redémarrez maintenant chaque serveur, l'un après l'autre (systemctl restart …)."

backup: install  ## flask backup: a checked, compressed copy of the database
	$(FLASK) backup

# Settings in gunicorn.conf.py, shared with `make bench`.
# With the scheduled work every minute beside it, as cron would (README: E-mails and tick), so
# e-mails reach instance/mail/ (or SMTP_URL) and reminders go out; stopped with the server.
TICK_EVERY ?= 60
run: db  ## serve on http://$(HOST):$(PORT) with gunicorn, tick every $(TICK_EVERY) s
	@echo "flask tick toutes les $(TICK_EVERY) s (e-mails, relances), en parallèle du serveur."
	@while :; do $(FLASK) tick > instance/tick.log 2>&1; sleep $(TICK_EVERY); done & \
	tick=$$!; trap 'kill $$tick 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --config gunicorn.conf.py --workers $(WORKERS) --bind $(HOST):$(PORT) 'app:create_app()'

# Restarts on a static file's change too: its hashed name is computed at start-up.
dev: db  ## Flask's reloading server instead
	$(FLASK) run --debug --host $(HOST) --port $(PORT) --extra-files "$$(find static -type f | paste -sd:)"

# Debian's Chromium for the browser tests (Playwright's own download does not work here).
browser:  ## Debian's Chromium for the browser tests (as root)
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# The Nu HTML Checker (npm vnu-jar, pinned in package.json) for tests/test_html_valid.py,
# on Debian's Java. --ignore-scripts: its postinstall would download a Java of its own.
# npm keeps the tarball's 1985 dates: touch, so make sees it installed.
html-checker: node_modules/vnu-jar/package.json  ## the Nu HTML Checker and Java (as root)
	@if ! command -v java >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "Installation de Java pour le validateur HTML…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; \
	fi

node_modules/vnu-jar/package.json: package.json package-lock.json
	@echo "Installation du validateur HTML (vnu-jar, npm)…"
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# Debian's PostgreSQL server binaries for the tests (no cluster of its own is created).
postgres:  ## PostgreSQL's server binaries for the tests (as root)
	@if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		mkdir -p /etc/postgresql-common/createcluster.d && \
		echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/tests.conf && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	fi

# Debian's Caddy and systemd-analyze for the deployment tests (tests/test_caddy.py,
# tests/test_scale_out.py, tests/test_deploy_units.py; deploy/).
caddy:  ## Debian's Caddy for the deployment tests
	@if ! command -v caddy >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy; \
	fi

systemd:  ## Debian's systemd-analyze for the unit files' test
	@if ! command -v systemd-analyze >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd; \
	fi

# Debian's Redis for the rate-limit tests (tests/redis_server.py starts its own on loopback).
redis:  ## Debian's Redis for the rate-limit tests
	@if ! command -v redis-server >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server && \
		{ systemctl disable --now redis-server >/dev/null 2>&1 || true; }; \
	fi

# The whole suite on SQLite, then on a throwaway PostgreSQL server (scripts/test-postgres.sh).
# Both runs at once, one core each: PostgreSQL's output is kept in a file and shown after
# SQLite's, which shows its progress as it goes.
test: install-test browser html-checker postgres caddy systemd redis  ## ruff, mypy, then the whole suite on SQLite and PostgreSQL
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@echo "== SQLite (PostgreSQL runs alongside, its report follows) =="
	@scripts/test-postgres.sh $(BIN)/python -m pytest -p no:cacheprovider > .pytest-postgresql.log 2>&1 & \
	postgresql=$$!; \
	$(BIN)/python -m pytest; sqlite=$$?; \
	wait $$postgresql; pg=$$?; \
	echo "== PostgreSQL =="; cat .pytest-postgresql.log; \
	echo "SQLite : code $$sqlite, PostgreSQL : code $$pg"; \
	[ $$sqlite = 0 ] && [ $$pg = 0 ]

lint: install-test  ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-test  ## mypy: strict on domain/, non-strict on services/ (pyproject.toml)
	$(BIN)/mypy

# Matcher time per person, the steps against a bare Flask page (gunicorn + wrk, ~1 min), then
# the espace inbox's render time with 10,000 leads (in-process), then one client flooding the
# questionnaire for 60 s, from one address and rotating X-Forwarded-For (2 × 1 min), then
# 100,000 past leads on SQLite and PostgreSQL: submit, inbox, tick, statistics, each against
# its budget.
bench: install-test  ## matcher, steps (gunicorn + wrk), inbox, flood and 100,000-lead timings
	@if [ ! -x /usr/bin/wrk ] && [ "$$(id -u)" = 0 ]; then \
		echo "Installation de wrk (Debian) pour le banc d'essai…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	fi
	$(BIN)/python scripts/bench_matcher.py
	$(BIN)/python scripts/bench_steps.py
	$(BIN)/python scripts/bench_inbox.py
	$(BIN)/python scripts/bench_flood.py
	@echo "== 100 000 demandes passées : SQLite, puis PostgreSQL (serveur jetable) =="
	-$(BIN)/python scripts/bench_capacity.py
	scripts/test-postgres.sh $(BIN)/python scripts/bench_capacity.py

# The youth and mentor journeys at a fixed arrival rate (locust), on SQLite then on a
# throwaway PostgreSQL: journeys/s, p50/p95/p99 per request kind, CPU per journey
# (scripts/load.py). LOAD_ARGS: e.g. --rate 8 --seconds 30 --profile instance/profil.
LOAD_ARGS ?= --seconds 30
load: install-test postgres  ## locust journeys at a fixed rate on SQLite and PostgreSQL
	$(BIN)/pip install -q -e '.[load]'
	scripts/test-postgres.sh $(BIN)/python scripts/load.py $(LOAD_ARGS)

# Share of youths and mentors the demo catalogue leaves on the waiting list (a throwaway DB).
coverage: install  ## share of people the demo catalogue leaves on the waiting list
	$(BIN)/python scripts/coverage.py

# Recall@5 per kind of commune query and territory.search's latency (see the script).
eval-communes: install  ## recall@5 and latency of the commune search
	$(BIN)/python scripts/eval_communes.py

# Re-derive data/communes.csv.gz and domain/geo_names.py from the official open data.
ETALAB := @etalab/decoupage-administratif@6.0.0
ETALAB_DIR := /tmp/etalab-npm/node_modules/@etalab/decoupage-administratif
communes: install  ## re-derive the communes and place names from the open data
	rm -rf /tmp/etalab-npm && mkdir -p /tmp/etalab-npm
	cd /tmp/etalab-npm && npm i -E --silent --no-audit --no-fund $(ETALAB)
	$(BIN)/python scripts/build_communes.py --source $(ETALAB_DIR)
	$(BIN)/python scripts/build_geo_names.py --source $(ETALAB_DIR)

update-htmx:  ## vendor htmx $(HTMX_VERSION)
	rm -rf /tmp/htmx-npm && mkdir -p /tmp/htmx-npm
	cd /tmp/htmx-npm && npm i -E --silent htmx.org@$(HTMX_VERSION)
	rm -f static/vendor/htmx-*.min.js
	cp /tmp/htmx-npm/node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx-$(HTMX_VERSION).min.js
