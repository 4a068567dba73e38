"""Render the CronJobs from the job registry (``--check``: fail if the committed files differ).

Two committed copies are written from the same render: ``k8s-cronjobs.yaml`` at the top (for
``kubectl apply -f``) and ``k8s/cronjobs.yaml`` (kustomize reads only files under ``k8s/``).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from deploy import manifests
from utils.exitcodes import ExitCode
from utils.registry import job_specs
from utils.timing import timing_problems

DEFAULT_IMAGE = "manage2soar:0.1.0"
DEFAULT_NAMESPACE = "manage2soar"


def committed_files() -> list[Path]:
    root = Path(settings.BASE_DIR)
    return [root / "k8s-cronjobs.yaml", root / "k8s" / "cronjobs.yaml"]


class Command(BaseCommand):
    help = "Write the Kubernetes CronJobs of every scheduled command (k8s-cronjobs.yaml, k8s/cronjobs.yaml)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Exit 1 with a diff if a file differs.")
        parser.add_argument(
            "--image", default=DEFAULT_IMAGE, help=f"Container image (default {DEFAULT_IMAGE})."
        )
        parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="Namespace of the CronJobs.")
        parser.add_argument(
            "--timezone", help="Zone of the schedules (default: the CRONJOB_TIMEZONE setting, Etc/UTC)."
        )
        parser.add_argument(
            "--print", dest="print_only", action="store_true", help="Print instead of writing the files."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        specs = job_specs(options["timezone"])
        problems = [p for spec in specs for p in timing_problems(spec, settings.CRONJOB_LEASE_SECONDS)]
        if problems:
            raise CommandError("inconsistent timing: " + "; ".join(problems), returncode=ExitCode.USAGE)
        rendered = manifests.render(specs, options["image"], options["namespace"])
        if options["print_only"]:
            self.stdout.write(rendered, ending="")
        elif options["check"]:
            self.check_committed(rendered, len(specs))
        else:
            for path in committed_files():
                path.write_text(rendered)
                self.stdout.write(f"Wrote {len(specs)} CronJobs to {path.relative_to(settings.BASE_DIR)}")

    def check_committed(self, rendered: str, count: int) -> None:
        stale = []
        for path in committed_files():
            current = path.read_text() if path.exists() else ""
            if current != rendered:
                name = str(path.relative_to(settings.BASE_DIR))
                diff = difflib.unified_diff(
                    current.splitlines(keepends=True),
                    rendered.splitlines(keepends=True),
                    fromfile=f"{name} (committed)",
                    tofile=f"{name} (rendered from the registry)",
                )
                self.stdout.write("".join(diff))
                stale.append(name)
        if stale:
            raise CommandError(
                f"{', '.join(stale)} differ(s) from the job registry: run `manage.py render_cronjobs`",
                returncode=ExitCode.FAILED,
            )
        self.stdout.write(f"k8s-cronjobs.yaml and k8s/cronjobs.yaml are up to date ({count} CronJobs)")
