# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Re-install only when pyproject.toml changes.
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
# The browser tests drive Debian's Chromium (tests/conftest.py reads the same variable).
CHROMIUM_PATH ?= /usr/bin/chromium

.PHONY: run test lint chromium install clean

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

# Installs Debian's chromium where it is missing and apt-get can be used (root), as CI does;
# elsewhere stops before pytest with one line saying how (browser tests never skip).
chromium:
	@if ! command -v "$(CHROMIUM_PATH)" >/dev/null; then \
	  if [ "$(CHROMIUM_PATH)" = /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian chromium for the browser tests"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "Chromium not found at $(CHROMIUM_PATH): install Debian's (sudo apt-get install chromium) or set CHROMIUM_PATH to a Chromium"; \
	    exit 1; \
	  fi; \
	fi

# Runs on SQLite + ORM broker, or on PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set.
test: lint chromium
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var/test_*.sqlite3*
