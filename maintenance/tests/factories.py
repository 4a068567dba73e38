from __future__ import annotations

import datetime

import factory

from logsheet.tests.factories import GliderFactory
from maintenance.models import AircraftMeister, MaintenanceDeadline, MaintenanceIssue
from members.tests.factories import MemberFactory


class MaintenanceIssueFactory(factory.django.DjangoModelFactory[MaintenanceIssue]):
    class Meta:
        model = MaintenanceIssue

    glider = factory.SubFactory(GliderFactory)
    description = "Canopy latch sticks"
    report_date = datetime.date(2026, 11, 1)
    grounded = False
    resolved = False


class MaintenanceDeadlineFactory(factory.django.DjangoModelFactory[MaintenanceDeadline]):
    class Meta:
        model = MaintenanceDeadline

    glider = factory.SubFactory(GliderFactory)
    kind = MaintenanceDeadline.Kind.ANNUAL
    due_date = datetime.date(2026, 12, 15)


class AircraftMeisterFactory(factory.django.DjangoModelFactory[AircraftMeister]):
    class Meta:
        model = AircraftMeister

    glider = factory.SubFactory(GliderFactory)
    member = factory.SubFactory(MemberFactory)
