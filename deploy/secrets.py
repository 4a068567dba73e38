"""Which keys of the Secret each workload mounts: only those its process reads.

Every key is a file at ``SECRET_DIR`` (never an environment value), read through the settings'
``X_FILE`` support. A workload mounts a projected volume of two parts: the keys it can't start
without (a key missing from the Secret stops the pod from starting, which is the point) and its
optional keys (a key left out of the Secret is a missing file, which the settings read as "not
configured": that feature is off, the pod still starts).

- the migration Job: SECRET_KEY and DATABASE_URL;
- the web pods: those and EMAIL_URL; optionally METRICS_TOKEN;
- the scheduled jobs: SECRET_KEY, DATABASE_URL, EMAIL_URL; optionally TWILIO_AUTH_TOKEN,
  SLACK_WEBHOOK_URL, SENTRY_DSN, CRONJOB_PING_URL_TEMPLATE, and the Google key for a job that
  ``uses_storage``;
- cron-status-check: SECRET_KEY, DATABASE_URL, EMAIL_URL; optionally TWILIO_AUTH_TOKEN and
  SLACK_WEBHOOK_URL (its alerts' channels).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from utils.registry import JobSpec

SECRET_NAME = "manage2soar-secrets"  # noqa: S105 - a name, not a secret
SECRET_DIR = "/var/run/secrets/manage2soar"  # noqa: S105 - a path, not a secret
SECRET_VOLUME = "secrets"  # noqa: S105 - a volume's name
# The keys a club must put in the Secret, and those it may (docs/deployment.md, step 3).
SECRET_FILES = ("SECRET_KEY", "DATABASE_URL", "EMAIL_URL")
OPTIONAL_SECRET_FILES = (
    "TWILIO_AUTH_TOKEN",
    "SLACK_WEBHOOK_URL",
    "METRICS_TOKEN",
    "SENTRY_DSN",
    "CRONJOB_PING_URL_TEMPLATE",
)
# The Google service account key (Cloud Storage), a key of the same Secret: the Google libraries
# read it from GOOGLE_APPLICATION_CREDENTIALS, a path set in the ConfigMap (docs/storage.md).
# Optional: with Workload Identity there is no key.
GCS_CREDENTIALS_KEY = "gcs-credentials.json"
SECRET_FILE_MODE = 0o440  # read-only, for the pod's group (fsGroup) only


@dataclass(frozen=True)
class SecretKeys:
    """The keys one workload mounts."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    storage: bool = False  # the Google key, for a workload that writes to the bucket

    @property
    def optional_files(self) -> tuple[str, ...]:
        return (*self.optional, GCS_CREDENTIALS_KEY) if self.storage else self.optional

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.required, *self.optional_files)

    def env(self) -> list[dict[str, Any]]:
        """``X_FILE`` for every settings key it mounts. A workload without the Google key blanks
        GOOGLE_APPLICATION_CREDENTIALS (set for all in the ConfigMap): with a bucket configured,
        the settings would otherwise refuse to start over a key file this pod never needs."""
        keys = (*self.required, *self.optional)
        env = [{"name": f"{key}_FILE", "value": f"{SECRET_DIR}/{key}"} for key in keys]
        if not self.storage:
            env.append({"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": ""})
        return env

    def volume(self) -> dict[str, Any]:
        sources: list[dict[str, Any]] = [
            {"secret": {"name": SECRET_NAME, "items": [{"key": k, "path": k} for k in self.required]}}
        ]
        if self.optional_files:
            items = [{"key": k, "path": k} for k in self.optional_files]
            sources.append({"secret": {"name": SECRET_NAME, "items": items, "optional": True}})
        return {"name": SECRET_VOLUME, "projected": {"defaultMode": SECRET_FILE_MODE, "sources": sources}}


BASE = ("SECRET_KEY", "DATABASE_URL")
SENDING = (*BASE, "EMAIL_URL")  # every process that may send mail (settings: COMMANDS_WITHOUT_MAIL)
ALERT_CHANNELS = ("TWILIO_AUTH_TOKEN", "SLACK_WEBHOOK_URL")
MONITORS = ("SENTRY_DSN", "CRONJOB_PING_URL_TEMPLATE")

MIGRATE = SecretKeys(BASE)
# No Google key: the web app stores no file (no model has an upload field yet), and the links
# in emails point straight at the bucket. Give it storage=True with the first upload field.
WEB = SecretKeys(SENDING, ("METRICS_TOKEN",))
STATUS_CHECK = SecretKeys(SENDING, ALERT_CHANNELS)


def cronjob_keys(spec: JobSpec) -> SecretKeys:
    return SecretKeys(SENDING, (*ALERT_CHANNELS, *MONITORS), storage=spec.uses_storage)
