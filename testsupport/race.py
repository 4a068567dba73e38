"""Many OS processes racing for one job, round after round (used by the tests and benchmarks).

Each worker is a separate interpreter (multiprocessing's spawn) that sets up Django on the
given database and, every round, waits at a barrier with all the others and then runs the
real ``test_cronjob`` command for that round's occurrence.
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass
from io import StringIO
from typing import Any

from testsupport.databases import manage_env


@dataclass(frozen=True)
class Attempt:
    pid: int
    round: int
    code: int
    skipped: bool


def _worker(database_url: str, rounds: int, barrier: Any, results: Any, extra_env: dict[str, str]) -> None:
    os.environ.update(manage_env(database_url, **extra_env))
    import django

    django.setup()
    from django.core.management import call_command

    from utils.exitcodes import CronJobExit

    for round_number in range(rounds):
        barrier.wait(timeout=120)
        out, err = StringIO(), StringIO()
        try:
            call_command(
                "test_cronjob",
                "--units=1",
                "--unit-seconds=0",
                f"--occurrence=round-{round_number}",
                stdout=out,
                stderr=err,
            )
            code = 0
        except CronJobExit as exc:
            code = exc.returncode
        results.put(Attempt(os.getpid(), round_number, code, "⏸️" in out.getvalue()))


def race(database_url: str, processes: int, rounds: int, **extra_env: str) -> list[Attempt]:
    """Run the race; return every attempt. Raises if a worker dies."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=_worker, args=(database_url, rounds, barrier, results, extra_env))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    attempts = [results.get(timeout=300) for _ in range(processes * rounds)]
    for worker in workers:
        worker.join(timeout=60)
        if worker.exitcode != 0:
            raise RuntimeError(f"race worker {worker.pid} exited with {worker.exitcode}")
    return attempts
