"""pytest plugin (loaded with ``-p`` from pytest.ini, before Django's settings are read).

``TEST_DB`` chooses the database the suite runs on: ``sqlite`` (default) or ``postgres``.
PostgreSQL lives at ``TEST_POSTGRES_URL`` (default postgres://postgres@127.0.0.1:5432/postgres)
and MariaDB at ``TEST_MARIADB_URL`` (default mysql://root@127.0.0.1:3306/mysql); tests create
their own databases there. When a server is unreachable its tests are skipped with the reason,
unless ``REQUIRE_POSTGRES=1`` / ``REQUIRE_MARIADB=1``, which turn the skip into a failure.
Tests marked ``pods`` run only when the marker expression names them (``make pods``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from testsupport import databases

REPO = Path(__file__).resolve().parents[1]
# Databases are named after the checkout, so two checkouts can test side by side.
CHECKOUT_ID = hashlib.sha1(str(REPO).encode(), usedforsecurity=False).hexdigest()[:8]
TEST_DB = os.environ.get("TEST_DB", "sqlite")

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
# Production (DEBUG off) refuses to start without them: the tests name the defaults.
os.environ.setdefault("EMAIL_URL", "consolemail://")
os.environ.setdefault("SITE_URL", "http://localhost:8000")
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
    config.addinivalue_line("markers", "mariadb: needs the MariaDB server")
    config.addinivalue_line("markers", "faults: fault injection on real processes (make faults)")
    config.addinivalue_line(
        "markers", "pods: every workload run as its pod would, under bubblewrap (make pods)"
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {TEST_DB} ({os.environ['DATABASE_URL']})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The pod runs build an image and need root: only `make pods` (-m pods) runs them.
    if "pods" not in (config.option.markexpr or ""):
        skip_pods = pytest.mark.skip(reason="run by make pods (pytest -m pods)")
        for item in items:
            if item.get_closest_marker("pods"):
                item.add_marker(skip_pods)
    servers = (
        ("postgres", "PostgreSQL", "REQUIRE_POSTGRES", databases.postgres_problem),
        ("mariadb", "MariaDB", "REQUIRE_MARIADB", databases.mariadb_problem),
    )
    for marker, name, required, problem_of in servers:
        needing = [
            item
            for item in items
            if item.get_closest_marker(marker) or (marker == "postgres" and TEST_DB == "postgres")
        ]
        if not needing:
            continue
        problem = problem_of()
        if problem is None:
            continue
        if os.environ.get(required) == "1":
            raise pytest.UsageError(f"{required}=1 but {name} is unreachable: {problem}")
        skip = pytest.mark.skip(reason=f"{name} unreachable: {problem}")
        for item in needing:
            item.add_marker(skip)
