# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test install messages system-deps browser lint migrations migrations-check pytest schemathesis bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: system-deps $(VENV)/.installed

# gettext's msgfmt compiles the translations; installed from Debian's packages when missing.
system-deps:
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  else echo "Please install gettext (msgfmt), e.g. 'sudo apt-get install gettext'." >&2; exit 1; fi; }

# Debian's chromium for the browser tests (no browser downloads are possible or needed).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else echo "Please install chromium, e.g. 'sudo apt-get install chromium'." >&2; exit 1; fi; }

messages: install
	$(MANAGE) compilemessages --ignore='.venv' -v0

# Links printed by seed_demo and sent in invitations point at the port actually served.
run: export KTO_BASE_URL ?= http://$(HOST):$(PORT)
run: install messages
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "Starting Celery worker and beat on $$REDIS_URL"; \
	  trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/celery -A kto worker --loglevel=INFO --concurrency=2 & \
	  $(BIN)/celery -A kto beat --loglevel=INFO --schedule=$${TMPDIR:-/tmp}/kto-celerybeat-schedule & \
	  $(MANAGE) runserver $(HOST):$(PORT); \
	else \
	  echo "Embedded default: SQLite, Celery tasks run eagerly, e-mail to the console."; \
	  $(MANAGE) runserver $(HOST):$(PORT); \
	fi

# Until the first release the schema lives in one initial migration, regenerated from the models;
# the hand-written migrations after it (PostgreSQL storage settings) are set aside meanwhile.
migrations: install
	rm -f surveys/migrations/0001_initial.py
	mkdir -p .migrations-aside && mv surveys/migrations/0002_*.py .migrations-aside/
	$(MANAGE) makemigrations surveys -n initial; status=$$?; \
		mv .migrations-aside/*.py surveys/migrations/ && rmdir .migrations-aside; exit $$status

lint: install
	$(BIN)/ruff check .

migrations-check: install
	$(MANAGE) makemigrations --check --dry-run

pytest: install messages browser
	$(BIN)/pytest $(PYTEST_ARGS)

test: install messages browser lint migrations-check pytest

# Schemathesis against the project's own OpenAPI schema, in-process (WSGI) with a valid API key:
# no server errors, no answers that contradict the schema. Also part of `make test`.
schemathesis: install messages
	$(BIN)/pytest tests/api/test_schemathesis.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts
