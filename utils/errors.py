"""Why a run ends early, and how each reason maps to a run status and an exit code."""

from __future__ import annotations

import signal

from django.db import DatabaseError, InterfaceError, OperationalError

from utils.cronlog import first_line
from utils.exitcodes import ExitCode


class JobStop(Exception):
    """Raised at a checkpoint (or, after the grace period, where the job stands)."""

    status = "failed"
    exit_code = ExitCode.FAILED


class Interrupted(JobStop):
    status = "interrupted"

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = ExitCode.SIGINT if signum == signal.SIGINT else ExitCode.SIGTERM
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


class TimedOut(JobStop):
    status = "timed_out"
    exit_code = ExitCode.FAILED

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out: exceeded its max_execution_time of {seconds:g}s")


class LeaseLost(JobStop):
    status = "failed"
    exit_code = ExitCode.TEMPFAIL

    def __init__(self, job_name: str) -> None:
        super().__init__(
            f"lost the lock of {job_name}: its lease ran out (another run may hold it now); "
            "stopped without writing more"
        )


class UsageError(Exception):
    """Bad arguments or configuration for a job: exit 2, nothing changed."""


# Messages of database errors that mean "not set up", not "not reachable".
_SCHEMA_HINTS = ("no such table", "does not exist", "doesn't exist", "unknown column")


def classify_database_error(exc: DatabaseError) -> tuple[int, str]:
    """(exit code, one line) for a database error that escaped a job."""
    line = first_line(exc)
    if any(hint in line.lower() for hint in _SCHEMA_HINTS):
        return ExitCode.USAGE, f"database is not migrated ({line}); run manage.py migrate"
    if isinstance(exc, OperationalError | InterfaceError):
        return ExitCode.TEMPFAIL, f"database unreachable: {line}"
    return ExitCode.FAILED, f"database error: {line}"
