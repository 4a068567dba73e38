"""The workloads besides the scheduled jobs, built from the same hardened pod: the migration Job,
the web Deployment and the optional cron-status-check CronJob (k8s/monitoring/)."""

from __future__ import annotations

from typing import Any

from deploy import secrets
from deploy.hardening import POD_NAME_ENV, container, labels, pod_failure_policy, pod_spec
from utils.registry import RESOURCE_CLASSES

MIGRATE_NAME = "manage2soar-migrate"
WEB_NAME = "manage2soar-web"
STATUS_CHECK_NAME = "cron-status-check"
WEB_PORT = 8000
WEB_COMMAND = [
    "gunicorn",
    "manage2soar.wsgi",
    f"--bind=0.0.0.0:{WEB_PORT}",
    "--workers=2",
    "--worker-tmp-dir=/tmp",
    "--access-logfile=-",
    "--config=python:deploy.gunicorn",  # a configuration error: one line, exit 2
]
MIGRATE_RESOURCES = {
    "requests": {"memory": "128Mi", "cpu": "100m"},
    "limits": {"memory": "256Mi", "cpu": "500m"},
}
WEB_RESOURCES = {"requests": {"memory": "192Mi", "cpu": "100m"}, "limits": {"memory": "384Mi", "cpu": "500m"}}


def migration_job(image: str, namespace: str) -> dict[str, Any]:
    """``manage.py migrate``, once per release. Exit 2 (configuration) fails it at once."""
    pod_labels = labels("migrate")
    migrate = container(
        "migrate",
        image,
        ["python", "manage.py", "migrate", "--no-input"],
        MIGRATE_RESOURCES,
        secrets.MIGRATE,
        [POD_NAME_ENV],
    )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": MIGRATE_NAME, "namespace": namespace, "labels": pod_labels},
        "spec": {
            "backoffLimit": 2,
            "activeDeadlineSeconds": 600,
            "ttlSecondsAfterFinished": 86400,
            "podFailurePolicy": pod_failure_policy("migrate"),
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": pod_spec([migrate], secrets.MIGRATE, restartPolicy="Never"),
            },
        },
    }


def _probe(path: str, period: int, failures: int, timeout: int | None = 3) -> dict[str, Any]:
    probe: dict[str, Any] = {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period}
    if timeout is not None:
        probe["timeoutSeconds"] = timeout
    probe["failureThreshold"] = failures
    return probe


def web_container(image: str) -> dict[str, Any]:
    web = container("web", image, WEB_COMMAND, WEB_RESOURCES, secrets.WEB, [POD_NAME_ENV])
    web["ports"] = [{"name": "http", "containerPort": WEB_PORT, "protocol": "TCP"}]
    web["livenessProbe"] = _probe("/healthz", 20, 3)
    web["readinessProbe"] = _probe("/readyz", 10, 2)
    web["startupProbe"] = _probe("/healthz", 2, 30, timeout=None)
    return web


def web_deployment(image: str, namespace: str) -> dict[str, Any]:
    """Two gunicorn replicas, spread over nodes, rolled one at a time without downtime."""
    selector = {"app.kubernetes.io/name": "manage2soar", "app.kubernetes.io/component": "web"}
    spread = {
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": selector},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": WEB_NAME, "namespace": namespace, "labels": labels("web")},
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels("web")},
                "spec": pod_spec([web_container(image)], secrets.WEB, topologySpreadConstraints=[spread]),
            },
        },
    }


STATUS_CHECK_DESCRIPTION = (
    "Dead-man's switch: exit 1 (a failed Job) and email the site admins, once per problem, "
    "when a scheduled job is overdue or failing."
)


def status_check_cronjob(image: str, namespace: str) -> dict[str, Any]:
    """The dead-man's switch without Prometheus: ``cron_status --check --notify`` every 15 min."""
    pod_labels = labels("monitoring", **{"manage2soar.org/job": STATUS_CHECK_NAME})
    command = ["python", "manage.py", "cron_status", "--check", "--notify"]
    check = container("job", image, command, RESOURCE_CLASSES["light"], secrets.STATUS_CHECK, [POD_NAME_ENV])
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": STATUS_CHECK_NAME,
            "namespace": namespace,
            "labels": pod_labels,
            "annotations": {"manage2soar.org/description": STATUS_CHECK_DESCRIPTION},
        },
        "spec": {
            "schedule": "*/15 * * * *",
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 300,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "suspend": False,
            "jobTemplate": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "activeDeadlineSeconds": 300,
                    "backoffLimit": 0,
                    "podFailurePolicy": pod_failure_policy("job"),
                    "template": {
                        "metadata": {"labels": pod_labels},
                        "spec": pod_spec([check], secrets.STATUS_CHECK, restartPolicy="Never"),
                    },
                },
            },
        },
    }
