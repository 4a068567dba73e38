"""Running a command in-process the way an operator would, for tests."""

from __future__ import annotations

from dataclasses import dataclass
from io import StringIO
from typing import Any

from django.core.management import BaseCommand, call_command
from django.core.management.base import CommandError

from utils.exitcodes import CronJobExit


@dataclass
class CommandResult:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in (self.out + self.err).splitlines() if line]


def run_command(command: str | BaseCommand, *args: str, **options: Any) -> CommandResult:
    """call_command with output captured and the exit code a shell would see."""
    out, err = StringIO(), StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err, **options)
        code = 0
    except CronJobExit as exc:
        code = exc.returncode
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return CommandResult(code, out.getvalue(), err.getvalue())
