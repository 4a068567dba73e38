"""A demo job: works through a few units, each a fenced write, so the framework can be seen."""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.core.management.base import CommandParser

from utils.cli import positive_int, seconds
from utils.cronjob import BaseCronJobCommand
from utils.models import CronJobRun


class Command(BaseCronJobCommand):
    help = "Demo job for the cron framework: processes --units units of --unit-seconds each."
    job_name = "test_cronjob"
    max_execution_time = datetime.timedelta(minutes=5)

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--units", type=positive_int, default=5)
        parser.add_argument("--unit-seconds", type=seconds, default=0.2)
        parser.add_argument("--fail-at", type=positive_int, help="Raise an error in this unit.")
        parser.add_argument("--max-seconds", type=seconds, help="Override max_execution_time (seconds).")

    def validate_options(self, options: dict[str, Any]) -> None:
        if options["max_seconds"] is not None:
            self.max_execution_time = datetime.timedelta(seconds=options["max_seconds"])

    def execute_job(self, *args: Any, **options: Any) -> None:
        units = options["units"]
        self.log("findings", f"Found {units} units of work")
        for unit in range(1, units + 1):
            self.checkpoint()
            time.sleep(options["unit_seconds"])
            if unit == options["fail_at"]:
                raise RuntimeError(f"unit {unit} failed as requested by --fail-at")
            self.process_unit(unit)
            self.logger.log("info", f"Unit {unit} done", min_verbosity=2)
        self.log_info(f"Processed {self.summary['processed']} of {units} units")

    def process_unit(self, unit: int) -> None:
        with self.unit_of_work():
            if self.run is not None:
                CronJobRun.objects.filter(pk=self.run.pk).update(summary={"processed": unit})
            self.count("processed")
