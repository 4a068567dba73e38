"""Who is in a section: the member plan that fixes who flies, who does duty and the edge cases."""

from __future__ import annotations

from dataclasses import dataclass

JOINED_RECENTLY_AGE = 60  # days: the member too new to owe duty (under 3 months)


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
# The club's own offices: one board, one chief instructor, one member manager for the whole
# club, held by the first section's people. Every other section has the same people doing the
# same flying and duty (its head instructor still supervises its instructors), without them:
# scale multiplies members, flights and sections, not the board.
CLUB_ROLES = ("director", "chief_instructor", "member_manager")
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
