"""Fixtures shared by every app's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from utils.testing.databases import ScratchDatabase
from utils.testing.processes import ManageProcess

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

_scratch: dict[str, ScratchDatabase] = {}


@pytest.fixture(scope="session")
def scratch_databases() -> Iterator[dict[str, ScratchDatabase]]:
    yield _scratch
    for database in _scratch.values():
        database.drop()


@pytest.fixture(params=BACKENDS)
def scratch_db(
    request: pytest.FixtureRequest, scratch_databases: dict[str, ScratchDatabase]
) -> ScratchDatabase:
    """A migrated database on each backend, shared by real processes, emptied for each test."""
    backend = request.param
    if backend not in scratch_databases:
        scratch_databases[backend] = ScratchDatabase(backend).create()
    database = scratch_databases[backend]
    database.empty()
    return database


@pytest.fixture
def processes() -> Iterator[list[ManageProcess]]:
    """Started processes are collected here and killed if a test leaves them behind."""
    started: list[ManageProcess] = []
    yield started
    for process in started:
        process.kill()
