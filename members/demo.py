"""The demo club behind ``manage.py seed_demo``: deterministic, realistic, with known findings.

The club is built in *sections*. Scale N builds N independent copies of the scale-1 club (own
airfields, aircraft and members) on one shared calendar, so every finding multiplies by N.
Each section draws from its own ``random.Random(f"{seed}:section:{n}")``: the same seed,
scale and day give the same rows, and section n is the same at every scale. Rows are built in
Python and written with ``bulk_create``, one section at a time, so memory stays flat.

What every scheduled job should find is planned, not left to chance (see docs/demo-club.md):
the member plan below fixes who flies, who does duty and the edge cases around the duty rule.
"""

from __future__ import annotations

import datetime
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import models, transaction

from duty_roster.models import DutyAssignment
from instructors.models import InstructionReport
from logsheet.models import Airfield, Flight, Glider, Logsheet, Towplane
from maintenance.models import AircraftMeister, MaintenanceDeadline, MaintenanceIssue
from members.models import Member
from notifications.models import Delivery, Notification
from utils.clock import club_tz
from utils.models import CronJobLock, CronJobRun

DAY = datetime.timedelta(days=1)
BATCH_SIZE = 2000
MAX_SCALE = 1000

# The calendar, in days before "today".
WINDOW_DAYS = 358  # the year of flying: inside "the last 12 months" however a job counts them
OLD_SEASON_AGE = 450  # three days of an older season, outside every 12-month window
WEATHER_CANCELLED = 0.18  # share of planned flying days lost to weather
AGING_AGE = 11  # the one logsheet nobody finalized (at the second field)
OPEN_AGE = 3  # home-field logsheets of the last 3 days are still open: normal, not aging
SPR_WRITTEN_AGE = 4  # instructors have written up every lesson at least this old ...
LATE_SPR_AGES = range(35, 71)  # ... except one: FINAL level (30+), inside the 90-day window
ROSTER_DAYS = 28  # the duty roster reaches four weeks ahead
JOINED_RECENTLY_AGE = 60  # the member too new to owe duty (under 3 months)


@dataclass(frozen=True)
class Findings:
    """What the scheduled jobs report about one section (multiply by the scale)."""

    aging_logsheets: int = 1
    final_sprs: int = 1
    delinquents: int = 19
    briefings_tomorrow: int = 1
    ad_hoc_to_expire: int = 1
    open_issues: int = 3
    grounding_issues: int = 1
    overdue_deadlines: int = 1
    deadlines_within_30_days: int = 2

    def times(self, n: int) -> Findings:
        return Findings(**{name: value * n for name, value in asdict(self).items()})


SECTION_FINDINGS = Findings()


# --- Who is in a section ---------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    kind: str
    count: int
    statuses: tuple[str, ...] = ("full",)  # cycled over the group
    roles: tuple[str, ...] = ()


# 75 members. Kinds marked * are the duty delinquents (19): active, joined 3+ months ago, flew on
# a finalized logsheet in the last 12 months, no duty there. The rest of the non-duty kinds are
# the edge cases the duty rule must leave out.
MEMBER_PLAN: tuple[Group, ...] = (
    Group("chief_instructor", 1, roles=("instructor", "chief_instructor", "director")),
    Group("instructor", 7, roles=("instructor",)),
    Group("tow_pilot", 5, roles=("towpilot",)),
    Group("surge_tow_pilot", 1, roles=("towpilot",)),  # duty: surge tow pilot on one day
    Group("duty_officer", 10, roles=("duty_officer",)),
    Group("assistant_do", 5, roles=("assistant_duty_officer",)),
    Group("student_ado", 4, ("student",), ("assistant_duty_officer",)),
    Group("unfinalized_ado", 1, roles=("assistant_duty_officer",)),  # * duty only on the open sheet
    Group("treasurer", 1, roles=("treasurer", "director")),  # flies, no duty, exempt
    Group("student", 6, ("student",)),  # *
    Group(  # *
        "flyer", 10, ("full",) * 4 + ("family",) * 2 + ("founding", "honorary", "service", "probationary")
    ),
    Group("no_join_date", 1),  # * join date unknown
    Group("former_do", 1),  # * last duty 15 months ago
    Group("new_member", 1),  # joined 2 months ago: too new to owe duty
    Group("inactive_recent", 1, ("inactive",)),  # flew this year, now inactive
    Group("disabled", 1),  # account disabled (is_active False), flew this year
    Group("visitor", 1, ("non_member",)),  # flew this year as a visiting pilot
    Group("unfinalized_flyer", 1),  # only flight on the open (aging) logsheet
    Group("inactive_old", 2, ("inactive",)),  # flights 15 months ago only
    Group("deceased", 1, ("deceased",)),
    Group("grounded", 14, ("full",) * 12 + ("family", "introductory")),  # active, not flying this year
)
EXTRA_ROLES: dict[tuple[str, int], tuple[str, ...]] = {
    ("instructor", 0): ("director",),  # the senior instructor
    ("instructor", 1): ("maintenance_team",),
    ("tow_pilot", 0): ("director",),
    ("tow_pilot", 1): ("maintenance_team",),
    ("duty_officer", 0): ("member_manager", "director"),
    ("duty_officer", 1): ("director",),
    ("duty_officer", 3): ("maintenance_team",),
    ("assistant_do", 0): ("director",),
    ("assistant_do", 1): ("maintenance_team",),
}
# Tuples, not sets: their order feeds the random draws, and set order changes between processes.
SOLO_KINDS = (
    *("chief_instructor", "instructor", "tow_pilot", "surge_tow_pilot", "duty_officer"),
    *("assistant_do", "unfinalized_ado", "treasurer", "flyer", "no_join_date", "former_do"),
    *("new_member", "inactive_recent", "disabled", "visitor"),
)
STUDENT_KINDS = ("student", "student_ado")
VETERAN_KINDS = ("chief_instructor", "instructor", "tow_pilot", "duty_officer", "assistant_do", "treasurer")
# Who may fly, in days before today (oldest, newest); the default is the whole year.
FLYING_AGES: dict[str, tuple[int, int]] = {
    "inactive_recent": (300, 230),
    "disabled": (200, 130),
    "visitor": (120, 90),
}
OLD_SEASON_PILOTS = 6  # grounded members who last flew in the older season
MEMBERS_PER_SECTION = sum(group.count for group in MEMBER_PLAN)

