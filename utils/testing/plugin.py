"""pytest plugin (loaded with ``-p`` from pytest.ini, before Django's settings are read).

``TEST_DB`` chooses the database the suite runs on: ``sqlite`` (default) or ``postgres``.
PostgreSQL lives at ``TEST_POSTGRES_URL`` (default postgres://postgres@127.0.0.1:5432/postgres);
tests create their own databases there. When it is unreachable its tests are skipped with the
reason, unless ``REQUIRE_POSTGRES=1``, which turns the skip into a failure.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from utils.testing import databases

REPO = Path(__file__).resolve().parents[2]
# Databases are named after the checkout, so two checkouts can test side by side.
CHECKOUT_ID = hashlib.sha1(str(REPO).encode(), usedforsecurity=False).hexdigest()[:8]
TEST_DB = os.environ.get("TEST_DB", "sqlite")

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("CLUB_TIMEZONE", "America/New_York")
os.environ.pop("CRONJOB_LOG_FORMAT", None)
for _k8s_variable in ("POD_NAME", "JOB_NAME", "CRONJOB_OCCURRENCE", "CRONJOB_SCHEDULED_FOR"):
    os.environ.pop(_k8s_variable, None)
if TEST_DB == "postgres":
    os.environ["DATABASE_URL"] = databases.postgres_url(f"m2s_{CHECKOUT_ID}")
elif TEST_DB == "sqlite":
    os.environ["DATABASE_URL"] = "sqlite:///:memory:"
else:
    raise pytest.UsageError(f"TEST_DB={TEST_DB!r}: use sqlite or postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "processes: starts real manage.py processes")
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL server")


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {TEST_DB} ({os.environ['DATABASE_URL']})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needs_postgres = [item for item in items if TEST_DB == "postgres" or item.get_closest_marker("postgres")]
    if not needs_postgres:
        return
    problem = databases.postgres_problem()
    if problem is None:
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError(f"REQUIRE_POSTGRES=1 but PostgreSQL is unreachable: {problem}")
    skip = pytest.mark.skip(reason=f"PostgreSQL unreachable: {problem}")
    for item in needs_postgres:
        item.add_marker(skip)
