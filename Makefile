# Manage2Soar. Two set-up commands work on a fresh clone with only Python 3.11+ and make:
#   make demo   - create .venv, install, set up the embedded SQLite database, run the demo
#   make test   - the whole test suite (SQLite, then PostgreSQL if it answers)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)

.PHONY: demo test test-sqlite test-postgres lint check venv clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

# The demo runs on the embedded SQLite database in var/ with DEBUG on (no secrets needed).
demo: export DEBUG = 1
demo: venv
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py test_cronjob --units 3
	$(PY) manage.py test_cronjob --units 3 --dry-run
	$(PY) manage.py cron_status

# The whole suite on SQLite, then again on PostgreSQL (127.0.0.1:5432, or TEST_POSTGRES_URL).
# PostgreSQL tests skip with the reason when it is unreachable; REQUIRE_POSTGRES=1 fails instead.
test: venv
	$(PY) -m pytest
	TEST_DB=postgres $(PY) -m pytest -m "not processes"

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
