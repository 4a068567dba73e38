"""The PrometheusRule of k8s/monitoring/prometheusrule.yaml, from the settings the pods use.

The thresholds are the ConfigMap's (``deploy.cluster_settings``): a job alerts after
``CRONJOB_ALERT_AFTER_FAILURES`` failures in a row, as the alert emails and ``cron_status
--check`` do, and is slow at ``CRONJOB_SLOW_RATIO`` of its deadline, as the dashboard says.
Every web replica reports the same database, so each expression takes max by (job_name).
"""

from __future__ import annotations

from typing import Any

from deploy.cluster_settings import ClusterSettings

RULE_NAME = "manage2soar-cronjobs"


def _rule(alert: str, expr: str, severity: str, summary: str, **extra: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": alert, "expr": expr}
    if "duration" in extra:
        rule["for"] = extra.pop("duration")
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, **extra}
    return rule


def failure_rules(config: ClusterSettings) -> list[dict[str, Any]]:
    """A job failing in a row, and a slot with no run: what pages someone."""
    return [
        _rule(
            "CronJobFailingRepeatedly",
            f"max by (job_name) (manage2soar_cronjob_consecutive_failures) >= {config.alert_after_failures}",
            "critical",
            "{{ $labels.job_name }} failed {{ $value }} times in a row",
            description="Its last runs ended failed or timed_out. `manage.py cron_status` shows the error "
            "line; see docs/operations.md.",
        ),
        _rule(
            "CronJobOverdue",
            "max by (job_name) (manage2soar_cronjob_overdue) == 1",
            "critical",
            "{{ $labels.job_name }} did not run for its last scheduled slot",
            duration="5m",
            description="No successful run since its latest slot plus starting deadline, deadline and grace. "
            "Is the CronJob suspended, or are its Jobs failing to start?",
        ),
    ]


def slowness_rules(config: ClusterSettings) -> list[dict[str, Any]]:
    """A run near its deadline, or a job that got slow: warnings."""
    ratio, share = config.slow_ratio, f"{config.slow_ratio * 100:g}%"
    deadline = f"  > {ratio:g} * max by (job_name) (manage2soar_cronjob_deadline_seconds)\n"
    return [
        _rule(
            "CronJobNearDeadline",
            "max by (job_name) (manage2soar_cronjob_lock_held_seconds)\n" + deadline,
            "warning",
            f"{{{{ $labels.job_name }}}} has been running for over {share} of its max_execution_time",
            description="It will be stopped as timed_out at its deadline. Slow database or much more data "
            "than usual?",
        ),
        _rule(
            "CronJobSlow",
            "max by (job_name) (manage2soar_cronjob_last_duration_seconds)\n" + deadline,
            "warning",
            f"{{{{ $labels.job_name }}}}'s last run took over {share} of its max_execution_time",
            duration="1h",
        ),
    ]


def plumbing_rules() -> list[dict[str, Any]]:
    """Runs that overlap, and metrics that stopped coming."""
    return [
        _rule(
            "CronJobLockContention",
            "max by (job_name) (increase(manage2soar_cronjob_lock_skips_total[6h])) > 2",
            "warning",
            "{{ $labels.job_name }} was skipped {{ $value }} times in 6h because its lock was held",
            description="Runs overlap (a stuck run, or manual runs during scheduled ones). "
            "`manage.py cron_locks` shows the holder.",
        ),
        _rule(
            "CronJobMetricsAbsent",
            "absent(manage2soar_cronjob_info)",
            "warning",
            "No Manage2Soar job metrics for 15 minutes: is /metrics scraped with its token?",
            duration="15m",
        ),
    ]


def rules(config: ClusterSettings) -> list[dict[str, Any]]:
    return [*failure_rules(config), *slowness_rules(config), *plumbing_rules()]


def prometheus_rule(config: ClusterSettings, namespace: str) -> dict[str, Any]:
    # `release`: the label a Prometheus Operator's ruleSelector usually matches (adjust in an overlay).
    metadata_labels = {
        "app.kubernetes.io/name": "manage2soar",
        "app.kubernetes.io/component": "monitoring",
        "release": "prometheus",
    }
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": RULE_NAME, "namespace": namespace, "labels": metadata_labels},
        "spec": {"groups": [{"name": RULE_NAME, "rules": rules(config)}]},
    }
