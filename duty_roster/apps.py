from __future__ import annotations

from django.apps import AppConfig


class DutyRosterConfig(AppConfig):
    name = "duty_roster"
    verbose_name = "Duty roster"
