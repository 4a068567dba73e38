"""The pod and container every workload shares: one source of the hardening.

The CronJobs, the migration Job, the web Deployment and the cron-status-check CronJob are all
built from ``pod_spec()`` and ``container()``: a non-root user, a read-only root filesystem with
one small writable ``/tmp`` (an emptyDir), no capabilities, no service account token, the
ConfigMap through ``envFrom`` and only the Secret's keys the workload reads (``deploy.secrets``).
"""

from __future__ import annotations

from typing import Any

from deploy.secrets import SECRET_DIR, SECRET_VOLUME, SecretKeys

APP = "manage2soar"
CONFIG_NAME = "manage2soar-config"
RUN_AS = 10001
# Exit code 2 is a configuration error: retrying won't fix it.
USAGE_EXIT_CODE = 2

POD_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "fsGroup": RUN_AS,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "privileged": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
TMP_VOLUME: dict[str, Any] = {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}
VOLUME_MOUNTS: list[dict[str, Any]] = [
    {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - an emptyDir, the only writable path
    {"name": SECRET_VOLUME, "mountPath": SECRET_DIR, "readOnly": True},
]
POD_NAME_ENV = {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
# A CronJob's Job is named <cronjob>-<minutes since the epoch>: the run's occurrence.
JOB_NAME_ENV = {
    "name": "JOB_NAME",
    "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}},
}


def labels(component: str, **extra: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": APP,
        "app.kubernetes.io/part-of": APP,
        "app.kubernetes.io/component": component,
        **extra,
    }


def storage_label(secrets: SecretKeys) -> dict[str, str]:
    """Pods that write to the bucket are labelled so: k8s/gke-workload-identity/ selects them."""
    return {"manage2soar.org/storage": "true"} if secrets.storage else {}


def container(
    name: str,
    image: str,
    command: list[str],
    resources: dict[str, Any],
    secrets: SecretKeys,
    env: list[dict[str, Any]],
) -> dict[str, Any]:
    """A container of the image: ``env`` first (the downward API), then the secret files."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "Always",
        "command": command,
        "envFrom": [{"configMapRef": {"name": CONFIG_NAME}}],
        "env": [*env, *secrets.env()],
        "resources": resources,
        "securityContext": CONTAINER_SECURITY_CONTEXT,
        "volumeMounts": VOLUME_MOUNTS,
    }


def pod_spec(containers: list[dict[str, Any]], secrets: SecretKeys, **extra: Any) -> dict[str, Any]:
    """A pod of the hardened containers; ``extra`` adds fields (restartPolicy, probes' spread)."""
    return {
        **extra,
        "serviceAccountName": APP,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 30,
        "securityContext": POD_SECURITY_CONTEXT,
        "containers": containers,
        "volumes": [TMP_VOLUME, secrets.volume()],
    }


def pod_failure_policy(container_name: str) -> dict[str, Any]:
    """Exit 2 (configuration) fails the Job at once; an evicted or preempted pod is retried
    without counting as a failure."""
    return {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": container_name,
                    "operator": "In",
                    "values": [USAGE_EXIT_CODE],
                },
            },
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        ]
    }
