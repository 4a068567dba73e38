from __future__ import annotations

import datetime

import factory

from instructors.models import InstructionReport
from members.tests.factories import MemberFactory


class InstructionReportFactory(factory.django.DjangoModelFactory[InstructionReport]):
    class Meta:
        model = InstructionReport

    student = factory.SubFactory(MemberFactory, membership_status="student")
    instructor = factory.SubFactory(MemberFactory, instructor=True)
    report_date = datetime.date(2026, 11, 1)
    report_text = "Good coordination; work on pattern spacing."
