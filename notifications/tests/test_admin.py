"""Notice kinds and member preferences are data, edited in the admin; the ledger is read-only
there, but for an operator's resolution of a notice in doubt."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client

from members.tests.factories import MemberFactory
from notifications.models import Delivery, NoticeKind, OptOut

pytestmark = pytest.mark.django_db


def test_the_seeded_kinds_are_listed_and_their_channels_editable(admin_client: Client) -> None:
    page = admin_client.get("/admin/notifications/noticekind/")
    assert page.status_code == 200
    for key in ("duty_preop", "late_sprs_final", "pilot_currency", "duty_delinquents", "job_failure"):
        assert key in page.content.decode()
    kind = NoticeKind.objects.get(key="maintenance_digest")
    kind.sms_quiet_hours = "defer"
    admin_client.post(
        f"/admin/notifications/noticekind/{kind.pk}/change/",
        {
            "key": kind.key,
            "description": kind.description,
            "email": "on",
            "sms": "on",
            "sms_quiet_hours": "drop",
        },
    )
    kind.refresh_from_db()
    assert (kind.email, kind.sms, kind.slack, kind.sms_quiet_hours) == (True, True, False, "drop")


def test_a_members_opt_outs_and_sms_preferences_are_on_their_page(admin_client: Client) -> None:
    member = MemberFactory(phone="+15405550123", sms_opt_in=True, timezone="America/Denver")
    OptOut.objects.create(member=member, kind=NoticeKind.objects.get(key="pilot_currency"), channel="sms")
    page = admin_client.get(f"/admin/members/member/{member.pk}/change/").content.decode().lower()
    for text in ("sms opt-in", "america/denver", "notice opt-outs", "sms blocked because"):
        assert text in page
    assert admin_client.get("/admin/notifications/delivery/").status_code == 200


# --- Notices in doubt: an operator's resolution ---------------------------------------------------
def in_doubt(recipient: str, status: str = "in_doubt") -> Delivery:
    handed_over = datetime.datetime(2026, 11, 23, 9, 30, tzinfo=datetime.UTC)
    return Delivery.objects.create(
        job_name="notify_late_sprs", day=datetime.date(2026, 11, 23), recipient=recipient, kind="late_sprs",
        status=status, handed_over_at=handed_over, attempts=1,
    )  # fmt: skip


def resolve(client: Client, action: str, *rows: Delivery) -> str:
    """Run an admin action on ``rows``; the page it leads to."""
    response = client.post(
        "/admin/notifications/delivery/",
        {"action": action, "_selected_action": [str(row.pk) for row in rows]},
        follow=True,
    )
    return response.content.decode()


def test_an_operator_marks_notices_in_doubt_delivered_or_not_and_the_ledger_says_who(
    admin_client: Client,
) -> None:
    got_it, did_not, already = in_doubt("member:1"), in_doubt("member:2"), in_doubt("member:3", "sent")
    listing = admin_client.get("/admin/notifications/delivery/?status__exact=in_doubt").content.decode()
    assert "In doubt (the provider may have it: check, then resolve)" in listing
    assert "Mark delivered" in listing and "Mark not delivered" in listing

    page = resolve(admin_client, "mark_delivered", got_it, already)
    assert "1 notice(s) marked delivered; 1 not in doubt, left as they were" in page
    got_it.refresh_from_db()
    assert got_it.status == "sent" and got_it.sent_at == got_it.handed_over_at
    assert got_it.resolution.startswith("Marked delivered by admin at ")
    already.refresh_from_db()
    assert already.resolution == ""

    resolve(admin_client, "mark_not_delivered", did_not)
    did_not.refresh_from_db()
    assert (did_not.status, did_not.handed_over_at) == ("failed", None)  # the next run sends it
    assert did_not.resolution.startswith("Marked not delivered by admin at ")
    assert LogEntry.objects.filter(object_id=str(did_not.pk)).exists()


def test_resolving_needs_its_own_permission(client: Client) -> None:
    row = in_doubt("member:1")
    viewer = MemberFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    client.force_login(viewer)
    listing = client.get("/admin/notifications/delivery/").content.decode()
    assert listing and "Mark delivered" not in listing
    resolve(client, "mark_delivered", row)
    row.refresh_from_db()
    assert row.status == "in_doubt"

    viewer.user_permissions.add(Permission.objects.get(codename="resolve_delivery"))
    resolve(client, "mark_delivered", row)  # the user and their permissions are read per request
    row.refresh_from_db()
    assert row.status == "sent"
