"""Command-line pieces shared by the duty roster's commands."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from utils.cli import iso_date

if TYPE_CHECKING:
    from django.core.management.base import CommandParser

    from utils.cronjob import BaseCronJobCommand

    _Command = BaseCronJobCommand
else:
    _Command = object


class OperationsDayOption(_Command):
    """``--date``: the operations day a job works on, by default the club's tomorrow. Mixed in
    before ``BaseCronJobCommand``; the job sets ``date_help``."""

    date_help: ClassVar[str]

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--date", type=iso_date, default=None, help=self.date_help)

    def operations_day(self, options: dict[str, Any]) -> datetime.date:
        """``--date``, else the day after the run's own day (fixed as it starts: a run that
        crosses midnight still works on one day)."""
        return options["date"] or self.occurrence_day + datetime.timedelta(days=1)

    def closure_day(self, options: dict[str, Any]) -> datetime.date:
        # The day the job works on, not the day it runs: nothing flies on a closed day (nothing
        # to brief, nothing to call off), and the eve of the club's reopening still runs.
        return self.operations_day(options)
