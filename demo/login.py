"""The demo's staff login: a superuser to open the dashboard and the admin of a demo database.

Made by ``seed_demo`` only when DEBUG is on (a development checkout, ``make demo``): its password
is printed and the same for everyone, so it must never exist on a club's real database.
"""

from __future__ import annotations

from members.models import Member, MembershipStatus

USERNAME = "demo-ops"
PASSWORD = "demo-ops-password"  # noqa: S105 - printed by seed_demo, DEBUG only


def ensure_demo_login() -> tuple[str, str]:
    """Create (or reset) the demo superuser; return its username and password.

    A superuser, so ``--reset`` keeps it; not a member, so no job ever writes to it."""
    member, _ = Member.objects.get_or_create(
        username=USERNAME,
        defaults={"first_name": "Demo", "last_name": "Operator", "email": f"{USERNAME}@example.org"},
    )
    member.is_staff = member.is_superuser = member.is_active = True
    member.membership_status = MembershipStatus.NON_MEMBER
    member.set_password(PASSWORD)
    member.save()
    return USERNAME, PASSWORD
