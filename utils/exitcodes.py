"""The exit codes every scheduled command uses (the README's table is checked against this)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # done, or skipped because another pod holds the lock
    FAILED = 1  # the job failed (or overran its max_execution_time)
    USAGE = 2  # bad arguments or configuration: retrying will not help
    TEMPFAIL = 75  # temporary failure (database unreachable, lease lost): a retry may succeed
    SIGINT = 130  # interrupted by SIGINT
    SIGTERM = 143  # interrupted by SIGTERM


class CronJobExit(Exception):
    """Ends a scheduled command with ``returncode``; its one line has already been logged.

    Not a ``CommandError``: Django would print it a second time. A caller of ``call_command``
    reads ``returncode`` (as on a ``CommandError``) and, when the job raised, the job's own
    exception as ``__cause__``.
    """

    def __init__(self, returncode: int, message: str) -> None:
        super().__init__(message)
        self.returncode = returncode
