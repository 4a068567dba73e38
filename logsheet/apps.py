from __future__ import annotations

from django.apps import AppConfig


class LogsheetConfig(AppConfig):
    name = "logsheet"
    verbose_name = "Logsheets and flights"
