"""Notice kinds and member preferences are data, edited in the admin."""

from __future__ import annotations

import pytest
from django.test import Client

from members.tests.factories import MemberFactory
from notifications.models import NoticeKind, OptOut

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
