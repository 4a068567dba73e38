"""Members who fly but do no duty: the selection and the CSV of report_duty_delinquents (its email
and Slack post are in ``duty_roster.notices.delinquency``).

A member is *delinquent* when, in the window from ``today`` minus ``lookback_months`` calendar
months to ``today`` (both days included), they flew at least ``min_flights`` flights as pilot on
finalized logsheets and did no duty on a finalized logsheet of the window. Duty is a crew role
of the logsheet (duty officer, assistant duty officer, duty instructor, surge instructor, tow
pilot, surge tow pilot) or instructor or tow pilot of one of its flights. Only active members
count; the treasurer and members of less than ``min_membership_months`` are exempt (an unknown
join date counts as a long-standing member).

The whole analysis is three queries, whatever the club's size: the members subject to duty
(a count), those of them flying enough (a count), and the delinquents with their flight count
and last flight (one aggregate with the duty set as a ``NOT IN (… UNION …)`` subquery).
"""

from __future__ import annotations

import calendar
import csv
import datetime
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Count, Max, Q, QuerySet

from logsheet.models import CREW_ROLES, Flight, Logsheet
from members.models import Member
from members.uploads import entropy_name

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

CSV_COLUMNS = ("member", "email", "flights", "last flight", "member since", "membership months")


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` calendar months earlier, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class DelinquencyRules:
    """The report's rules. report_duty_delinquents takes each one but ``today`` as an option of
    the same name, with the default given here and the text of ``RULE_HELP``."""

    today: datetime.date
    lookback_months: int = 12
    min_flights: int = 1
    min_membership_months: int = 3

    @property
    def window_start(self) -> datetime.date:
        return months_before(self.today, self.lookback_months)

    @property
    def joined_by(self) -> datetime.date | None:
        """Latest join date with ``min_membership_months`` whole months today (None: no minimum).

        ``joined_club <= joined_by`` is exactly ``Member.membership_months(today) >= minimum``.
        """
        if self.min_membership_months == 0:
            return None
        return months_before(self.today, self.min_membership_months)


RULE_HELP = {
    "lookback_months": "Calendar months back from today that the flights and duties are looked at "
    "(default %(default)s).",
    "min_flights": "Flights as pilot in the window that make a member actively flying (default %(default)s).",
    "min_membership_months": "Members of fewer whole months are not reported "
    "(default %(default)s; 0 reports everyone).",
}


@dataclass(frozen=True, slots=True)
class Delinquent:
    """One line of the report (plain values, not a Member: a large club's list stays small)."""

    member_id: int
    name: str
    email: str
    joined_club: datetime.date | None
    flights: int
    last_flight: datetime.date
    membership_months: int | None

    @property
    def membership_length(self) -> str:
        return membership_length(self.membership_months)


@dataclass(frozen=True)
class DelinquencyReport:
    rules: DelinquencyRules
    subject_to_duty: int  # active members the rule applies to (not the treasurer, not new)
    flying: int  # of them, flying at least min_flights in the window
    delinquents: list[Delinquent] = field(default_factory=list)


def membership_length(months: int | None) -> str:
    if months is None:
        return "unknown"
    years, months = divmod(months, 12)
    parts = [f"{years} year{'s' * (years != 1)}"] if years else []
    if months or not years:
        parts.append(f"{months} month{'s' * (months != 1)}")
    return " ".join(parts)


def window_flights(start: datetime.date, end: datetime.date) -> QuerySet[Flight]:
    return Flight.objects.filter(
        logsheet__finalized=True, logsheet__log_date__gte=start, logsheet__log_date__lte=end
    ).order_by()


def duty_member_ids(start: datetime.date, end: datetime.date) -> QuerySet[Any, int]:
    """Ids of the members who did duty on a finalized logsheet between start and end (one UNION)."""
    sheets = Logsheet.objects.filter(finalized=True, log_date__gte=start, log_date__lte=end).order_by()
    flights = window_flights(start, end)
    # NULLs are left out: one NULL in a NOT IN list would make every comparison unknown.
    parts: list[QuerySet[Any, int]] = [
        sheets.filter(**{f"{role}__isnull": False}).values_list(role, flat=True) for role, _ in CREW_ROLES
    ]
    parts += [
        flights.filter(**{f"{role}__isnull": False}).values_list(role, flat=True)
        for role in ("instructor", "tow_pilot")
    ]
    return parts[0].union(*parts[1:])


def members_subject_to_duty(rules: DelinquencyRules) -> QuerySet[Member]:
    members = Member.objects.active().filter(treasurer=False)
    if rules.joined_by is not None:
        members = members.filter(Q(joined_club__isnull=True) | Q(joined_club__lte=rules.joined_by))
    return members


class FlyerAnnotations(TypedDict):
    window_flights: int
    last_flight: datetime.date


def active_flyers(rules: DelinquencyRules) -> QuerySet[WithAnnotations[Member, FlyerAnnotations]]:
    """Members subject to duty with ``window_flights`` >= min_flights and their ``last_flight``."""
    # Filtering on the flights before annotating makes the Count and Max use the same, filtered
    # join: only flights of finalized logsheets in the window are counted.
    return (
        members_subject_to_duty(rules)
        .filter(
            flights__logsheet__finalized=True,
            flights__logsheet__log_date__gte=rules.window_start,
            flights__logsheet__log_date__lte=rules.today,
        )
        .annotate(window_flights=Count("flights"), last_flight=Max("flights__logsheet__log_date"))
        .filter(window_flights__gte=rules.min_flights)
    )


def find_delinquents(rules: DelinquencyRules) -> DelinquencyReport:
    flyers = active_flyers(rules)
    rows = (
        flyers.exclude(pk__in=duty_member_ids(rules.window_start, rules.today))
        .order_by("-window_flights", "-last_flight", "last_name", "first_name", "pk")
        .values_list(
            "pk",
            "username",
            "first_name",
            "last_name",
            "email",
            "joined_club",
            "window_flights",
            "last_flight",
        )
    )
    probe = Member()  # one instance lends its full_name and membership_months to every row
    delinquents = []
    for pk, username, first_name, last_name, email, joined, flights, last_flight in rows:
        probe.username, probe.first_name, probe.last_name = username, first_name, last_name
        probe.joined_club = joined
        months = probe.membership_months(rules.today)
        delinquents.append(Delinquent(pk, probe.full_name, email, joined, flights, last_flight, months))
    return DelinquencyReport(
        rules=rules,
        subject_to_duty=members_subject_to_duty(rules).count(),
        flying=flyers.count(),
        delinquents=delinquents,
    )


def findings(report: DelinquencyReport, *, each: bool = False) -> list[str]:
    """What the analysis found, for the log; ``each``: a line per delinquent too."""
    lines = [
        f"Analyzed {report.subject_to_duty} members ({report.flying} flying since "
        f"{report.rules.window_start.isoformat()}): {len(report.delinquents)} delinquent"
    ]
    for row in report.delinquents if each else []:
        flights = f"{row.flights} flight{'s' * (row.flights != 1)}"
        lines.append(
            f"{row.name}: {flights}, last {row.last_flight.isoformat()}, member for {row.membership_length}"
        )
    return lines


def report_recipients() -> QuerySet[Member]:
    """The board and the duty officers (active members), each once."""
    return (
        Member.objects.active()
        .filter(Q(director=True) | Q(duty_officer=True))
        .order_by("last_name", "first_name", "pk")
    )


# --- The CSV ---------------------------------------------------------------------------------
def _cell(value: object) -> object:
    """Keep spreadsheets from running a name like ``=HYPERLINK(…)`` as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_csv(report: DelinquencyReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.delinquents:
        writer.writerow(
            [
                _cell(row.name),
                _cell(row.email),
                row.flights,
                row.last_flight.isoformat(),
                row.joined_club.isoformat() if row.joined_club else "",
                "" if row.membership_months is None else row.membership_months,
            ]
        )
    return out.getvalue()


def csv_filename(report: DelinquencyReport) -> str:
    """The name of the CSV attached to each email."""
    return f"duty-delinquents-{report.rules.today.isoformat()}.csv"


def csv_links_work() -> bool:
    """Whether a link to a saved CSV opens for every recipient: only when the default storage
    serves its files at an absolute URL (a bucket, or a media folder published on a web server).
    The web app serves the local media folder to staff only, and a pod's folder is gone with the
    pod; such a link would fail for most readers, so none is made (the CSV is attached instead)."""
    storage = settings.STORAGES["default"]
    if storage["BACKEND"] != "django.core.files.storage.FileSystemStorage":
        return True
    base_url = storage.get("OPTIONS", {}).get("base_url") or settings.MEDIA_URL
    return str(base_url).startswith(("http://", "https://"))


def save_report_csv(report: DelinquencyReport, content: str) -> str:
    """Save the CSV to the default storage under an unguessable name; return its absolute URL."""
    from django.core.files.storage import default_storage

    name = entropy_name(f"reports/duty-delinquents/{report.rules.today.isoformat()}", ".csv")
    saved = default_storage.save(name, ContentFile(content.encode("utf-8")))
    return absolute_url(default_storage.url(saved))


def absolute_url(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return f"{settings.SITE_URL}/{url.lstrip('/')}"
