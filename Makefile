# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Re-install only when pyproject.toml changes.
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test lint install clean

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: Forcebridge needs Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)

# Demo mode: SQLite in var/, the ORM broker, generated keys in var/ (DEBUG on unless set), and
# the Salesforce emulator's demo org connected with its typical syncs (serve --demo).
run: $(STAMP_RUN)
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py demo_user
	DEBUG=$${DEBUG:-true} exec $(PY) manage.py serve --demo

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .

# Runs on SQLite + ORM broker, or on PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set.
test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var/test_*.sqlite3*
