from __future__ import annotations

import datetime

import factory

from members.models import Member


class MemberFactory(factory.django.DjangoModelFactory[Member]):
    class Meta:
        model = Member
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"member{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.LazyAttribute(lambda m: f"{m.username}@example.org")
    membership_status = "full"
    joined_club = datetime.date(2015, 4, 1)
