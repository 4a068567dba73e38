"""When this installation first knew each scheduled job (``KnownJob``).

Written at migrate time: ``post_migrate`` (every ``migrate``, the migration Job's included, so a
job added by an upgrade is recorded by that upgrade's migration) adds a row for each scheduled
job that has none. A status read that still finds a job without a row (a schedule added without
a migrate) records it then. Rows are only ever added: a job's first sighting never moves.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone


def record_known_jobs(
    names: Iterable[str], now: datetime.datetime, using: str = DEFAULT_DB_ALIAS, model: Any = None
) -> None:
    """Add a row, first seen ``now``, for each of ``names`` that has none (one statement)."""
    if model is None:
        from operations.models import KnownJob as model
    rows = [model(job_name=name, first_seen_at=now) for name in names]
    if rows:
        model.objects.using(using).bulk_create(rows, ignore_conflicts=True)


def first_seen(names: list[str], now: datetime.datetime) -> dict[str, datetime.datetime]:
    """Job name -> when this installation first knew it, for every one of ``names``.

    One query; a second one only when a job has no row yet: it is recorded as seen ``now`` (should
    another process record it at the same moment, its row stays and differs by the time between).
    """
    from operations.models import KnownJob

    seen = dict(KnownJob.objects.filter(job_name__in=names).values_list("job_name", "first_seen_at"))
    missing = [name for name in names if name not in seen]
    if missing:
        record_known_jobs(missing, now)
        seen.update(dict.fromkeys(missing, now))
    return seen


def record_after_migrate(sender: Any, apps: Any = None, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` of the operations app (after ``migrate``, and after ``flush``, which
    passes no ``apps``): record the scheduled jobs this migrate meets."""
    from django.apps import apps as installed_apps

    from utils.registry import scheduled_jobs

    apps = apps or installed_apps
    try:
        model = apps.get_model("operations", "KnownJob")
    except LookupError:  # migrated back to before the table existed
        return
    record_known_jobs(scheduled_jobs(), timezone.now(), using=using, model=model)
