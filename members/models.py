"""Club members: the custom user model and the club roles a scheduled job needs."""

from __future__ import annotations

import datetime
import enum
import zoneinfo
from collections.abc import Collection
from typing import Any, ClassVar, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


def validate_e164(value: str) -> None:
    """A phone number in E.164 form: '+', country code, subscriber number, 8-15 digits."""
    import phonenumbers  # imported on use: its metadata is large

    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) != value
    ):
        raise ValidationError("Enter the phone number in E.164 form, e.g. +15405550123.", code="invalid_e164")


def validate_timezone(value: str) -> None:
    """An IANA time zone name, e.g. America/Denver."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not an IANA time zone (e.g. America/Denver).", code="invalid_timezone"
        ) from None


class MembershipStatus(models.TextChoices):
    FULL = "full", "Full member"
    STUDENT = "student", "Student member"
    FAMILY = "family", "Family member"
    SERVICE = "service", "Service member"
    FOUNDING = "founding", "Founding member"
    HONORARY = "honorary", "Honorary member"
    INTRODUCTORY = "introductory", "Introductory member"
    PROBATIONARY = "probationary", "Probationary member"
    INACTIVE = "inactive", "Inactive"
    NON_MEMBER = "non_member", "Non-member"
    DECEASED = "deceased", "Deceased"


class LeadershipRole(enum.StrEnum):
    """The club's leadership, as Member role flags: the top of SPR escalation."""

    CHIEF_INSTRUCTOR = "chief_instructor"
    DIRECTOR = "director"  # the board
    MEMBER_MANAGER = "member_manager"


class MemberQuerySet(models.QuerySet["Member"]):
    def active(self) -> MemberQuerySet:
        return self.filter(membership_status__in=settings.ACTIVE_MEMBERSHIP_STATUSES, is_active=True)

    def with_role(self, role: str) -> MemberQuerySet:
        if role not in Member.ROLE_FIELDS:
            raise ValueError(f"unknown role {role!r}")
        return self.filter(**{role: True})

    def leadership(self) -> MemberQuerySet:
        """Active members with a ``LeadershipRole``."""
        either = Q()
        for role in LeadershipRole:
            either |= Q(**{role.value: True})
        return self.active().filter(either)

    def leaders_by_role(self, *fields: str) -> dict[LeadershipRole, list[Member]]:
        """The leadership per role, in name order (a member with two roles is in both); one query
        loading ``fields`` and the role flags."""
        leaders: dict[LeadershipRole, list[Member]] = {role: [] for role in LeadershipRole}
        for member in self.leadership().only(*fields, *LeadershipRole).order_by("last_name", "first_name"):
            for role in LeadershipRole:
                if getattr(member, role):
                    leaders[role].append(member)
        return leaders


# A base made by from_queryset(): django-stubs types the manager, but mypy takes no call as a base.
class MemberManager(UserManager.from_queryset(MemberQuerySet)):  # type: ignore[misc]
    pass


class Member(AbstractUser):
    """A club member; also the login. Role flags are what the scheduled jobs address."""

    ROLE_FIELDS = (
        "instructor",
        "towpilot",
        "duty_officer",
        "assistant_duty_officer",
        "treasurer",
        "member_manager",
        "director",
        "chief_instructor",
        "maintenance_team",
    )

    phone = models.CharField(max_length=16, blank=True, validators=[validate_e164])
    timezone = models.CharField(
        "time zone",
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="IANA name, e.g. America/Denver; blank: the club's. Quiet hours and 'today' use it.",
    )
    sms_opt_in = models.BooleanField(
        "SMS opt-in", default=False, help_text="The member agreed to get text messages from the club."
    )
    sms_blocked_at = models.DateTimeField(
        "SMS blocked at",
        null=True,
        blank=True,
        help_text="Set when the SMS provider refused the number for good (invalid, not a mobile, "
        "unsubscribed); cleared when the number changes.",
    )
    sms_blocked_reason = models.CharField("SMS blocked because", max_length=200, blank=True)
    membership_status = models.CharField(
        max_length=20, choices=MembershipStatus.choices, default=MembershipStatus.FULL
    )
    joined_club = models.DateField(null=True, blank=True)
    instructor = models.BooleanField(default=False)
    towpilot = models.BooleanField("tow pilot", default=False)
    duty_officer = models.BooleanField(default=False)
    assistant_duty_officer = models.BooleanField(default=False)
    treasurer = models.BooleanField(default=False)
    member_manager = models.BooleanField(default=False)
    director = models.BooleanField("board member (director)", default=False)
    chief_instructor = models.BooleanField(default=False)
    maintenance_team = models.BooleanField(default=False)
    supervisor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_instructors",
        help_text="For an instructor: who is copied when their reports run late.",
    )

    objects: ClassVar[MemberManager] = MemberManager()
    _loaded_phone: str | None  # the phone number as loaded, to notice a new one (save())

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name

    @classmethod
    def from_db(cls, db: str | None, field_names: Collection[str], values: Collection[Any]) -> Self:
        member = super().from_db(db, field_names, values)
        member._loaded_phone = member.__dict__.get("phone")
        return member

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A phone number is checked as E.164 when saved; a new number lifts an SMS block."""
        if self.phone:
            validate_e164(self.phone)
        loaded = getattr(self, "_loaded_phone", None)
        if loaded is not None and loaded != self.phone and self.sms_blocked_at is not None:
            self.sms_blocked_at = None
            self.sms_blocked_reason = ""
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "sms_blocked_at", "sms_blocked_reason"}
        super().save(*args, **kwargs)
        self._loaded_phone = self.phone

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The member's own time zone, else the club's."""
        try:
            return zoneinfo.ZoneInfo(self.timezone or settings.CLUB_TIMEZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.CLUB_TIMEZONE)

    @property
    def can_receive_sms(self) -> bool:
        """Opted in, with a number the provider has not refused."""
        return bool(self.sms_opt_in and self.phone and self.sms_blocked_at is None)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.username

    @property
    def is_active_member(self) -> bool:
        return self.is_active and self.membership_status in settings.ACTIVE_MEMBERSHIP_STATUSES

    def membership_months(self, on: datetime.date) -> int | None:
        """Whole months of membership on ``on``; None when the join date is unknown."""
        if self.joined_club is None:
            return None
        months = (on.year - self.joined_club.year) * 12 + on.month - self.joined_club.month
        if on.day < self.joined_club.day:
            months -= 1
        return max(months, 0)
