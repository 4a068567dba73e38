"""Fixtures shared by every app's tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testsupport.databases import ScratchDatabase
from testsupport.processes import ManageProcess
from testsupport.smtp import SMTPServer

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


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server on 127.0.0.1; point Django at it with the ``smtp_settings`` fixture."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings: Any, smtp_server: SMTPServer) -> SMTPServer:
    """Django's SMTP backend, talking to the loopback server (instead of pytest's locmem)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    return smtp_server
