from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Job monitoring"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from operations import observability
        from operations.known_jobs import record_after_migrate
        from utils import signals

        # After every migrate: the scheduled jobs this installation knows, and since when.
        post_migrate.connect(record_after_migrate, sender=self, dispatch_uid="operations.known_jobs")

        signals.run_started.connect(observability.run_started, dispatch_uid="operations.run_started")
        signals.run_finished.connect(observability.run_finished, dispatch_uid="operations.run_finished")
        signals.run_skipped.connect(observability.run_skipped, dispatch_uid="operations.run_skipped")
