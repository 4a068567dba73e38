"""Operator commands that answer a bad input with one line and exit 2, like the jobs do."""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from utils.exitcodes import CronJobExit, ExitCode

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(s|m|h)?")


class OneLineErrorsCommand(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str) -> NoReturn:
            if parser.called_from_command_line:
                sys.stderr.write(f"❌ [{subcommand}] bad arguments: {message} (see --help)\n")
                sys.exit(ExitCode.USAGE)
            raise CommandError(f"Error: {message}", returncode=ExitCode.USAGE)

        parser.error = one_line_error  # type: ignore[method-assign]
        self._name = subcommand
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            super().run_from_argv(argv)
        except CronJobExit as exc:
            sys.exit(exc.returncode)

    def usage_error(self, message: str) -> NoReturn:
        name = getattr(self, "_name", type(self).__module__.rsplit(".", 1)[-1])
        self.stderr.write(f"❌ [{name}] bad arguments: {message}")
        raise CronJobExit(ExitCode.USAGE, message)


def duration(value: str) -> datetime.timedelta:
    """argparse type: 90, 90s, 5m or 2h."""
    match = _DURATION.fullmatch(value.strip())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration (e.g. 5s, 10m, 2h)")
    unit = {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    return datetime.timedelta(seconds=float(match.group(1)) * unit)
