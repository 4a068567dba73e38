"""Validate every manifest (and the kustomize build) strictly against each Kubernetes version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from deploy.checks import (
    documents,
    kubernetes_versions,
    kustomize_build,
    manifest_files,
    validation_errors,
)
from utils.exitcodes import ExitCode


class Command(BaseCommand):
    help = (
        "Validate k8s-cronjobs.yaml, every file in k8s/ (and the optional cron-status-check and Workload "
        "Identity policy) and the output of `kubectl kustomize k8s/` "
        "against the Kubernetes schemas, strictly (unknown fields rejected), for each supported version."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        root = Path(settings.BASE_DIR)
        versions = kubernetes_versions()
        sources = {str(path.relative_to(root)): path.read_text() for path in manifest_files(root)}
        try:
            sources["kubectl kustomize k8s/"] = kustomize_build(root / "k8s")
        except RuntimeError as exc:
            raise CommandError(str(exc), returncode=ExitCode.FAILED) from None
        errors = [e for source, text in sources.items() for e in validation_errors(text, source, versions)]
        for error in errors:
            self.stderr.write(f"❌ {error}")
        if errors:
            raise CommandError(f"{len(errors)} validation error(s)", returncode=ExitCode.FAILED)
        count = sum(1 for text in sources.values() for _ in documents(text))
        self.stdout.write(
            f"✅ {count} resources in {len(sources)} sources valid against Kubernetes "
            f"{versions[0]}–{versions[-1]} (strict)"
        )