FIRST_NAMES = (
    "Alice", "Andrew", "Anna", "Ben", "Carla", "Charles", "Chris", "Dana", "David", "Diane", "Edward",
    "Elena", "Frank", "Grace", "Greg", "Hannah", "Henry", "Irene", "Jack", "James", "Jane", "Jason",
    "Joan", "John", "Karen", "Kevin", "Laura", "Linda", "Mark", "Martha", "Michael", "Nancy", "Nora",
    "Owen", "Pat", "Paul", "Peter", "Rachel", "Ray", "Rita", "Robert", "Ruth", "Sam", "Sandra", "Sarah",
    "Scott", "Steve", "Susan", "Thomas", "Tina", "Victor", "Walter", "Wendy", "William", "Yvonne", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Becker", "Bishop", "Brooks", "Carter", "Chen", "Clark", "Cole", "Davis", "Dunn",
    "Ellis", "Evans", "Fischer", "Foster", "Garcia", "Grant", "Hall", "Hayes", "Hughes", "Jensen",
    "Keller", "Kim", "Lambert", "Lopez", "Martin", "Meyer", "Miller", "Moore", "Murphy", "Nash",
    "Nguyen", "O'Brien", "Owens", "Parker", "Patel", "Price", "Reed", "Reyes", "Rossi", "Schmidt",
    "Shaw", "Silva", "Stone", "Sullivan", "Taylor", "Turner", "Vogel", "Wagner", "Walsh", "Ward",
    "Weber", "Wells", "Wilson", "Young", "Zimmer",
)  # fmt: skip
GLIDER_TYPES = (  # (make, model, seats)
    ("Schleicher", "ASK-21", 2),
    ("Schleicher", "ASK-21", 2),  # the one grounded (canopy hinge)
    ("Grob", "G103 Twin II", 2),
    ("Schweizer", "SGS 2-33A", 2),
    ("Schleicher", "ASK-23B", 1),
    ("Rolladen-Schneider", "LS-4", 1),
    ("Schempp-Hirth", "Discus CS", 1),
)
TOWPLANE_TYPES = (("Piper", "PA-25 Pawnee", "Pawnee"), ("Aviat", "A-1 Husky", "Husky"))
SPR_TEXTS = (
    "Good coordination on tow; work on pattern spacing.",
    "Steady thermalling; keep the yaw string centred in turns.",
    "Boxed the wake well. Next: slack line recovery.",
    "Landings improving; fly the approach at a constant speed.",
    "Solid pre-flight and checklist use. Ready for stalls and spins.",
)


@dataclass(eq=False)  # people are compared by identity
class Person:
    """One planned member of a section and, after insert, its row."""

    kind: str
    n: int  # index within its kind
    member: Member
    flies_from: datetime.date | None = None  # None: does not fly in the year
    flies_to: datetime.date | None = None

    @property
    def pk(self) -> int:
        return self.member.pk

    def flies_on(self, day: datetime.date) -> bool:
        return self.flies_from is not None and self.flies_from <= day <= self.flies_to  # type: ignore[operator]


# --- The calendar shared by every section ----------------------------------------------------
def _flying_day(day: datetime.date) -> bool:
    """Weekends all year; Wednesdays too from May to September."""
    return day.weekday() >= 5 or (day.weekday() == 2 and 5 <= day.month <= 9)


