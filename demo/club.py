"""The whole demo club: ``scale`` sections on one calendar, built in one transaction."""

from __future__ import annotations

import datetime
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import models, transaction

from demo.calendar import Calendar
from demo.reset import make_room
from demo.section import build_section
from demo.summary import SECTION_FINDINGS, DemoClub
from instructors.models import InstructionReport
from logsheet.models import Logsheet

MAX_SCALE = 1000


def build_demo_club(
    *,
    scale: int,
    seed: int,
    today: datetime.date,
    reset: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> DemoClub:
    """Build the club in one transaction (after deleting the old one when ``reset``)."""
    started = time.monotonic()
    calendar = Calendar.build(seed, today)
    # Like make_password(None), but the same every run: "!" marks a password that can't log in.
    password = f"{UNUSABLE_PASSWORD_PREFIX}demo-club-{seed}"
    counts: Counter[str] = Counter()
    delinquents, example = 0, None
    with transaction.atomic(), _explicit_timestamps(Logsheet, InstructionReport):
        make_room(reset=reset)
        for index in range(scale):
            report = build_section(index, seed, calendar, password)
            counts.update(report.counts)
            delinquents += report.delinquents
            example = example or report
            if progress is not None:
                progress(index + 1, scale)
    findings = replace(SECTION_FINDINGS.times(scale), delinquents=delinquents)
    assert example is not None
    return DemoClub(scale, seed, today, time.monotonic() - started, counts, findings, example)


@contextmanager
def _explicit_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create keep the created_at values we set.

    auto_now_add would stamp the wall clock, and the same seed must give the same rows.
    """
    fields = [
        f
        for model in model_classes
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField | models.TimeField) and f.auto_now_add
    ]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True
