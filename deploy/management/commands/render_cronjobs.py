"""Render the manifests generated from the job registry (``--check``: fail if a committed file differs).

The CronJobs (``k8s-cronjobs.yaml`` and its copy ``k8s/cronjobs.yaml``), the migration Job, the
web Deployment, and in ``k8s/monitoring/`` the cron-status-check CronJob and the Prometheus
rules: see ``deploy.generated``. The CronJobs' zone and the rules' thresholds are the ConfigMap's
(``k8s/configmap.yaml``), the values the pods run with.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from deploy.cluster_settings import ClusterSettings, ConfigMapError, cluster_settings
from deploy.generated import generated_files
from utils.exitcodes import ExitCode
from utils.registry import JobSpec, job_specs
from utils.timing import timing_problems

DEFAULT_IMAGE = "manage2soar:0.1.0"
DEFAULT_NAMESPACE = "manage2soar"


class Command(BaseCommand):
    help = (
        "Write the Kubernetes manifests generated from the job registry and k8s/configmap.yaml: the "
        "CronJobs (k8s-cronjobs.yaml, k8s/cronjobs.yaml), the migration Job, the web Deployment and "
        "k8s/monitoring/'s cron-status-check CronJob and Prometheus rules."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Exit 1 with a diff if a file differs.")
        parser.add_argument(
            "--image", default=DEFAULT_IMAGE, help=f"Container image (default {DEFAULT_IMAGE})."
        )
        parser.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="Namespace of the workloads.")
        parser.add_argument(
            "--print", dest="print_only", action="store_true", help="Print the CronJobs instead of writing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.BASE_DIR)
        config, specs = self.read_sources(root)
        files = generated_files(root, specs, config, options["image"], options["namespace"])
        if options["print_only"]:
            self.stdout.write(files[root / "k8s-cronjobs.yaml"], ending="")
        elif options["check"]:
            self.check_committed(root, files, len(specs))
        else:
            for path, text in files.items():
                path.write_text(text)
                self.stdout.write(f"Wrote {path.relative_to(root)}")
            self.stdout.write(f"{len(specs)} CronJobs, zone {config.timezone} (from k8s/configmap.yaml)")

    def read_sources(self, root: Path) -> tuple[ClusterSettings, list[JobSpec]]:
        try:
            config = cluster_settings(root)
        except ConfigMapError as exc:
            raise CommandError(str(exc), returncode=ExitCode.USAGE) from None
        specs = job_specs(config.timezone)
        problems = [p for spec in specs for p in timing_problems(spec, settings.CRONJOB_LEASE_SECONDS)]
        if problems:
            raise CommandError("inconsistent timing: " + "; ".join(problems), returncode=ExitCode.USAGE)
        return config, specs

    def check_committed(self, root: Path, files: dict[Path, str], count: int) -> None:
        stale = []
        for path, rendered in files.items():
            current = path.read_text() if path.exists() else ""
            if current != rendered:
                name = str(path.relative_to(root))
                diff = difflib.unified_diff(
                    current.splitlines(keepends=True),
                    rendered.splitlines(keepends=True),
                    fromfile=f"{name} (committed)",
                    tofile=f"{name} (rendered)",
                )
                self.stdout.write("".join(diff))
                stale.append(name)
        if stale:
            raise CommandError(
                f"{', '.join(stale)} differ(s) from the job registry and k8s/configmap.yaml: "
                "run `manage.py render_cronjobs`",
                returncode=ExitCode.FAILED,
            )
        self.stdout.write(f"The {len(files)} generated manifests are up to date ({count} CronJobs)")
