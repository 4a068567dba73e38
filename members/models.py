"""Club members: the custom user model and the club roles a scheduled job needs."""

from __future__ import annotations

import datetime

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


class MemberQuerySet(models.QuerySet["Member"]):
    def active(self) -> MemberQuerySet:
        return self.filter(membership_status__in=settings.ACTIVE_MEMBERSHIP_STATUSES, is_active=True)

    def with_role(self, role: str) -> MemberQuerySet:
        if role not in Member.ROLE_FIELDS:
            raise ValueError(f"unknown role {role!r}")
        return self.filter(**{role: True})

    def leadership(self) -> MemberQuerySet:
        """Chief instructors, board members and the member manager: the top of SPR escalation."""
        return self.active().filter(Q(chief_instructor=True) | Q(director=True) | Q(member_manager=True))


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

    objects = MemberManager()

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name

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
