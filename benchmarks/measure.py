"""Running a ``manage.py`` process and measuring it from outside: CPU, peak memory, wall time."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from testsupport.databases import REPO


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    wall_seconds: float
    cpu_seconds: float  # user + system of the child itself (wait4)
    records: list[dict[str, Any]] = field(default_factory=list)

    def record(self, event: str) -> dict[str, Any]:
        """The last JSON log record of ``event`` (needs --log-format json)."""
        found = [r for r in self.records if r.get("event") == event]
        if not found:
            raise RuntimeError(f"no {event!r} line in the output: {self.stdout[-500:]} {self.stderr[-500:]}")
        return found[-1]


def run(argv: list[str], env: dict[str, str]) -> Measured:
    """Run ``argv`` to completion; its own CPU time comes from wait4, not the children's total.

    (Not its memory: Linux keeps ru_maxrss across exec(), so a child started by this process
    would report this process's size. Jobs report their own peak with --profile instead.)
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, cwd=REPO, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    records = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                records.append(json.loads(line))
    return Measured(
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        records=records,
    )


def manage(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "manage.py"), *args]


def median(values: list[float]) -> float:
    return statistics.median(values)
