from __future__ import annotations

import datetime

import factory

from logsheet.models import Airfield, Flight, Glider, Logsheet, Towplane
from members.tests.factories import MemberFactory


class AirfieldFactory(factory.django.DjangoModelFactory[Airfield]):
    class Meta:
        model = Airfield
        django_get_or_create = ("identifier",)

    identifier = "KFRR"
    name = "Front Royal"


class GliderFactory(factory.django.DjangoModelFactory[Glider]):
    class Meta:
        model = Glider

    n_number = factory.Sequence(lambda n: f"N{100 + n}G")
    make = "Schleicher"
    model = "ASK-21"
    competition_number = factory.Sequence(lambda n: f"K{n}")


class TowplaneFactory(factory.django.DjangoModelFactory[Towplane]):
    class Meta:
        model = Towplane

    n_number = factory.Sequence(lambda n: f"N{500 + n}T")
    make = "Piper"
    model = "PA-25 Pawnee"


class LogsheetFactory(factory.django.DjangoModelFactory[Logsheet]):
    class Meta:
        model = Logsheet

    log_date = datetime.date(2026, 11, 1)
    airfield = factory.SubFactory(AirfieldFactory)
    created_by = factory.SubFactory(MemberFactory)
    finalized = True


class FlightFactory(factory.django.DjangoModelFactory[Flight]):
    class Meta:
        model = Flight

    logsheet = factory.SubFactory(LogsheetFactory)
    pilot = factory.SubFactory(MemberFactory)
    glider = factory.SubFactory(GliderFactory)
    launch_time = datetime.time(11, 0)
    landing_time = datetime.time(11, 45)
