"""Command-line conventions shared by every command: one-line errors, exit 2, argument types."""

from __future__ import annotations

import argparse
import datetime
import math
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from utils.exitcodes import CronJobExit, ExitCode

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(s|m|h)?")


class OneLineErrorsCommand(BaseCommand):
    """A command whose bad arguments get one line on stderr and exit 2 (not argparse's usage
    block), and whose ``CronJobExit`` ends the process with its code and no second message."""

    def command_label(self, subcommand: str) -> str:
        return subcommand

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        label = self._label = self.command_label(subcommand)

        def one_line_error(message: str) -> NoReturn:
            if parser.called_from_command_line:
                sys.stderr.write(f"❌ [{label}] bad arguments: {message} (see --help)\n")
                sys.exit(ExitCode.USAGE)
            raise CommandError(f"Error: {message}", returncode=ExitCode.USAGE)

        # On this parser only: argparse calls self.error(), and the instance's attribute wins.
        vars(parser)["error"] = one_line_error
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            super().run_from_argv(argv)
        except CronJobExit as exc:
            # Its one line is already written: no "CommandError:" prefix, no traceback.
            sys.exit(exc.returncode)

    def usage_error(self, message: str) -> NoReturn:
        label = getattr(self, "_label", type(self).__module__.rsplit(".", 1)[-1])
        self.stderr.write(f"❌ [{label}] bad arguments: {message}")
        raise CronJobExit(ExitCode.USAGE, message)


# The largest whole number an option takes unless it says otherwise: far beyond any count of
# days, months or units a job needs, and small enough that no date or time arithmetic overflows
# (100,000 days is 273 years).
WHOLE_NUMBER_MAX = 100_000
# The longest a number of seconds or a duration may be: a year.
SECONDS_MAX = 366 * 86400.0
# Dates an option accepts: any day a club's data or schedule can name, with room for the day
# before and after (no date arithmetic overflows).
DATE_MIN, DATE_MAX = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)


def whole_number(minimum: int, maximum: int = WHOLE_NUMBER_MAX) -> Callable[[str], int]:
    """argparse type: a whole number from ``minimum`` to ``maximum``."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"{value!r} must be at least {minimum}")
        if number > maximum:
            raise argparse.ArgumentTypeError(f"{value!r} must be at most {maximum:,}")
        return number

    return parse


positive_int = whole_number(1)
non_negative_int = whole_number(0)


def seconds(value: str) -> float:
    """argparse type: a number of seconds, from 0 to a year."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds")
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} must not be negative")
    if number > SECONDS_MAX:
        raise argparse.ArgumentTypeError(f"{value!r} is more than a year")
    return number


def iso_date(value: str) -> datetime.date:
    """argparse type: a date as YYYY-MM-DD, from 1900 to 2999."""
    try:
        date = datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not DATE_MIN <= date <= DATE_MAX:
        raise argparse.ArgumentTypeError(f"{value!r} is out of range ({DATE_MIN} to {DATE_MAX})")
    return date


def duration(value: str) -> datetime.timedelta:
    """argparse type: 90, 90s, 5m or 2h; at most a year."""
    match = _DURATION.fullmatch(value.strip())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration (e.g. 5s, 10m, 2h)")
    unit = {"s": 1, "m": 60, "h": 3600}[match.group(2) or "s"]
    total = float(match.group(1)) * unit
    if total > SECONDS_MAX:
        raise argparse.ArgumentTypeError(f"{value!r} is more than a year")
    return datetime.timedelta(seconds=total)


def format_age(delta: datetime.timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 120:
        return f"{sign}{seconds}s"
    if seconds < 7200:
        return f"{sign}{seconds // 60}m"
    if seconds < 172800:
        return f"{sign}{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{sign}{seconds // 86400}d"
