"""The job registry: every management command that subclasses BaseCronJobCommand.

Schedules live on the command classes; manifests, the local scheduler, ``cron_status`` and the
docs are derived from this registry.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from django.core.management import get_commands

from utils.cronjob import BaseCronJobCommand


@cache
def cron_commands() -> dict[str, type[BaseCronJobCommand]]:
    """Command name -> class, for every cron command of the installed apps, sorted by name."""
    found: dict[str, type[BaseCronJobCommand]] = {}
    for name, app in sorted(get_commands().items()):
        if app == "django.core":
            continue
        command_class = getattr(import_module(f"{app}.management.commands.{name}"), "Command", None)
        if isinstance(command_class, type) and issubclass(command_class, BaseCronJobCommand):
            found[name] = command_class
    return found


def scheduled_jobs() -> dict[str, type[BaseCronJobCommand]]:
    """The cron commands that declare a schedule (the ones Kubernetes runs)."""
    return {name: cls for name, cls in cron_commands().items() if cls.schedule}
