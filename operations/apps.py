from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Job monitoring"

    def ready(self) -> None:
        from operations import observability
        from utils import signals

        signals.run_started.connect(observability.run_started, dispatch_uid="operations.run_started")
        signals.run_finished.connect(observability.run_finished, dispatch_uid="operations.run_finished")
        signals.run_skipped.connect(observability.run_skipped, dispatch_uid="operations.run_skipped")
