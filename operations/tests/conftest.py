"""Fixtures of the monitoring tests: loopback HTTP servers and a scheduled demo job."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from testsupport.http import HTTPRecorder
from utils.management.commands.test_cronjob import Command as DemoJob


@pytest.fixture
def http_recorder() -> Iterator[HTTPRecorder]:
    """A real HTTP server on 127.0.0.1 that records every request and answers 200."""
    server = HTTPRecorder().start()
    yield server
    server.stop()


@pytest.fixture
def scheduled_demo(monkeypatch: pytest.MonkeyPatch) -> type[DemoJob]:
    """``test_cronjob`` as a scheduled job (hourly at :00 UTC, 5 min deadline) in the registry.

    Its runs are real: ``--fail-at`` makes one fail and ``--unit-seconds`` makes one slow.
    """
    monkeypatch.setattr(DemoJob, "schedule", "0 * * * *")
    monkeypatch.setattr(DemoJob, "max_execution_time", datetime.timedelta(minutes=5))
    return DemoJob
