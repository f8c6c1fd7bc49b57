# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test install lock messages system-deps browser lint migrations-check pytest schemathesis audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Every package at the version in requirements.lock (`make lock` writes it from pyproject.toml).
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: system-deps $(VENV)/.installed

# One lock for every Python 3.11 and platform (markers where they differ), with hashes.
lock: | $(BIN)/python
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile -q pyproject.toml --universal --python-version 3.11 --generate-hashes -o requirements-production.lock

# gettext's msgfmt compiles the translations, and WeasyPrint draws PDFs with Pango; both are
# installed from Debian's packages when missing.
system-deps:
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  else echo "Please install gettext (msgfmt), e.g. 'sudo apt-get install gettext'." >&2; exit 1; fi; }
	@ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null; \
	  else echo "Please install Pango for PDFs, e.g. 'sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0'." >&2; exit 1; fi; }

# Debian's chromium for the browser tests (no browser downloads are possible or needed).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else echo "Please install chromium, e.g. 'sudo apt-get install chromium'." >&2; exit 1; fi; }

messages: install
	$(MANAGE) compilemessages --ignore='.venv' -v0

# What `make run` serves, on the database in DATABASE_URL: migrate, the demo data (idempotent),
# then the site; with REDIS_URL a Celery worker and beat beside it, else tasks run eagerly.
define SERVE
set -e
$(MANAGE) migrate --noinput
$(MANAGE) seed_demo
if [ -n "$$REDIS_URL" ]; then
  echo "Celery worker and beat on $$REDIS_URL"
  trap 'kill 0' EXIT INT TERM
  $(BIN)/celery -A kto worker --loglevel=INFO --concurrency=2 &
  $(BIN)/celery -A kto beat --loglevel=INFO --schedule=$${TMPDIR:-/tmp}/kto-celerybeat-schedule &
  $(MANAGE) runserver $(HOST):$(PORT)
else
  echo "No REDIS_URL: Celery tasks run eagerly in the web process; e-mail goes to the console."
  exec $(MANAGE) runserver $(HOST):$(PORT)
fi
endef
export SERVE

# Links printed by seed_demo and sent in invitations point at the port actually served. Without
# DATABASE_URL the embedded PostgreSQL (data in .pgdata/) runs for as long as the site does.
run: export KTO_BASE_URL ?= http://$(HOST):$(PORT)
run: install messages
	@if [ -n "$$DATABASE_URL" ]; then sh -c "$$SERVE"; else \
	  echo "Embedded default: PostgreSQL in .pgdata/, stopped when this ends."; \
	  $(BIN)/python kto/embedded_db.py run -- sh -c "$$SERVE"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: install
	DJANGO_SETTINGS_MODULE=kto.settings.test $(MANAGE) makemigrations --check --dry-run

pytest: install messages browser
	$(BIN)/pytest $(PYTEST_ARGS)

# Known vulnerabilities in the lock; a clear "skipped" where the advisory data cannot be reached.
audit: install
	$(BIN)/python .ci/audit

test: install messages browser lint migrations-check audit pytest

# Schemathesis against the project's own OpenAPI schema, in-process (WSGI) with a valid API key:
# no server errors, no answers that contradict the schema. Also part of `make test`.
schemathesis: install messages
	$(BIN)/pytest tests/api/test_schemathesis.py $(PYTEST_ARGS)

clean:
	-$(BIN)/python kto/embedded_db.py stop
	rm -rf $(VENV) .pgdata staticfiles test-artifacts
