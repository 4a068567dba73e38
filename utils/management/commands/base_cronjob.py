"""The original Manage2Soar import path of the base class, kept so that ported commands run
unchanged: ``from utils.management.commands.base_cronjob import BaseCronJobCommand``.

The class lives in ``utils.cronjob``. This module sits under ``management/commands/``, so
Django lists it as a command; run, it says in one line that it is a base class and exits 2.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError

from utils.cli import OneLineErrorsCommand
from utils.cronjob import BaseCronJobCommand
from utils.exitcodes import ExitCode

__all__ = ["BaseCronJobCommand", "Command"]

REFUSAL = (
    "base_cronjob is the base class of scheduled commands, not a command: subclass "
    "BaseCronJobCommand and run that command (docs/adding-a-job.md)"
)


class Command(OneLineErrorsCommand):
    help = "Not a command: the original import path of BaseCronJobCommand (refuses to run, exit 2)."
    requires_system_checks: list[str] = []

    def run_from_argv(self, argv: list[str]) -> None:
        # Whatever the arguments (even --help): one line and exit 2.
        sys.stderr.write(f"❌ [base_cronjob] {REFUSAL}\n")
        sys.exit(ExitCode.USAGE)

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError(REFUSAL, returncode=ExitCode.USAGE)
