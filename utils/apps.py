from __future__ import annotations

from django.apps import AppConfig


class UtilsConfig(AppConfig):
    name = "utils"
    verbose_name = "Scheduled jobs"