@dataclass(frozen=True)
class Calendar:
    today: datetime.date
    past: tuple[datetime.date, ...]  # flying days at each home field in the last year
    old: tuple[datetime.date, ...]  # three days of an older season
    upcoming: tuple[datetime.date, ...]  # rostered days, tomorrow always among them

    @classmethod
    def build(cls, seed: int, today: datetime.date) -> Calendar:
        rng = random.Random(f"{seed}:calendar")  # noqa: S311 - demo data, not secrets
        year = [today - age * DAY for age in range(WINDOW_DAYS, 0, -1)]
        past = [day for day in year if _flying_day(day) and rng.random() >= WEATHER_CANCELLED]
        around = [today - age * DAY for age in range(OLD_SEASON_AGE + 10, OLD_SEASON_AGE - 11, -1)]
        old = tuple(day for day in around if day.weekday() >= 5)[:3]
        ahead = [today + n * DAY for n in range(1, ROSTER_DAYS + 1)]
        upcoming = tuple(day for day in ahead if day == ahead[0] or _flying_day(day))
        return cls(today, tuple(past), old, upcoming)

    def age(self, day: datetime.date) -> int:
        return (self.today - day).days

    def finalized(self, day: datetime.date) -> bool:
        return self.age(day) > OPEN_AGE

    @property
    def aging_day(self) -> datetime.date:
        return self.today - AGING_AGE * DAY

    @property
    def tomorrow(self) -> datetime.date:
        return self.today + DAY


class Rotation:
    """Hands out a pool's members in turns: everyone once a round, each round reshuffled."""

    def __init__(self, pool: Sequence[Person], rng: random.Random) -> None:
        self.pool, self.rng, self.queue = list(pool), rng, list[Person]()

    def next(self, avoid: Sequence[Person | None] = ()) -> Person:
        while True:
            if not self.queue:
                self.queue = self.rng.sample(self.pool, len(self.pool))
            for i, person in enumerate(self.queue):
                if person not in avoid:
                    return self.queue.pop(i)
            self.queue += self.rng.sample(self.pool, len(self.pool))


@dataclass
class Sheet:
    """A logsheet being planned: its day, field, crew and how many flights it will carry."""

    day: datetime.date
    airfield: Airfield
    finalized: bool
    crew: dict[str, Person | None]
    flights: int
    in_year: bool = True
    row: Logsheet | None = None


@dataclass
class SectionReport:
    """The notable rows of one section, for the summary."""

    members: int = 0
    delinquents: int = 0
    aging: str = ""
    late_spr: str = ""
    tomorrow: str = ""
    ad_hoc: str = ""
    counts: Counter[str] = field(default_factory=Counter)


