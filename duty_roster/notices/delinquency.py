"""What report_duty_delinquents sends: the report by email to the board and the duty officers,
with the whole list attached as CSV (and linked where a link opens for everyone), and a summary
(counts, never names) to the club's Slack.

Why attached: the email is the one thing that surely reaches every reader. It needs no bucket,
no web login (most board members are not staff, and the web app serves its media folder to staff
only), nothing expires and nothing can 404. A link is added only when the CSV is saved where its
link opens for whoever has it (``csv_links_work``: a bucket, or a media folder published on a
web server); a link to a pod's own folder, gone with the pod, is never sent."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from duty_roster.delinquency import (
    csv_filename,
    csv_links_work,
    report_csv,
    report_recipients,
    save_report_csv,
)
from notifications.delivery import Notice, Outbox, member_key, slack_notice
from notifications.email import render_email, shared_part

if TYPE_CHECKING:
    from email.mime.base import MIMEBase

    from django.core.mail import EmailMultiAlternatives

    from duty_roster.delinquency import DelinquencyReport
    from members.models import Member
    from notifications.job import SendingJob

TEMPLATE = "duty_roster/email/delinquency_report"
# The email lists at most this many members (most flights first); the CSV always has them all.
# A club of a few hundred never reaches it; it keeps a pathological month from mailing every
# recipient megabytes of table.
EMAIL_LIST_LIMIT = 250

Attachment = tuple[str, str, str]  # (file name, content, MIME type), as EmailMessage.attach takes it


@dataclass(frozen=True)
class RenderedList:
    """The list of delinquents, rendered once for all the recipients' copies (it can be long)."""

    text: str
    html: SafeString
    more: int  # members left out of the email (they are in the CSV)


def render_list(report: DelinquencyReport) -> RenderedList:
    shown = report.delinquents[:EMAIL_LIST_LIMIT]
    more = len(report.delinquents) - len(shown)
    context = {"delinquents": shown, "more": more}
    return RenderedList(
        text=render_to_string(f"{TEMPLATE}_list.txt", context),
        html=mark_safe(render_to_string(f"{TEMPLATE}_list.html", context)),  # noqa: S308 - autoescaped template
        more=more,
    )


def delinquency_report_email(
    recipient: Member,
    report: DelinquencyReport,
    listing: RenderedList,
    csv_url: str | None,
    attachment: Attachment,
    csv_part: MIMEBase | None = None,
) -> EmailMultiAlternatives:
    """One recipient's copy; ``csv_part``: the attachment as the MIME part all the copies share
    (``shared_part``: encoded and written once), else made from ``attachment``."""
    return render_email(
        TEMPLATE,
        to=[recipient.email],
        context={
            "recipient": recipient,
            "report": report,
            "rules": report.rules,
            "count": len(report.delinquents),
            "listing": listing,
            "csv_url": csv_url,
            "csv_name": attachment[0],
        },
        attachments=[csv_part if csv_part is not None else attachment],
    )


def delinquency_slack_text(report: DelinquencyReport, csv_url: str | None) -> str:
    """The report's summary for the club's Slack channel: counts and the CSV, never names."""
    rules = report.rules
    count = len(report.delinquents)
    text = (
        f"*{settings.CLUB_NAME} duty report {rules.today:%B %Y}*: {count} member{'s' * (count != 1)} "
        f"flew since {rules.window_start.isoformat()} without doing duty "
        f"(of {report.flying} flying, {report.subject_to_duty} subject to duty)."
    )
    if csv_url:
        return f"{text} List: {csv_url}"
    return f"{text} The list went to the board and the duty officers by email."


def report_kind(report: DelinquencyReport) -> str:
    """The ledger kind: one report per month."""
    return f"duty_delinquents:{report.rules.today:%Y-%m}"


def report_month(report: DelinquencyReport) -> datetime.date:
    """The ledger day: the first of the report's month, so that a rerun later in the month (the
    2nd, after a partial failure on the 1st) sends only the copies not sent yet."""
    return report.rules.today.replace(day=1)


def send_report(job: SendingJob, report: DelinquencyReport) -> None:
    """The email to each recipient with an address, and the Slack post; the CSV saved first if
    any of them is still to go."""
    kind, month = report_kind(report), report_month(report)
    with Outbox(job) as outbox:
        recipients = outbox.with_email(report_recipients(), ": not sent the report")
        if not recipients:
            job.log_warning("No active board member or duty officer has an email address")
        listing = render_list(report)
        attachment, csv_url = csv_for_readers(job, outbox, report, probes(kind, month, recipients))
        csv_part = shared_part(attachment[0], attachment[1], "csv")  # one part in every copy
        for member in recipients:
            email = delinquency_report_email(member, report, listing, csv_url, attachment, csv_part)
            outbox.deliver(Notice(kind, member_key(member.pk), member.full_name, email, day=month))
        outbox.deliver(slack_notice(kind, delinquency_slack_text(report, csv_url), day=month))


def probes(kind: str, month: datetime.date, recipients: list[Member]) -> list[Notice]:
    """Notices routed like the real ones (which need the CSV's link), to ask the ledger."""
    emails = [Notice(kind, member_key(m.pk), m.full_name, EmailMessage(), day=month) for m in recipients]
    return [*emails, slack_notice(kind, "the report", day=month)]


def csv_for_readers(
    job: SendingJob, outbox: Outbox, report: DelinquencyReport, probes: list[Notice]
) -> tuple[Attachment, str | None]:
    """The CSV attached to every email, and its link where one opens for everyone. It is saved
    only when a copy will go: a rerun that sends nothing leaves no unlinked CSV behind."""
    content = report_csv(report)
    attachment = (csv_filename(report), content, "text/csv")
    rows = len(report.delinquents)
    if job.dry_run:
        job.log("dry_run", f"Would attach the list as CSV ({rows} rows) to each email")
        if csv_links_work():
            job.log("dry_run", f"Would save the list as CSV ({rows} rows)")
        return attachment, None
    if not outbox.still_to_send([probe for probe in probes if outbox.routes(probe)]):
        return attachment, None
    job.log("info", f"Attached the list as CSV ({rows} rows)")
    if not csv_links_work():
        return attachment, None
    csv_url = save_report_csv(report, content)
    job.log("info", "Saved the list as CSV")
    job.count("csv_saved")
    return attachment, csv_url
