"""Monthly: tell the board and the duty officers who flies but did no duty."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.mail import EmailMessage
from django.core.management.base import CommandParser

from duty_roster.delinquency import (
    DelinquencyReport,
    DelinquencyRules,
    delinquency_report_email,
    delinquency_slack_text,
    find_delinquents,
    render_list,
    report_recipients,
    save_report_csv,
)
from members.models import Member
from notifications.delivery import Notice, Outbox, log_summary, member_key, slack_notice
from utils.cli import non_negative_int, positive_int
from utils.clubtime import club_today
from utils.cronjob import BaseCronJobCommand
from utils.errors import UsageError

MAX_MONTHS = 1200  # a hundred years: beyond that the dates themselves run out


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

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--lookback-months",
            type=positive_int,
            default=12,
            help="Calendar months back from today that the flights and duties are looked at (default 12).",
        )
        parser.add_argument(
            "--min-flights",
            type=positive_int,
            default=1,
            help="Flights as pilot in the window that make a member actively flying (default 1).",
        )
        parser.add_argument(
            "--min-membership-months",
            type=non_negative_int,
            default=3,
            help="Members of fewer whole months are not reported (default 3; 0 reports everyone).",
        )

    def validate_options(self, options: dict[str, Any]) -> None:
        for option in ("lookback_months", "min_membership_months"):
            if options[option] > MAX_MONTHS:
                flag = "--" + option.replace("_", "-")
                raise UsageError(f"{flag} must be at most {MAX_MONTHS}")

    def execute_job(self, *args: Any, **options: Any) -> None:
        rules = DelinquencyRules(
            today=club_today(),
            lookback_months=options["lookback_months"],
            min_flights=options["min_flights"],
            min_membership_months=options["min_membership_months"],
        )
        report = find_delinquents(rules)
        found = len(report.delinquents)
        self.log(
            "findings",
            f"Analyzed {report.subject_to_duty} members ({report.flying} flying since "
            f"{rules.window_start.isoformat()}): {found} delinquent",
        )
        if self.verbosity >= 2:
            for row in report.delinquents:
                flights = f"{row.flights} flight{'s' * (row.flights != 1)}"
                self.log(
                    "findings",
                    f"{row.name}: {flights}, last {row.last_flight.isoformat()}, "
                    f"member for {row.membership_length}",
                )
        self.count("delinquents", found)
        if not report.delinquents:
            log_summary(self, f"Found no delinquent members among {report.flying} flying: nothing to report")
            return
        self.send_report(report)
        log_summary(self, f"Found {found} delinquent member{'s' * (found != 1)} among {report.flying} flying")

    def send_report(self, report: DelinquencyReport) -> None:
        recipients = self.recipients_with_email()
        kind = f"duty_delinquents:{report.rules.today:%Y-%m}"
        listing = render_list(report)
        with Outbox(self) as outbox:
            csv_url = None
            if self.dry_run:
                self.log("dry_run", f"Would save the list as CSV ({len(report.delinquents)} rows)")
            elif outbox.still_to_send([p for p in self.probes(kind, recipients) if outbox.routes(p)]):
                # Only when a copy will go: a rerun that sends nothing leaves no unlinked CSV.
                csv_url = save_report_csv(report)
                self.log_info("Saved the list as CSV")
                self.count("csv_saved")
            for member in recipients:
                email = delinquency_report_email(member, report, listing, csv_url)
                outbox.deliver(Notice(kind, member_key(member.pk), member.full_name, email))
            outbox.deliver(slack_notice(kind, delinquency_slack_text(report, csv_url)))

    @staticmethod
    def probes(kind: str, recipients: list[Member]) -> list[Notice]:
        """Notices routed like the real ones (which need the CSV's link), to ask the ledger."""
        emails = [Notice(kind, member_key(m.pk), m.full_name, EmailMessage()) for m in recipients]
        return [*emails, slack_notice(kind, "the report")]

    def recipients_with_email(self) -> list[Member]:
        recipients = []
        for member in report_recipients():
            if member.email:
                recipients.append(member)
            else:
                self.log_warning(f"{member.full_name} has no email address: not sent the report")
                self.count("no_email")
        if not recipients:
            self.log_warning("No active board member or duty officer has an email address")
        return recipients
