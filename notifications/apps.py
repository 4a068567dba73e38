from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from notifications.quiet_hours import QuietHours

        QuietHours.from_settings()  # refuses a bad SMS_QUIET_HOURS before anything runs
