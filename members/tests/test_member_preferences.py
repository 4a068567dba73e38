"""A member's notice preferences: E.164 numbers checked when saved, their own time zone, SMS."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from members.models import Member
from members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "phone", ["5405550123", "+1 540 555 0123", "+1540555012", "+15405550123x", "+1999555012"]
)
def test_a_phone_number_not_in_e164_form_is_refused_when_saved(phone: str) -> None:
    member = MemberFactory()
    member.phone = phone
    with pytest.raises(ValidationError, match=r"E\.164"):
        member.save()
    assert Member.objects.get(pk=member.pk).phone == ""


def test_an_e164_number_or_none_is_saved() -> None:
    member = MemberFactory(phone="+15405550123")
    member.phone = "+447911123456"
    member.save()
    member.phone = ""
    member.save(update_fields=["phone"])
    assert Member.objects.get(pk=member.pk).phone == ""


def test_a_time_zone_must_be_an_iana_name() -> None:
    member = MemberFactory()
    member.timezone = "Mountain Time"
    with pytest.raises(ValidationError) as error:
        member.full_clean(exclude=["password"])
    assert "is not an IANA time zone" in str(error.value.message_dict["timezone"])
    member.timezone = "America/Denver"
    member.full_clean(exclude=["password"])


def test_the_zone_is_the_members_else_the_clubs() -> None:
    assert MemberFactory().zone == zoneinfo.ZoneInfo("America/New_York")
    assert MemberFactory(timezone="Asia/Tokyo").zone == zoneinfo.ZoneInfo("Asia/Tokyo")


def test_sms_needs_the_opt_in_a_number_and_no_block() -> None:
    assert not MemberFactory(phone="+15405550123").can_receive_sms
    assert not MemberFactory(sms_opt_in=True).can_receive_sms
    blocked_at = datetime.datetime(2026, 11, 20, tzinfo=datetime.UTC)
    assert not MemberFactory(phone="+15405550124", sms_opt_in=True, sms_blocked_at=blocked_at).can_receive_sms
    assert MemberFactory(phone="+15405550125", sms_opt_in=True).can_receive_sms


def test_a_new_number_lifts_the_block_and_an_unchanged_one_keeps_it() -> None:
    blocked_at = datetime.datetime(2026, 11, 20, tzinfo=datetime.UTC)
    member = MemberFactory(phone="+15405550123", sms_opt_in=True, sms_blocked_at=blocked_at,
                           sms_blocked_reason="Twilio 21610: unsubscribed (STOP)")  # fmt: skip
    member = Member.objects.get(pk=member.pk)
    member.first_name = "Renamed"
    member.save()
    assert Member.objects.get(pk=member.pk).sms_blocked_at == blocked_at
    member.phone = "+15405550199"
    member.save(update_fields=["phone"])
    stored = Member.objects.get(pk=member.pk)
    assert (stored.sms_blocked_at, stored.sms_blocked_reason) == (None, "")
