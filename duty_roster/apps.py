from __future__ import annotations

from django.apps import AppConfig


class DutyRosterConfig(AppConfig):
    name = "duty_roster"
    verbose_name = "Duty roster"

    def ready(self) -> None:
        from duty_roster.closures import closed_day_reason
        from utils import signals

        signals.closed_day.connect(closed_day_reason, dispatch_uid="duty_roster.closed_day")
