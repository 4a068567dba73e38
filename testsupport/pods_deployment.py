"""A first deployment, as docs/deployment.md makes it, for ``make pods``: the image built from the
Dockerfile, a fresh PostgreSQL database, the Secret with the keys the deployment steps create,
the resources of the manifests, and the loopback SMTP server as the club's mail relay.

Each pod run is kept (``results``) with the mail the SMTP server accepted while it ran, and a
summary of every run (exit, time, peak memory against the limit, /tmp used) is written to
``build/pods/summary.md``.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import re
import secrets
import shutil
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from testsupport.databases import REPO, postgres_url
from testsupport.pods import Cluster, Pod, PodResult
from testsupport.pods_image import build_image
from testsupport.pods_spec import Workload, latest_slot, manifests
from testsupport.smtp import ReceivedMessage, SMTPServer

WORKSPACE = REPO / "build" / "pods"
DEPLOYMENT_DOC = REPO / "docs" / "deployment.md"
MIB = 2**20
# A CronJob's pod starts a few seconds after its slot (the controller, the kubelet, Python).
SLOT_TO_START = datetime.timedelta(seconds=20)


def secret_keys_from_docs(doc: Path = DEPLOYMENT_DOC) -> list[str]:
    """The keys the deployment steps put in the Secret: the --from-file=KEY= arguments of the
    `kubectl … create secret generic manage2soar-secrets` command of docs/deployment.md."""
    text = doc.read_text()
    match = re.search(r"create secret generic manage2soar-secrets((?:[^\n]*\\\n)*[^\n]*)", text)
    if match is None:
        raise AssertionError(f"{doc.name} creates no Secret manage2soar-secrets")
    return re.findall(r"--from-file=([\w.-]+)=", match.group(1))


def secret_values(keys: list[str], database: str, smtp: SMTPServer) -> dict[str, str]:
    """Values for the keys: the database by its unix socket, the loopback SMTP server."""
    known = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"postgres://postgres@/{database}?host=/var/run/postgresql",
        "EMAIL_URL": smtp.url,
        "METRICS_TOKEN": secrets.token_urlsafe(24),
    }
    unknown = set(keys) - set(known)
    if unknown:
        raise AssertionError(f"make pods has no value for the Secret's keys {sorted(unknown)}")
    return {key: known[key] for key in keys}


def _admin(sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(postgres_url("postgres"))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


@dataclass
class Deployment:
    cluster: Cluster
    smtp: SMTPServer
    database: str
    # The pods' time: a CronJob's pod starts at its latest slot at or before it (as the CronJob
    # controller would start it), every other pod at this time.
    evening: datetime.datetime | None = None
    results: dict[str, PodResult] = field(default_factory=dict)
    mail: dict[str, list[ReceivedMessage]] = field(default_factory=dict)

    def start_time(self, workload: Workload) -> datetime.datetime | None:
        if self.evening is None or workload.kind != "CronJob":
            return self.evening
        spec = workload.manifest["spec"]
        return latest_slot(spec["schedule"], spec.get("timeZone", "Etc/UTC"), self.evening) + SLOT_TO_START

    def pod(self, workload: str, command: list[str] | None = None) -> Pod:
        found = self.cluster.workload(workload)
        return self.cluster.pod(found, command, at=self.start_time(found))

    def run(self, workload: str, command: list[str] | None = None, label: str | None = None) -> PodResult:
        """Run a workload's pod to its end (``command``: another command in its container)."""
        before = len(self.smtp.messages)
        found = self.cluster.workload(workload)
        result = self.cluster.run(found, command, at=self.start_time(found))
        self.record(label or workload, result, self.smtp.messages[before:])
        return result

    def record(self, label: str, result: PodResult, mail: list[ReceivedMessage]) -> None:
        self.results[label] = result
        self.mail[label] = list(mail)

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        import psycopg2

        connection = psycopg2.connect(postgres_url(self.database))
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()

    def summary(self) -> str:
        lines = [
            "| pod | exit | seconds | peak RSS, all processes (MiB) | sum of each process's peak (MiB) "
            "| limit (MiB) | /tmp used (KiB) |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for label, r in self.results.items():
            limit = f"{r.memory_limit / MIB:.0f}" if r.memory_limit else "-"
            used = ", ".join(f"{size / 1024:.0f}" for size, _ in r.writable_used.values()) or "-"
            lines.append(
                f"| {label} | {r.exit_code} | {r.seconds:.1f} | {r.peak_rss / MIB:.1f} | "
                f"{r.peak_bound / MIB:.1f} | {limit} | {used} |"
            )
        return "\n".join(lines) + "\n"


@contextlib.contextmanager
def image_lock() -> Iterator[None]:
    """One build at a time: two test runs on one machine share the cached stages."""
    WORKSPACE.mkdir(parents=True, exist_ok=True)
    with (WORKSPACE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def evening_of(day: datetime.date, zone: str) -> datetime.datetime:
    """23:59 on ``day`` in the club's zone: every daily slot before it falls on that day."""
    local = datetime.datetime.combine(day, datetime.time(23, 59), tzinfo=zoneinfo.ZoneInfo(zone))
    return local.astimezone(datetime.UTC)


@contextlib.contextmanager
def deployment(day: datetime.date | None = None) -> Iterator[Deployment]:
    """Everything a first deployment has, torn down afterwards; ``day``: the club's day the pods
    live on (``evening_of`` it in the ConfigMap's CLUB_TIMEZONE), else this machine's clock."""
    for folder in (REPO / "build", WORKSPACE):
        folder.mkdir(exist_ok=True)
        folder.chmod(0o755)  # user 10001 goes through them to the pods' folders
    with image_lock():
        image = build_image(REPO / "Dockerfile", REPO, WORKSPACE)
    database = f"m2s_pods_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{database}"')
    smtp = SMTPServer().start()
    run_folder = WORKSPACE / f"run-{os.getpid()}"
    try:
        secret = secret_values(secret_keys_from_docs(), database, smtp)
        cluster = Cluster(image, manifests(REPO), secret, run_folder)
        evening = None
        if day is not None:
            evening = evening_of(day, cluster.configmap("manage2soar-config").get("CLUB_TIMEZONE", "UTC"))
        state = Deployment(cluster, smtp, database, evening)
        yield state
        (WORKSPACE / "summary.md").write_text(state.summary())
    finally:
        smtp.stop()
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(run_folder, ignore_errors=True)