# --- Building one section --------------------------------------------------------------------
class SectionBuilder:
    def __init__(self, index: int, seed: int, calendar: Calendar, password: str) -> None:
        self.index = index
        self.cal = calendar
        self.rng = random.Random(f"{seed}:section:{index}")  # noqa: S311 - demo data, not secrets
        self.password = password
        self.people: dict[str, list[Person]] = {}
        self.report = SectionReport()

    def build(self) -> SectionReport:
        self._create_members()
        self._create_airfields()
        self._create_aircraft()
        self._create_operations()
        self._create_roster()
        self._create_maintenance()
        return self.report

    def _insert(self, model: type[models.Model], rows: Sequence[models.Model]) -> None:
        model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        self.report.counts[model.__name__] += len(rows)

    def _kind(self, *kinds: str) -> list[Person]:
        return [person for kind in kinds for person in self.people.get(kind, [])]

    # Members --------------------------------------------------------------------------------
    def _create_members(self) -> None:
        pairs = self.rng.sample(range(len(FIRST_NAMES) * len(LAST_NAMES)), MEMBERS_PER_SECTION)
        names = [(FIRST_NAMES[p // len(LAST_NAMES)], LAST_NAMES[p % len(LAST_NAMES)]) for p in pairs]
        people = []
        for group in MEMBER_PLAN:
            for n in range(group.count):
                member = self._member(group, n, *names[len(people)], serial=len(people))
                people.append(Person(group.kind, n, member))
                self.people.setdefault(group.kind, []).append(people[-1])
        self._insert(Member, [p.member for p in people])
        if any(p.member.pk is None for p in people):  # a backend that returns no ids
            ids = dict(
                Member.objects.filter(username__in=[p.member.username for p in people]).values_list(
                    "username", "pk"
                )
            )
            for p in people:
                p.member.pk = ids[p.member.username]
        self.by_pk = {p.pk: p for p in people}
        self._set_supervisors()
        self._set_flying_ranges()
        self.report.members = len(people)

    def _member(self, group: Group, n: int, first: str, last: str, serial: int) -> Member:
        rng, today = self.rng, self.cal.today
        status = group.statuses[n % len(group.statuses)]
        joined = self._joined(group.kind, status)
        username = f"{_slug(first)}.{_slug(last)}" + (f".{self.index + 1}" if self.index else "")
        roles = dict.fromkeys((*group.roles, *EXTRA_ROLES.get((group.kind, n), ())), True)
        phone_number = (self.index * MEMBERS_PER_SECTION + serial) % 10_000
        joined_at = datetime.datetime.combine(joined or today - 3650 * DAY, datetime.time(12), club_tz())
        return Member(
            username=username,
            first_name=first,
            last_name=last,
            email="" if (group.kind, n) == ("grounded", 13) else f"{username}@example.org",
            phone=f"+1540555{phone_number:04d}" if rng.random() < 0.7 else "",
            password=self.password,
            membership_status=status,
            joined_club=joined,
            date_joined=joined_at,
            is_active=group.kind not in ("disabled", "deceased"),
            **roles,
        )

    def _joined(self, kind: str, status: str) -> datetime.date | None:
        today, rng = self.cal.today, self.rng
        if kind in ("no_join_date", "visitor"):
            return None
        if kind == "new_member":
            return today - JOINED_RECENTLY_AGE * DAY
        if status == "probationary":
            return today - 150 * DAY
        if kind == "student":
            return today - rng.randint(200, 1000) * DAY
        if kind == "student_ado":
            return today - rng.randint(400, 1100) * DAY
        return today - rng.randint(730, 7300) * DAY  # two to twenty years

    def _set_supervisors(self) -> None:
        chief, senior = self.people["chief_instructor"][0], self.people["instructor"][0]
        chief.member.supervisor = senior.member
        for person in self.people["instructor"]:
            person.member.supervisor = chief.member if person.n < 4 else senior.member
        instructors = self._kind("chief_instructor", "instructor")
        Member.objects.bulk_update([p.member for p in instructors], ["supervisor"])

    def _set_flying_ranges(self) -> None:
        year_start, yesterday = self.cal.today - WINDOW_DAYS * DAY, self.cal.today - DAY
        for person in self._kind(*SOLO_KINDS, *STUDENT_KINDS):
            oldest, newest = FLYING_AGES.get(person.kind, (WINDOW_DAYS, 1))
            joined = person.member.joined_club
            start = max(self.cal.today - oldest * DAY, year_start, (joined or year_start) + 7 * DAY)
            person.flies_from, person.flies_to = start, min(self.cal.today - newest * DAY, yesterday)

    # Airfields and aircraft ---------------------------------------------------------------------
    def _create_airfields(self) -> None:
        k, suffix = self.index, f" (section {self.index + 1})" if self.index else ""
        self.home = Airfield(identifier="KFRR" if k == 0 else f"KF{k:03d}", name=f"Front Royal{suffix}")
        self.away = Airfield(identifier="KLUA" if k == 0 else f"KL{k:03d}", name=f"Luray Caverns{suffix}")
        self._insert(Airfield, [self.home, self.away])

    def _create_aircraft(self) -> None:
        base = (self.index + 1) * 100
        self.gliders = [
            Glider(
                n_number=f"N{base + i}G",
                make=make,
                model=model,
                seats=seats,
                competition_number=f"{chr(65 + i)}{self.index % 100}",
            )
            for i, (make, model, seats) in enumerate(GLIDER_TYPES)
        ]
        self.towplanes = [
            Towplane(n_number=f"N{base + 50 + i}T", make=make, model=model, name=name)
            for i, (make, model, name) in enumerate(TOWPLANE_TYPES)
        ]
        self._insert(Glider, self.gliders)
        self._insert(Towplane, self.towplanes)
        self.grounded_glider, self.grounded_since = self.gliders[1], self.cal.today - 9 * DAY

    # Logsheets, flights and student progress reports ------------------------------------------
    def _create_operations(self) -> None:
        sheets = self._plan_sheets()
        self._insert(Logsheet, [self._logsheet(sheet) for sheet in sheets])
        flights, lessons = self._fly(sheets)
        self._insert(Flight, flights)
        self._insert(InstructionReport, self._reports(lessons))
        self.report.delinquents = self._count_delinquents()

    def _plan_sheets(self) -> list[Sheet]:
        rng, cal = self.rng, self.cal
        self.rotations = (
            Rotation(self._kind("duty_officer"), rng),
            Rotation(self._kind("assistant_do", "student_ado"), rng),
            Rotation(self._kind("chief_instructor", "instructor"), rng),
            Rotation(self._kind("tow_pilot"), rng),
        )
        sheets = [self._old_sheet(day) for day in cal.old]
        surge_day = min(cal.past, key=lambda day: abs(cal.age(day) - 150))
        for day in cal.past:
            flights = rng.randint(12 if day == surge_day else 8, 15)
            crew = self._crew(busy=flights >= 12)
            if day == surge_day:  # the surge tow pilot's one duty of the year
                crew["surge_tow_pilot"] = self.people["surge_tow_pilot"][0]
            sheets.append(Sheet(day, self.home, cal.finalized(day), crew, flights))
        # The aging logsheet: an extra day at the second field that nobody finalized. Its
        # assistant duty officer did no other duty, which (unfinalized) does not count.
        crew = self._crew(busy=False, assistant=self.people["unfinalized_ado"][0])
        sheets.append(Sheet(cal.aging_day, self.away, False, crew, 6))
        officer = crew["duty_officer"].member  # type: ignore[union-attr]
        self.report.aging = f"{self.away.identifier} {cal.aging_day}, duty officer {officer.full_name}"
        sheets.sort(key=lambda sheet: (sheet.day, sheet.airfield.identifier))
        return sheets

    def _crew(self, busy: bool, assistant: Person | None = None) -> dict[str, Person | None]:
        dos, ados, instructors, tows = self.rotations
        instructor, tow_pilot = instructors.next(), tows.next()
        return {
            "duty_officer": dos.next(),
            "assistant_duty_officer": assistant or ados.next(),
            "duty_instructor": instructor,
            "surge_instructor": instructors.next(avoid=[instructor]) if busy else None,
            "tow_pilot": tow_pilot,
            "surge_tow_pilot": tows.next(avoid=[tow_pilot]) if busy else None,
        }

    def _old_sheet(self, day: datetime.date) -> Sheet:
        """A day of the older season; the former duty officer's last duty."""
        crew = {
            "duty_officer": self.people["former_do"][0],
            "assistant_duty_officer": self.rng.choice(self._kind("assistant_do")),
            "duty_instructor": self.rng.choice(self._kind("chief_instructor", "instructor")),
            "surge_instructor": None,
            "tow_pilot": self.rng.choice(self._kind("tow_pilot")),
            "surge_tow_pilot": None,
        }
        return Sheet(day, self.home, True, crew, 10, in_year=False)

    def _logsheet(self, sheet: Sheet) -> Logsheet:
        crew = {f"{role}_id": person.pk if person else None for role, person in sheet.crew.items()}
        sheet.row = Logsheet(
            log_date=sheet.day,
            airfield=sheet.airfield,
            created_by_id=crew["duty_officer_id"],
            created_at=_at(sheet.day, 9),
            finalized=sheet.finalized,
            **crew,
        )
        return sheet.row

    def _fly(self, sheets: list[Sheet]) -> tuple[list[Flight], Counter[tuple[int, int, datetime.date]]]:
        """Every flight of the section, and the lessons: (student, instructor, day) -> flights."""
        solo, students = self._kind(*SOLO_KINDS), self._kind(*STUDENT_KINDS)
        # Everyone planned to fly this year flies at least once on a finalized logsheet.
        pending = {
            "solo": self.rng.sample(solo, len(solo)),
            "student": self.rng.sample(students, len(students)),
        }
        self.flew: set[int] = set()  # on finalized logsheets of the year
        self.did_duty: set[int] = set()
        self.counted_lessons: set[tuple[int, int, datetime.date]] = set()
        flights: list[Flight] = []
        lessons: Counter[tuple[int, int, datetime.date]] = Counter()
        for sheet in sheets:
            counting = sheet.finalized and sheet.in_year
            if not sheet.in_year:
                slots = self._old_slots(sheet)
            elif sheet.day == self.cal.aging_day and sheet.airfield is self.away:
                slots = self._aging_slots(sheet, solo, students)
            else:
                slots = self._slots(sheet, solo, students, pending if counting else None)
            for flight in self._timed(sheet, slots):
                flights.append(flight)
                if flight.instructor_id:
                    lessons[(flight.pilot_id, flight.instructor_id, sheet.day)] += 1
                if counting:
                    self.flew.add(flight.pilot_id)
                    self.did_duty.update(filter(None, (flight.instructor_id, flight.tow_pilot_id)))
                    if flight.instructor_id:
                        self.counted_lessons.add((flight.pilot_id, flight.instructor_id, sheet.day))
            if counting:
                self.did_duty.update(person.pk for person in sheet.crew.values() if person)
        if pending["solo"] or pending["student"]:
            left = [p.member.username for p in pending["solo"] + pending["student"]]
            raise RuntimeError(f"demo plan: {left} never flew on a finalized logsheet; try another --seed")
        return flights, lessons

    def _pick(self, eligible: list[Person], pending: list[Person] | None) -> Person:
        for i, person in enumerate(pending or ()):
            if person in eligible:
                return pending.pop(i)  # type: ignore[union-attr]
        return self.rng.choice(eligible)

    def _slots(
        self,
        sheet: Sheet,
        solo: list[Person],
        students: list[Person],
        pending: dict[str, list[Person]] | None,
    ) -> list[tuple[Person, Person | None]]:
        """(pilot, instructor) for each flight of an ordinary day: a third or so are lessons."""
        rng, day = self.rng, sheet.day
        teachers = [p for p in (sheet.crew["duty_instructor"], sheet.crew["surge_instructor"]) if p]
        can_fly = [p for p in solo if p.flies_on(day)]
        learners = [p for p in students if p.flies_on(day)]
        instructional = rng.randint(2, max(2, sheet.flights // 3))
        slots: list[tuple[Person, Person | None]] = []
        while len(slots) < instructional:
            student = self._pick(learners, pending and pending["student"])
            teacher = teachers[len(slots) % len(teachers)]
            twice = instructional - len(slots) >= 2 and rng.random() < 0.35
            slots += [(student, teacher)] * (2 if twice else 1)
        while len(slots) < sheet.flights:
            slots.append((self._pick(can_fly, pending and pending["solo"]), None))
        return slots

    def _aging_slots(
        self, sheet: Sheet, solo: list[Person], students: list[Person]
    ) -> list[tuple[Person, Person | None]]:
        can_fly = [p for p in solo if p.flies_on(sheet.day)]
        learner = self.rng.choice([p for p in students if p.flies_on(sheet.day)])
        others = [(self.rng.choice(can_fly), None) for _ in range(sheet.flights - 2)]
        return [
            (self.people["unfinalized_flyer"][0], None),
            (learner, sheet.crew["duty_instructor"]),
            *others,
        ]

    def _old_slots(self, sheet: Sheet) -> list[tuple[Person, Person | None]]:
        """The older season: lapsed, inactive and deceased members still flew then."""
        old_pilots = self._kind("inactive_old", "deceased") + self._kind("grounded")[:OLD_SEASON_PILOTS]
        turn = self.cal.old.index(sheet.day)
        veterans = self._kind(*VETERAN_KINDS)
        former_students = self._kind("flyer")[:4]  # full members, students back then
        teacher = sheet.crew["duty_instructor"]
        slots = [(self.rng.choice(former_students), teacher) for _ in range(2)]
        slots += [(person, None) for person in old_pilots[turn :: len(self.cal.old)]]
        slots += [(self.rng.choice(veterans), None) for _ in range(sheet.flights - len(slots))]
        return slots

    def _timed(self, sheet: Sheet, slots: list[tuple[Person, Person | None]]) -> Iterator[Flight]:
        """Flights in launch order between 10:00 and 17:30, towed by the day's tow pilots."""
        rng = self.rng
        rng.shuffle(slots)
        span = 450 / len(slots)
        gliders = [
            g for g in self.gliders if g is not self.grounded_glider or sheet.day < self.grounded_since
        ]
        two_seaters = [g for g in gliders if g.seats == 2]
        tow_pilot, surge_tow_pilot = sheet.crew["tow_pilot"], sheet.crew["surge_tow_pilot"]
        for j, (pilot, instructor) in enumerate(slots):
            launch = 600 + int(j * span) + rng.randint(0, int(span / 2))
            minutes = rng.randint(18, 45) if instructor else rng.randint(25, 180)
            surge = surge_tow_pilot is not None and j % 2 == 1
            yield Flight(
                logsheet_id=sheet.row.pk,  # type: ignore[union-attr]
                pilot_id=pilot.pk,
                instructor_id=instructor.pk if instructor else None,
                tow_pilot_id=(surge_tow_pilot if surge else tow_pilot).pk,  # type: ignore[union-attr]
                glider_id=rng.choice(two_seaters if instructor else gliders).pk,
                towplane_id=self.towplanes[1 if surge else 0].pk,
                launch_time=_clock(launch),
                landing_time=_clock(min(launch + minutes, 19 * 60 + 45)),
            )

    def _reports(self, lessons: Counter[tuple[int, int, datetime.date]]) -> list[InstructionReport]:
        """A report for every lesson at least SPR_WRITTEN_AGE days old, except one FINAL-late."""
        cal, rng = self.cal, self.rng
        candidates = sorted(
            key for key in self.counted_lessons if lessons[key] == 1 and cal.age(key[2]) in LATE_SPR_AGES
        )
        late = rng.choice(candidates)
        student, instructor = self.by_pk[late[0]].member, self.by_pk[late[1]].member
        self.report.late_spr = (
            f"{student.full_name} with {instructor.full_name}, flown {late[2]} ({cal.age(late[2])} days ago)"
        )
        return [
            InstructionReport(
                student_id=key[0],
                instructor_id=key[1],
                report_date=key[2],
                report_text=rng.choice(SPR_TEXTS),
                created_at=_at(key[2] + rng.randint(1, SPR_WRITTEN_AGE - 1) * DAY, 20),
            )
            for key in sorted(lessons)
            if cal.age(key[2]) >= SPR_WRITTEN_AGE and key != late
        ]

    def _count_delinquents(self) -> int:
        """The duty rule applied to what was built (the summary reports this; tests re-derive it)."""
        today = self.cal.today

        def owes_duty(member: Member) -> bool:
            months = member.membership_months(today)
            return member.is_active_member and not member.treasurer and (months is None or months >= 3)

        return sum(
            1
            for person in self.by_pk.values()
            if owes_duty(person.member) and person.pk in self.flew and person.pk not in self.did_duty
        )

    # The duty roster ---------------------------------------------------------------------------
    def _create_roster(self) -> None:
        cal, rng = self.cal, self.rng
        _, _, instructors, tows = self.rotations
        days, crews = [], []
        for day in cal.upcoming:
            crew = self._crew(busy=False)
            weekend = day.weekday() >= 5
            if day == cal.tomorrow or (weekend and rng.random() < 0.5):
                crew["surge_instructor"] = instructors.next(avoid=[crew["duty_instructor"]])
            if weekend and rng.random() < 0.3:
                crew["surge_tow_pilot"] = tows.next(avoid=[crew["tow_pilot"]])
            days.append(_duty_day(day, self.home, crew, is_scheduled=True))
            crews.append(crew)
        busy = [person for person in crews[0].values() if person]  # tomorrow's crew at home
        self.report.tomorrow = f"{self.home.identifier} {cal.tomorrow}, {len(busy)} crew"
        # Proposed ad hoc for tomorrow at the second field; no duty officer signed up yet.
        proposer = rng.choice(self._kind("flyer"))
        signed_up = {"duty_instructor": instructors.next(avoid=busy), "tow_pilot": tows.next(avoid=busy)}
        days.append(_duty_day(cal.tomorrow, self.away, signed_up, proposed_by=proposer))
        self.report.ad_hoc = f"{self.away.identifier} {cal.tomorrow}, proposed by {proposer.member.full_name}"
        confirmed = self._crew(busy=False)
        days.append(
            _duty_day(
                cal.today + 3 * DAY,
                self.away,
                confirmed,
                proposed_by=rng.choice(self._kind("flyer")),
                is_confirmed=True,
            )
        )
        self._insert(DutyAssignment, days)

    # Maintenance -----------------------------------------------------------------------------------
    def _create_maintenance(self) -> None:
        today, g, t = self.cal.today, self.gliders, self.towplanes
        reporters = self._kind("chief_instructor", "instructor", "tow_pilot")
        issues = [
            (
                {"glider": g[1]},
                "Rear canopy hinge cracked. Grounded until the repair is signed off.",
                9,
                True,
            ),
            ({"glider": g[2]}, "Left wheel brake weak; the cable needs adjusting.", 20, False),
            ({"towplane": t[0]}, "Oil seep at the rocker cover; check it before each flight.", 30, False),
            ({"glider": g[3]}, "Tow release sticks on the first pull.", 60, False),
        ]
        self._insert(
            MaintenanceIssue,
            [
                MaintenanceIssue(
                    **aircraft,
                    description=text,
                    reported_by=self.rng.choice(reporters).member,
                    report_date=today - age * DAY,
                    grounded=grounded,
                    resolved=age == 60,  # the tow release was fixed eight days later
                    resolved_date=today - 52 * DAY if age == 60 else None,
                )
                for aircraft, text, age, grounded in issues
            ],
        )
        deadlines = [  # (aircraft, kind, due in days): one overdue, two within 30 days, the rest later
            (t[0], "transponder", -5), (g[0], "annual", 12), (t[1], "elt", 26), (t[0], "100hr", 45),
            (g[2], "annual", 75), (g[4], "parachute", 95), (g[3], "annual", 120), (g[4], "annual", 160),
            (t[1], "annual", 190), (g[5], "annual", 210), (g[6], "annual", 260), (g[1], "annual", 300),
        ]  # fmt: skip
        self._insert(
            MaintenanceDeadline,
            [
                MaintenanceDeadline(**_aircraft(plane), kind=kind, due_date=today + days * DAY)
                for plane, kind, days in deadlines
            ],
        )
        team = [p for p in self.by_pk.values() if p.member.maintenance_team]
        meisters = [(plane, team[i % len(team)]) for i, plane in enumerate(g)]
        meisters += list(zip(t, self._kind("tow_pilot"), strict=False))
        self._insert(
            AircraftMeister,
            [AircraftMeister(**_aircraft(plane), member=person.member) for plane, person in meisters],
        )


def _duty_day(
    day: datetime.date,
    airfield: Airfield,
    crew: dict[str, Person | None],
    *,
    is_scheduled: bool = False,
    is_confirmed: bool = False,
    proposed_by: Person | None = None,
) -> DutyAssignment:
    return DutyAssignment(
        date=day,
        location=airfield,
        is_scheduled=is_scheduled,
        is_confirmed=is_confirmed,
        proposed_by=proposed_by.member if proposed_by else None,
        notes="" if is_scheduled else "Proposed for a good ridge forecast.",
        **{f"{role}_id": person.pk for role, person in crew.items() if person},
    )


def _aircraft(plane: Glider | Towplane) -> dict[str, Glider | Towplane]:
    return {"glider": plane} if isinstance(plane, Glider) else {"towplane": plane}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), club_tz())


def _clock(minutes: int) -> datetime.time:
    return datetime.time(minutes // 60, minutes % 60)


# --- The whole club -----------------------------------------------------------------------------
class ClubNotEmpty(Exception):
    """The database already holds club data and --reset was not given."""


@dataclass
class DemoClub:
    scale: int
    seed: int
    today: datetime.date
    seconds: float
    counts: Counter[str]
    findings: Findings
    example: SectionReport


# Deleted in this order: each model before what it points to with PROTECT.
CLUB_MODELS: tuple[type[models.Model], ...] = (
    Delivery, Notification, CronJobRun, CronJobLock, InstructionReport, Flight, Logsheet,
    DutyAssignment, MaintenanceIssue, MaintenanceDeadline, AircraftMeister, Glider, Towplane, Airfield,
)  # fmt: skip


def club_data_present() -> str:
    """What club data the database holds, e.g. "75 members, 2 airfields" ("" when none)."""
    counts = {
        "members": Member.objects.filter(is_superuser=False).count(),
        "airfields": Airfield.objects.count(),
        "gliders": Glider.objects.count(),
        "towplanes": Towplane.objects.count(),
    }
    return ", ".join(f"{n:,} {name}" for name, n in counts.items() if n)


def delete_club_data() -> None:
    """Everything of the club except superusers (their accounts are how operators log in)."""
    for model in CLUB_MODELS:
        model.objects.all().delete()
    Member.objects.filter(is_superuser=False).delete()


def build_demo_club(
    *,
    scale: int,
    seed: int,
    today: datetime.date,
    reset: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> DemoClub:
    """Build the club in one transaction (after deleting the old one when ``reset``)."""
    started = time.monotonic()
    calendar = Calendar.build(seed, today)
    # Like make_password(None), but the same every run: "!" marks a password that can't log in.
    password = f"{UNUSABLE_PASSWORD_PREFIX}demo-club-{seed}"
    counts: Counter[str] = Counter()
    delinquents, example = 0, None
    with transaction.atomic(), _explicit_timestamps(Logsheet, InstructionReport):
        if reset:
            delete_club_data()
        elif present := club_data_present():
            raise ClubNotEmpty(present)
        for index in range(scale):
            report = SectionBuilder(index, seed, calendar, password).build()
            counts.update(report.counts)
            delinquents += report.delinquents
            example = example or report
            if progress is not None:
                progress(index + 1, scale)
    findings = replace(SECTION_FINDINGS.times(scale), delinquents=delinquents)
    assert example is not None
    return DemoClub(scale, seed, today, time.monotonic() - started, counts, findings, example)


@contextmanager
def _explicit_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create keep the created_at values we set.

    auto_now_add would stamp the wall clock, and the same seed must give the same rows.
    """
    fields = [
        f for model in model_classes for f in model._meta.concrete_fields if getattr(f, "auto_now_add", False)
    ]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


def summary_lines(club: DemoClub) -> list[str]:
    c, f, e = club.counts, club.findings, club.example
    where = "" if club.scale == 1 else f" ({club.scale} sections; examples from the first)"
    return [
        f"Built the demo club in {club.seconds:.1f}s "
        f"(seed {club.seed}, scale {club.scale}, today {club.today}):",
        f"  {c['Member']:,} members, {c['Airfield']:,} airfields, {c['Glider']:,} gliders, "
        f"{c['Towplane']:,} towplanes",
        f"  {c['Logsheet']:,} logsheets, {c['Flight']:,} flights, "
        f"{c['InstructionReport']:,} student progress reports",
        f"  {c['DutyAssignment']:,} roster days, {c['MaintenanceIssue']:,} maintenance issues, "
        f"{c['MaintenanceDeadline']:,} deadlines, {c['AircraftMeister']:,} aircraft meisters",
        f"Expected findings on {club.today}{where}:",
        f"  notify_aging_logsheets   {f.aging_logsheets:,} logsheet(s) not finalized, more than 7 days old "
        f"({e.aging})",
        f"  notify_late_sprs         {f.final_sprs:,} overdue student progress report(s), FINAL level "
        f"({e.late_spr})",
        f"  report_duty_delinquents  {f.delinquents:,} members who flew in the last 12 months without duty",
        f"  send_duty_preop_emails   {f.briefings_tomorrow:,} briefing(s) for tomorrow ({e.tomorrow})",
        f"  expire_ad_hoc_days       {f.ad_hoc_to_expire:,} unconfirmed ad-hoc day(s) tomorrow ({e.ad_hoc})",
        f"  send_maintenance_digest  {f.open_issues:,} open issues ({f.grounding_issues:,} grounding), "
        f"{f.overdue_deadlines:,} overdue deadline(s), {f.deadlines_within_30_days:,} due within 30 days",
    ]
