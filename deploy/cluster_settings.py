"""The settings the rendered manifests and the running pods must agree on, read from one place:
the ConfigMap (``k8s/configmap.yaml``) that every pod gets through ``envFrom``.

``render_cronjobs`` takes the CronJobs' zone and the Prometheus rules' thresholds from it, so
a club that changes one of them there and renders again gets schedules, ``cron_status``,
``/metrics``, Sentry, the alert emails and the Prometheus alerts that all agree.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import yaml

CONFIGMAP = Path("k8s") / "configmap.yaml"


class ConfigMapError(ValueError):
    """The ConfigMap lacks a rendered setting or holds a bad value (one line)."""


@dataclass(frozen=True)
class ClusterSettings:
    timezone: str  # CRONJOB_TIMEZONE: the zone of the CronJobs' schedules
    alert_after_failures: int  # CRONJOB_ALERT_AFTER_FAILURES
    slow_ratio: float  # CRONJOB_SLOW_RATIO


def configmap_data(root: Path) -> dict[str, str]:
    path = root / CONFIGMAP
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigMapError(f"{CONFIGMAP}: cannot read it ({type(exc).__name__})") from None
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise ConfigMapError(f"{CONFIGMAP}: no data")
    return {str(key): str(value) for key, value in data.items()}


def _value(data: dict[str, str], key: str) -> str:
    if not data.get(key, "").strip():
        raise ConfigMapError(
            f"{CONFIGMAP}: {key} is missing (the pods and the rendered manifests read it there)"
        )
    return data[key].strip()


def _number(data: dict[str, str], key: str, kind: type[int] | type[float]) -> float:
    text = _value(data, key)
    try:
        return kind(text)
    except ValueError:
        raise ConfigMapError(
            f"{CONFIGMAP}: {key}={text!r} is not a{'n integer' if kind is int else ' number'}"
        ) from None


def cluster_settings(root: Path) -> ClusterSettings:
    data = configmap_data(root)
    zone = _value(data, "CRONJOB_TIMEZONE")
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigMapError(f"{CONFIGMAP}: CRONJOB_TIMEZONE={zone!r} is not an IANA time zone") from None
    failures = int(_number(data, "CRONJOB_ALERT_AFTER_FAILURES", int))
    ratio = _number(data, "CRONJOB_SLOW_RATIO", float)
    if failures < 1:
        raise ConfigMapError(f"{CONFIGMAP}: CRONJOB_ALERT_AFTER_FAILURES={failures} must be at least 1")
    if not 0 < ratio <= 1:
        raise ConfigMapError(f"{CONFIGMAP}: CRONJOB_SLOW_RATIO={ratio} must be above 0 and at most 1")
    return ClusterSettings(timezone=zone, alert_after_failures=failures, slow_ratio=ratio)
