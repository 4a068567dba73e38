from __future__ import annotations

from django.apps import AppConfig


class InstructorsConfig(AppConfig):
    name = "instructors"
    verbose_name = "Instruction"
