# The two commands: `make run` and `make test` (see README.md).
SHELL := /bin/bash
# Local development and tests; production sets DEBUG=0 and a real SECRET_KEY (see docs/operations.md).
export DEBUG ?= 1
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

# A Python >= 3.12: PATH first, then pyenv's versions.
PYTHON ?= $(shell for c in python3.13 python3.12 python3 ; do p=$$(command -v $$c 2>/dev/null) && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; exit 0; }; done; for p in $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V -r); do $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; exit 0; }; done)

.PHONY: run test lint install migrate demo worker web clean messages

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is needed: install python3.12 (e.g. 'apt install python3.12' or 'pyenv install 3.12')."; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

messages: install
	@command -v msgfmt >/dev/null || { echo "Installing gettext for the translations"; (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext) >/dev/null; }
	@$(PY) manage.py compilemessages --ignore '.venv' -v 0

migrate: install messages
	@$(PY) manage.py migrate --noinput -v 0

demo: migrate
	@$(PY) manage.py demo

run: demo
	@DEBUG=1 $(BIN)/celery -A network worker -B --loglevel=INFO --concurrency=2 > var/worker.log 2>&1 & echo $$! > var/worker.pid
	@echo "Worker with beat started (log: var/worker.log)."
	@echo "Web:     http://localhost:8000/        API docs: http://localhost:8000/api/v1/docs/"
	@trap 'kill $$(cat var/worker.pid) 2>/dev/null' EXIT INT TERM; DEBUG=1 $(PY) manage.py runserver 0.0.0.0:8000

lint: install
	@$(BIN)/ruff check .

test: lint messages
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { echo "Installing Debian's Chromium for the browser tests"; (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; }
	@$(PY) manage.py makemigrations --check --dry-run -v 0 || { echo "Models changed without migrations: run manage.py makemigrations"; exit 1; }
	@$(BIN)/pytest -q -n 2 $(PYTEST_ARGS)

clean:
	rm -rf var/db.sqlite3 var/broker var/cache
