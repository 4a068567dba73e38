from __future__ import annotations

import datetime

import factory

from duty_roster.models import DutyAssignment
from logsheet.tests.factories import AirfieldFactory


class DutyAssignmentFactory(factory.django.DjangoModelFactory[DutyAssignment]):
    class Meta:
        model = DutyAssignment

    date = datetime.date(2026, 11, 28)
    location = factory.SubFactory(AirfieldFactory)
    is_scheduled = True
    is_confirmed = False
