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

    def __init__(self, job_name: str, why: str = "") -> None:
        super().__init__(
            f"lost the lock of {job_name}: "
            + (why or "its lease ran out (another run may hold it now); stopped without writing more")
        )


class LeaseUnrenewable(LeaseLost):
    """The heartbeat could not renew for most of a lease: stop before the lease can lapse."""

    def __init__(self, job_name: str, seconds: float, cause: str) -> None:
        super().__init__(
            job_name,
            f"the heartbeat could not renew its lease for {seconds:.0f}s ({cause}); "
            "stopped before the lease could run out",
        )


class OccurrenceStillRunning(JobStop):
    """A run of this occurrence still held the lock, alive, after the takeover wait: exit 75,
    so the Job retries later (never 0 while the occurrence may be unfinished)."""

    status = "failed"
    exit_code = ExitCode.TEMPFAIL

    def __init__(self, job_name: str, occurrence: str, holder: str, waited: float) -> None:
        super().__init__(
            f"{job_name} is still running {occurrence} on {holder}: its lease stayed live through "
            f"{waited:.0f}s of waiting; a later retry takes over if that run dies"
        )


class UsageError(Exception):
    """Bad arguments or configuration for a job: exit 2, nothing changed."""


# Django's InterfaceError ("connection already closed": a connection that broke earlier and was
# not replaced) is not a DatabaseError: whatever handles one handles both.
DATABASE_ERRORS = (DatabaseError, InterfaceError)


# Messages of database errors that mean "not set up", not "not reachable".
_SCHEMA_HINTS = ("no such table", "does not exist", "doesn't exist", "unknown column")


def classify_database_error(exc: DatabaseError | InterfaceError) -> tuple[int, str]:
    """(exit code, one line) for a database error that escaped a job."""
    line = first_line(exc)
    if any(hint in line.lower() for hint in _SCHEMA_HINTS):
        return ExitCode.USAGE, f"database is not migrated ({line}); run manage.py migrate"
    if isinstance(exc, OperationalError | InterfaceError):
        return ExitCode.TEMPFAIL, f"database unreachable: {line}"
    return ExitCode.FAILED, f"database error: {line}"
