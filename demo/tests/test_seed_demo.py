"""seed_demo: the demo club, and exactly the findings each scheduled job should report on it.

The findings are re-derived here with direct ORM queries that implement each job's rule, so the
test does not trust the builder's own summary.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q

from duty_roster.models import DutyAssignment
from instructors.late_sprs import FINAL_LEVEL, cc_members, leaders_by_role, overdue_reports
from instructors.models import InstructionReport
from logsheet.models import CREW_ROLES, Airfield, Flight, Glider, Logsheet, Towplane
from maintenance.models import AircraftMeister, MaintenanceDeadline, MaintenanceIssue
from members.models import Member, validate_e164
from members.tests.factories import MemberFactory
from notifications.models import Notification
from testsupport.commands import run_command
from utils.models import CronJobLock, CronJobRun

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 20)
TOMORROW = TODAY + datetime.timedelta(days=1)
DAYS = datetime.timedelta(days=1)
CREW_FIELDS = [name for name, _ in CREW_ROLES]


def seed(*args: str) -> str:
    result = run_command("seed_demo", "--today", TODAY.isoformat(), *args)
    assert result.code == 0, result.err
    return result.out


# --- Each job's rule, as a query ---------------------------------------------------------------
def aging_logsheets(today: datetime.date = TODAY) -> list[Logsheet]:
    """notify_aging_logsheets: not finalized and more than 7 days old."""
    return list(Logsheet.objects.filter(finalized=False, log_date__lt=today - 7 * DAYS))


def overdue_sprs(today: datetime.date = TODAY) -> dict[tuple[int, int, datetime.date], int]:
    """notify_late_sprs: (student, instructor, day) -> days overdue, for lessons on finalized
    logsheets of the last 90 days that are 7+ days old and have no report."""
    report = InstructionReport.objects.filter(
        student=OuterRef("pilot"),
        instructor=OuterRef("instructor"),
        report_date=OuterRef("logsheet__log_date"),
    )
    lessons = (
        Flight.objects.filter(
            instructor__isnull=False,
            logsheet__finalized=True,
            logsheet__log_date__gte=today - 90 * DAYS,
            logsheet__log_date__lte=today - 7 * DAYS,
        )
        .exclude(Exists(report))
        .values_list("pilot", "instructor", "logsheet__log_date")
        .distinct()
    )
    return {lesson: (today - lesson[2]).days for lesson in lessons}


def duty_delinquents(today: datetime.date = TODAY, since: datetime.date | None = None) -> list[Member]:
    """report_duty_delinquents: active, not the treasurer, a member 3+ months (or unknown), flew on
    a finalized logsheet in the last 12 months (from ``since``) and did no duty on one."""
    since = since or today.replace(year=today.year - 1)
    year = Logsheet.objects.filter(finalized=True, log_date__gte=since, log_date__lte=today)
    duty: set[int] = set()
    for field in CREW_FIELDS:
        duty |= set(year.exclude(**{field: None}).values_list(field, flat=True))
    year_flights = Flight.objects.filter(logsheet__in=year)
    duty |= set(year_flights.exclude(instructor=None).values_list("instructor", flat=True))
    duty |= set(year_flights.exclude(tow_pilot=None).values_list("tow_pilot", flat=True))
    flew = Member.objects.active().filter(treasurer=False, pk__in=year_flights.values("pilot"))
    return [
        member
        for member in flew.exclude(pk__in=duty)
        if member.joined_club is None or member.membership_months(today) >= 3
    ]


def crew_of(day: DutyAssignment) -> list[Member]:
    return [member for _, member in day.crew() if isinstance(member, Member)]


# --- Scale 1 ------------------------------------------------------------------------------------
def test_scale_1_builds_a_club_like_production() -> None:
    out = seed()
    assert 70 <= Member.objects.count() <= 80
    assert Member.objects.filter(membership_status="full").count() > Member.objects.count() / 2
    roles = {role: Member.objects.with_role(role).count() for role in Member.ROLE_FIELDS}
    assert roles == {
        "instructor": 8,
        "towpilot": 6,
        "duty_officer": 10,
        "assistant_duty_officer": 10,
        "treasurer": 1,
        "member_manager": 1,
        "director": 7,
        "chief_instructor": 1,
        "maintenance_team": 4,
    }
    assert Member.objects.filter(membership_status="student").count() == 10
    assert Member.objects.exclude(membership_status__in=["full", "student"]).exists()
    assert not Member.objects.filter(instructor=True, supervisor=None).exists()
    assert Airfield.objects.count() >= 2
    assert 6 <= Glider.objects.count() <= 8 and Towplane.objects.count() == 2

    last_year = Logsheet.objects.filter(log_date__gte=TODAY - 365 * DAYS)
    assert 90 <= last_year.values("log_date").distinct().count() <= 115
    per_day = last_year.annotate(n=Count("flights")).values_list("n", flat=True)
    assert min(per_day) >= 6 and max(per_day) <= 15
    assert 8 <= sum(per_day) / len(per_day) <= 15
    assert "Built the demo club" in out and "19 members who flew" in out


def test_members_look_real() -> None:
    seed()
    members = list(Member.objects.all())
    assert len({m.username for m in members}) == len(members)
    assert all(m.email.endswith("@example.org") for m in members if m.email)
    assert all(m.first_name and m.last_name for m in members)
    phones = [m.phone for m in members if m.phone]
    assert len(phones) > len(members) / 2
    for phone in phones:
        assert phone.startswith("+1540555")
        validate_e164(phone)
    assert not any(m.has_usable_password() for m in members)
    joined = sorted(m.joined_club for m in members if m.joined_club)
    assert (joined[-1] - joined[0]).days > 15 * 365


def test_every_logsheet_has_its_crew_and_only_recent_ones_are_open() -> None:
    seed()
    pools = {
        "duty_officer": "duty_officer",
        "assistant_duty_officer": "assistant_duty_officer",
        "duty_instructor": "instructor",
        "tow_pilot": "towpilot",
    }
    for field, role in pools.items():
        assert not Logsheet.objects.filter(**{field: None}).exists()
        wrong = Logsheet.objects.filter(**{f"{field}__{role}": False})
        assert not wrong.filter(log_date__gte=TODAY - 365 * DAYS).exists(), field
    assert not Logsheet.objects.filter(created_by=None).exists()
    open_sheets = Logsheet.objects.filter(finalized=False)
    assert all(
        (TODAY - s.log_date).days <= 7 for s in open_sheets.exclude(pk__in=[s.pk for s in aging_logsheets()])
    )


def test_exactly_one_aging_logsheet_eleven_days_old() -> None:
    seed()
    aging = aging_logsheets()
    assert len(aging) == 1
    assert aging[0].log_date == TODAY - 11 * DAYS
    assert aging[0].duty_officer is not None and aging[0].flights.exists()


def test_exactly_one_overdue_spr_and_it_is_at_final_level() -> None:
    seed()
    overdue = overdue_sprs()
    assert len(overdue) == 1
    [(student, instructor, day)] = overdue
    assert 30 <= overdue[(student, instructor, day)] < 90
    assert Member.objects.get(pk=student).membership_status == "student"
    assert Flight.objects.filter(pilot=student, instructor=instructor, logsheet__log_date=day).count() == 1
    # However a job reads the rule (any age, finalized or not), no other lesson 7+ days old lacks
    # its report; only lessons of the last few days may still be waiting, which is normal.
    report = InstructionReport.objects.filter(
        student=OuterRef("pilot"),
        instructor=OuterRef("instructor"),
        report_date=OuterRef("logsheet__log_date"),
    )
    unreported = Flight.objects.filter(instructor__isnull=False).exclude(Exists(report))
    late = {(f.pilot_id, f.instructor_id, f.logsheet.log_date) for f in unreported.select_related("logsheet")}
    assert {lesson for lesson in late if TODAY - lesson[2] >= 7 * DAYS} == {(student, instructor, day)}


def test_exactly_nineteen_duty_delinquents_and_the_edge_cases_are_left_out() -> None:
    seed()
    delinquents = duty_delinquents()
    assert len(delinquents) == 19
    delinquent_ids = {m.pk for m in delinquents}
    # The same 19 however a job counts "the last 12 months".
    for since in (TODAY - 365 * DAYS, TODAY - 366 * DAYS, datetime.date(2025, 11, 1), TODAY - 359 * DAYS):
        assert {m.pk for m in duty_delinquents(since=since)} == delinquent_ids
    treasurer = Member.objects.get(treasurer=True)
    new_member = Member.objects.get(joined_club=TODAY - 60 * DAYS)
    year_flights = Flight.objects.filter(logsheet__finalized=True, logsheet__log_date__gte=TODAY - 358 * DAYS)
    flew = set(year_flights.values_list("pilot", flat=True))
    for left_out in (treasurer, new_member):
        assert left_out.pk in flew and left_out.pk not in delinquent_ids
    # Flew this year, but inactive, disabled or not a member.
    not_active = Member.objects.filter(
        Q(is_active=False) | ~Q(membership_status__in=settings.ACTIVE_MEMBERSHIP_STATUSES)
    )
    assert len({m.pk for m in not_active} & flew) >= 3
    # Flew only on the aging (unfinalized) logsheet: not counted.
    aging = aging_logsheets()[0]
    only_open = {f.pilot_id for f in aging.flights.all() if f.pilot_id not in flew}
    assert only_open and not only_open & delinquent_ids
    # Duty only on the aging logsheet does not count: that assistant duty officer is delinquent.
    assert aging.assistant_duty_officer_id in delinquent_ids
    # The last duty more than a year ago does not count either.
    old_officers = set(
        Logsheet.objects.filter(log_date__lt=TODAY - 400 * DAYS).values_list("duty_officer", flat=True)
    )
    assert old_officers & delinquent_ids
    assert any(m.joined_club is None for m in delinquents)


def test_the_roster_has_tomorrow_an_ad_hoc_day_to_expire_and_a_confirmed_one() -> None:
    seed()
    tomorrow = list(DutyAssignment.objects.operating().filter(date=TOMORROW))
    assert len(tomorrow) == 1 and tomorrow[0].is_scheduled
    assert 4 <= len(crew_of(tomorrow[0])) <= 6 and tomorrow[0].duty_officer is not None
    assert all(crew_of(day) for day in DutyAssignment.objects.filter(is_scheduled=True))
    assert not DutyAssignment.objects.filter(date__lte=TODAY).exists()
    ad_hoc = list(DutyAssignment.objects.unconfirmed_ad_hoc().filter(date=TOMORROW))
    assert len(ad_hoc) == 1 and ad_hoc[0].proposed_by is not None and len(crew_of(ad_hoc[0])) == 2
    assert ad_hoc[0].location != tomorrow[0].location
    assert DutyAssignment.objects.unconfirmed_ad_hoc().count() == 1
    confirmed = DutyAssignment.objects.filter(is_scheduled=False, is_confirmed=True)
    assert confirmed.count() == 1
    assert 2 <= (confirmed.get().date - TODAY).days <= 7 and len(crew_of(confirmed.get())) >= 4


def test_maintenance_has_open_issues_deadlines_and_meisters() -> None:
    seed()
    assert MaintenanceIssue.objects.open().count() == 3
    assert MaintenanceIssue.objects.grounding().count() == 1
    assert MaintenanceIssue.objects.filter(resolved=True).count() == 1
    assert MaintenanceDeadline.objects.filter(due_date__lt=TODAY).count() == 1
    assert (
        MaintenanceDeadline.objects.filter(due_date__gte=TODAY, due_date__lte=TODAY + 30 * DAYS).count() == 2
    )
    assert MaintenanceDeadline.objects.filter(due_date__gt=TODAY + 30 * DAYS).count() >= 5
    meisters = AircraftMeister.objects.all()
    assert {m.glider_id for m in meisters if m.glider_id} == set(Glider.objects.values_list("pk", flat=True))
    assert {m.towplane_id for m in meisters if m.towplane_id} == set(
        Towplane.objects.values_list("pk", flat=True)
    )
    grounded = MaintenanceIssue.objects.grounding().get().glider
    assert not Flight.objects.filter(glider=grounded, logsheet__log_date__gte=TODAY - 9 * DAYS).exists()


# --- Determinism and scale ----------------------------------------------------------------------
def key_facts() -> dict[str, object]:
    return {
        "members": sorted(
            Member.objects.values_list("username", "membership_status", "joined_club", "phone")
        ),
        "flights": sorted(Counter(Flight.objects.values_list("pilot__username", flat=True)).items()),
        "logsheets": sorted(
            Logsheet.objects.values_list(
                "log_date", "airfield__identifier", "duty_officer__username", "created_at"
            )
        ),
        "times": sorted(Flight.objects.values_list("logsheet__log_date", "launch_time", "glider__n_number")),
        "reports": sorted(
            InstructionReport.objects.values_list(
                "student__username", "instructor__username", "report_date", "created_at"
            )
        ),
        "roster": sorted(
            DutyAssignment.objects.values_list("date", "location__identifier", "duty_officer__username")
        ),
    }


def test_the_same_seed_gives_the_same_club_and_another_seed_another() -> None:
    seed("--seed", "7")
    first = key_facts()
    seed("--seed", "7", "--reset", "--confirm-reset")
    assert key_facts() == first
    seed("--seed", "8", "--reset", "--confirm-reset")
    other = key_facts()
    assert other["members"] != first["members"] and other["flights"] != first["flights"]


def test_scale_2_doubles_everything_with_distinct_fields_aircraft_and_members() -> None:
    seed()
    scale_1 = set(Member.objects.values_list("username", flat=True))
    seed("--scale", "2", "--reset", "--confirm-reset")
    assert Member.objects.count() == 2 * len(scale_1)
    assert scale_1 < set(Member.objects.values_list("username", flat=True))  # section 1 unchanged
    assert Airfield.objects.count() == 4 and Glider.objects.count() == 14 and Towplane.objects.count() == 4
    assert len(aging_logsheets()) == 2
    overdue = overdue_sprs()
    assert len(overdue) == 2 and all(days >= 30 for days in overdue.values())
    assert len(duty_delinquents()) == 38
    assert DutyAssignment.objects.operating().filter(date=TOMORROW).count() == 2
    assert DutyAssignment.objects.unconfirmed_ad_hoc().filter(date=TOMORROW).count() == 2
    assert MaintenanceIssue.objects.grounding().count() == 2


def test_a_scaled_club_has_one_board_and_sections_of_crews() -> None:
    """Scale multiplies members, flying and crews, not the club's offices: at scale 3 one board of
    7, one chief instructor and one member manager (the first section's), and three sections'
    worth of instructors, duty officers and treasurers of the sections' accounts."""
    seed("--scale", "3")
    roles = {role: Member.objects.with_role(role).count() for role in Member.ROLE_FIELDS}
    assert roles == {
        "instructor": 24,
        "towpilot": 18,
        "duty_officer": 30,
        "assistant_duty_officer": 30,
        "treasurer": 3,
        "member_manager": 1,
        "director": 7,
        "chief_instructor": 1,
        "maintenance_team": 12,
    }
    assert set(Member.objects.filter(director=True).values_list("username", flat=True)) == set(
        Member.objects.filter(director=True, username__regex=r"^[a-z]+\.[a-z]+$").values_list(
            "username", flat=True
        )
    )  # all of the first section (usernames first.last; first.last.2 in the second, ...)
    # Every instructor of every section still has a supervisor in their own section.
    assert not Member.objects.filter(instructor=True, supervisor=None).exists()
    assert len(overdue_sprs()) == 3 and len(duty_delinquents()) == 3 * 19
    # A FINAL-level SPR reminder copies the instructor's supervisor and the club's leaders: the
    # club's leaders: under ten people in every section, not every leader of every section.
    leaders = leaders_by_role()
    overdue = overdue_reports(TODAY)
    assert [item.highest_level for item in overdue] == [FINAL_LEVEL] * 3
    assert max(len(cc_members(item, leaders)) for item in overdue) <= 10


def test_today_defaults_to_the_club_day() -> None:
    # 03:00 UTC on the 21st is still the evening of the 20th in New York.
    with time_machine.travel(datetime.datetime(2026, 11, 21, 3, tzinfo=datetime.UTC), tick=False):
        result = run_command("seed_demo")
    assert result.code == 0, result.err
    assert [s.log_date for s in aging_logsheets()] == [TODAY - 11 * DAYS]
    assert DutyAssignment.objects.unconfirmed_ad_hoc().get().date == TOMORROW


# --- Refusals -----------------------------------------------------------------------------------
def test_refuses_a_database_with_members_unless_reset() -> None:
    MemberFactory(username="already.here")
    result = run_command("seed_demo", "--today", TODAY.isoformat())
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and "--reset" in result.err
    assert list(Member.objects.values_list("username", flat=True)) == ["already.here"]
    assert not Logsheet.objects.exists()


def test_reset_with_debug_off_needs_its_confirmation_and_changes_nothing_without_it(settings: Any) -> None:
    settings.DEBUG = False  # a production-like database
    seed()
    before = Member.objects.count()
    result = run_command("seed_demo", "--today", TODAY.isoformat(), "--reset", "--seed", "2")
    assert result.code == 2
    [line] = result.err.strip().splitlines()
    assert "--reset deletes every member" in line and "add --confirm-reset" in line
    assert Member.objects.count() == before and len(duty_delinquents()) == 19
    assert seed("--reset", "--confirm-reset", "--seed", "2")


def test_reset_with_debug_on_needs_no_confirmation(settings: Any) -> None:
    settings.DEBUG = True  # a development checkout (make demo)
    seed()
    assert seed("--reset", "--seed", "2")


def test_reset_replaces_the_club_and_keeps_superusers() -> None:
    seed()
    admin = Member.objects.create_superuser("admin", "admin@example.org", "pw")
    CronJobLock.objects.create(
        job_name="x", locked_by="pod", token="t", locked_at=datetime.datetime.now(datetime.UTC),
        expires_at=datetime.datetime.now(datetime.UTC),
    )  # fmt: skip
    CronJobRun.objects.create(job_name="x", pod="pod")
    Notification.objects.create(user=Member.objects.exclude(pk=admin.pk).first(), message="hi")
    before = Member.objects.count()
    seed("--reset", "--confirm-reset", "--seed", "2")
    assert Member.objects.count() == before and Member.objects.filter(username="admin").exists()
    assert not CronJobLock.objects.exists() and not CronJobRun.objects.exists()
    assert not Notification.objects.exists()
    assert len(duty_delinquents()) == 19


@pytest.mark.parametrize(
    "args",
    [
        ["--scale", "0"],
        ["--scale", "abc"],
        ["--scale", "-3"],
        ["--scale", "1001"],
        ["--today", "2026-13-01"],
        ["--today", "tomorrow"],
        ["--seed", "x"],
    ],
)
def test_bad_options_exit_2_with_one_line_and_change_nothing(args: list[str]) -> None:
    result = run_command("seed_demo", *args)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert not Member.objects.exists() and not Airfield.objects.exists()
