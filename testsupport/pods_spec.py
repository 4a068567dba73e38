"""A workload of the manifests, resolved as the Kubernetes controllers and the kubelet would
resolve it into a running container: its pod's name and labels, its argv (the container's
``command``/``args`` over the image's ENTRYPOINT/CMD), its environment (the image's ENV, then
``envFrom``, then ``env`` with fieldRefs filled in and ``$(VAR)`` expanded), its user, its
volumes and its memory limit.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deploy.checks import kustomize_build
from testsupport.pods_image import Image
from utils.timing import occurrences

QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$")
UNITS = {None: 1, "K": 10**3, "M": 10**6, "G": 10**9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
# What the kubelet always adds to a container's environment (enableServiceLinks: false removes
# only the other services' variables).
KUBERNETES_ENV = {
    "KUBERNETES_SERVICE_HOST": "10.96.0.1",
    "KUBERNETES_SERVICE_PORT": "443",
    "KUBERNETES_SERVICE_PORT_HTTPS": "443",
}


class PodSpecError(ValueError):
    """The manifest asks for something this reproduction does not do (one line)."""


def quantity(text: str) -> int:
    match = QUANTITY.match(str(text))
    if match is None:
        raise PodSpecError(f"not a quantity: {text}")
    return int(float(match.group(1)) * UNITS[match.group(2)])


@dataclass(frozen=True)
class Workload:
    kind: str  # CronJob, Job or Deployment
    name: str
    manifest: dict[str, Any]

    @property
    def template(self) -> dict[str, Any]:
        if self.kind == "CronJob":
            return dict(self.manifest["spec"]["jobTemplate"]["spec"]["template"])
        return dict(self.manifest["spec"]["template"])

    @property
    def deadline(self) -> float | None:
        """The Job's activeDeadlineSeconds (a Deployment's pods run until stopped)."""
        spec = (
            self.manifest["spec"]["jobTemplate"]["spec"] if self.kind == "CronJob" else self.manifest["spec"]
        )
        return spec.get("activeDeadlineSeconds") if self.kind != "Deployment" else None


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def manifests(root: Path) -> list[dict[str, Any]]:
    """The kustomize build of k8s/ (as `kubectl apply -k` applies it) and the optional
    cron-status-check CronJob of k8s/monitoring/."""
    built = documents(kustomize_build(root / "k8s"))
    return built + documents((root / "k8s" / "monitoring" / "cron-status-check.yaml").read_text())


def workloads(resources: list[dict[str, Any]]) -> list[Workload]:
    return [
        Workload(r["kind"], r["metadata"]["name"], r)
        for r in resources
        if r["kind"] in ("CronJob", "Job", "Deployment")
    ]


def configmaps(resources: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {r["metadata"]["name"]: dict(r.get("data", {})) for r in resources if r["kind"] == "ConfigMap"}


def random_suffix(length: int = 5) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"  # the characters Kubernetes' generated names use
    return "".join(secrets.choice(alphabet) for _ in range(length))


def latest_slot(schedule: str, zone: str, now: datetime.datetime) -> datetime.datetime:
    """The CronJob's latest scheduled time at or before ``now``: the slot its Job is for."""
    latest = None
    for slot in occurrences(schedule, zone, now - datetime.timedelta(days=32)):
        if slot > now:
            break
        latest = slot
    if latest is None:
        raise PodSpecError(f"no slot of {schedule!r} in the month before {now}")
    return latest


@dataclass
class PodMeta:
    """The pod object the controllers would create: name, labels, uid; and its Job's name."""

    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    job_name: str | None = None


def pod_meta(workload: Workload, now: datetime.datetime) -> PodMeta:
    template = workload.template.get("metadata", {})
    labels = dict(template.get("labels", {}))
    namespace = workload.manifest["metadata"].get("namespace", "default")
    if workload.kind == "Deployment":
        # The ReplicaSet's name carries a hash of the pod template, the pod a random suffix.
        digest = hashlib.sha256(yaml.safe_dump(workload.template).encode()).hexdigest()[:10]
        labels["pod-template-hash"] = digest
        name = f"{workload.name}-{digest}-{random_suffix()}"
        return PodMeta(name, namespace, labels, dict(template.get("annotations", {})))
    if workload.kind == "CronJob":
        spec = workload.manifest["spec"]
        slot = latest_slot(spec["schedule"], spec.get("timeZone", "Etc/UTC"), now)
        job = f"{workload.name}-{int(slot.timestamp() // 60)}"  # the CronJob controller's naming
    else:
        job = workload.name
    controller = str(uuid.uuid4())
    labels.update(
        {
            "batch.kubernetes.io/job-name": job,
            "job-name": job,
            "batch.kubernetes.io/controller-uid": controller,
            "controller-uid": controller,
        }
    )
    return PodMeta(
        f"{job}-{random_suffix()}", namespace, labels, dict(template.get("annotations", {})), job_name=job
    )


def field_value(meta: PodMeta, spec: dict[str, Any], path: str) -> str:
    """A downward-API fieldRef, as the kubelet fills it in."""
    simple = {
        "metadata.name": meta.name,
        "metadata.namespace": meta.namespace,
        "metadata.uid": meta.uid,
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "spec.nodeName": "pods-node",
        "status.podIP": "127.0.0.1",
        "status.hostIP": "127.0.0.1",
    }
    if path in simple:
        return simple[path]
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match is None:
        raise PodSpecError(f"fieldRef {path} is not supported here")
    values = meta.labels if match.group(1) == "labels" else meta.annotations
    return values.get(match.group(2), "")


def expand_references(value: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) references ($$(VAR) stays literal); unknown ones are left as they are."""
    return re.sub(
        r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
        lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
        value,
    )


def container_env(
    container: dict[str, Any],
    image: Image,
    meta: PodMeta,
    spec: dict[str, Any],
    maps: dict[str, dict[str, str]],
) -> dict[str, str]:
    env = {**image.env, "HOSTNAME": meta.name, **KUBERNETES_ENV}
    for source in container.get("envFrom", []):
        reference = source.get("configMapRef")
        if reference is None:
            raise PodSpecError(f"envFrom {source} is not supported here (ConfigMaps only)")
        if reference["name"] not in maps and not reference.get("optional"):
            raise PodSpecError(f"ConfigMap {reference['name']} not found")
        prefix = source.get("prefix", "")
        env.update({prefix + k: v for k, v in maps.get(reference["name"], {}).items()})
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = expand_references(str(variable["value"]), env)
        elif "fieldRef" in variable.get("valueFrom", {}):
            env[variable["name"]] = field_value(meta, spec, variable["valueFrom"]["fieldRef"]["fieldPath"])
        elif "configMapKeyRef" in variable.get("valueFrom", {}):
            reference = variable["valueFrom"]["configMapKeyRef"]
            env[variable["name"]] = maps[reference["name"]][reference["key"]]
        else:
            raise PodSpecError(f"env {variable['name']}: {variable.get('valueFrom')} is not supported here")
    return env


def argv(container: dict[str, Any], image: Image, env: dict[str, str]) -> list[str]:
    """The container's process: command replaces ENTRYPOINT, args replaces CMD."""
    if "command" in container:
        words = [*container["command"], *container.get("args", [])]
    else:
        words = [*(image.entrypoint or []), *container.get("args", image.cmd or [])]
    if not words:
        raise PodSpecError("the container has no command and the image no ENTRYPOINT or CMD")
    return [expand_references(w, env) for w in words]
