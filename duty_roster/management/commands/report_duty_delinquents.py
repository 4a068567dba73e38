"""Monthly: tell the board and the duty officers who flies but did no duty."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import CommandParser

from duty_roster.delinquency import RULE_HELP, DelinquencyRules, find_delinquents, findings
from duty_roster.notices.delinquency import send_report
from notifications.delivery import log_summary
from utils.cli import non_negative_int, positive_int
from utils.cronjob import BaseCronJobCommand
from utils.errors import UsageError

MAX_MONTHS = 1200  # a hundred years: beyond that the dates themselves run out
# An option per rule of DelinquencyRules (its defaults, delinquency.RULE_HELP's texts), of this type.
RULE_TYPES = {
    "lookback_months": positive_int,
    "min_flights": positive_int,
    "min_membership_months": non_negative_int,
}


class Command(BaseCronJobCommand):
    help = (
        "Report to the board and the duty officers the active members who flew in the last months "
        "but did no duty, with a CSV of the list; post a summary to the club's Slack channel."
    )
    job_name = "report_duty_delinquents"
    schedule = "0 7 1 * *"
    max_execution_time = datetime.timedelta(minutes=30)
    resource_class = "heavy"
    sends_notices = True
    uses_storage = True  # with a bucket, the CSV is saved there and linked

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        for rule, kind in RULE_TYPES.items():
            flag, default = "--" + rule.replace("_", "-"), getattr(DelinquencyRules, rule)
            parser.add_argument(flag, type=kind, default=default, help=RULE_HELP[rule])

    def validate_options(self, options: dict[str, Any]) -> None:
        for option in ("lookback_months", "min_membership_months"):
            if options[option] > MAX_MONTHS:
                raise UsageError(f"--{option.replace('_', '-')} must be at most {MAX_MONTHS}")

    def execute_job(self, *args: Any, **options: Any) -> None:
        rules = DelinquencyRules(self.occurrence_day, **{rule: options[rule] for rule in RULE_TYPES})
        report = find_delinquents(rules)
        for line in findings(report, each=self.verbosity >= 2):
            self.log("findings", line)
        found = len(report.delinquents)
        self.count("delinquents", found)
        if not report.delinquents:
            log_summary(self, f"Found no delinquent members among {report.flying} flying: nothing to report")
            return
        send_report(self, report)
        log_summary(self, f"Found {found} delinquent member{'s' * (found != 1)} among {report.flying} flying")
