from __future__ import annotations

from django.apps import AppConfig


class InstructorsConfig(AppConfig):
    name = "instructors"
    verbose_name = "Instruction"

    def ready(self) -> None:
        from instructors import signals  # noqa: F401 - connects the receivers
