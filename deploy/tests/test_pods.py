"""``make pods``: every workload of the manifests runs as its pod would (testsupport/pods.py),
on a first deployment made as docs/deployment.md makes it: the migration Job on a fresh
PostgreSQL database, the demo club, then each CronJob, the web Deployment and the optional
cron-status-check. Each exits 0 and does its work, within its memory limit.

The pods live on one day of the club (libfaketime): each CronJob's pod starts at its latest slot
of that day, or before it for a weekly or monthly job, as the controller would start it; the
other pods at the day's end. What each job finds doesn't depend on when the test runs.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from testsupport.pods import PodResult
from testsupport.pods_deployment import Deployment, deployment
from testsupport.pods_spec import workloads
from testsupport.smtp import ReceivedMessage

pytestmark = [pytest.mark.pods, pytest.mark.postgres]

ROOT = Path(settings.BASE_DIR)
# The demo club's reference day (docs/demo-club.md), in the ConfigMap's CLUB_TIMEZONE.
CLUB_DAY = datetime.date(2026, 11, 20)
STAFF = ("pods-admin", "correct horse battery staple 2026")
CRONJOBS = [d["metadata"]["name"] for d in yaml.safe_load_all((ROOT / "k8s-cronjobs.yaml").read_text()) if d]
# What the demo club gives each job to send (docs/demo-club.md); the others may send nothing.
SENDS_MAIL = {
    "notify-aging-logsheets",
    "send-duty-preop-emails",
    "expire-ad-hoc-days",
    "notify-late-sprs",
    "send-maintenance-digest",
    "report-duty-delinquents",
}
TOOLS = ("bwrap", "setpriv", "nsenter")


@pytest.fixture(scope="module")
def club() -> Iterator[Deployment]:
    if os.geteuid() != 0:
        pytest.fail("make pods runs as root: it starts pods as user 10001 and owns their secret files")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `make system-packages`")
    with deployment(CLUB_DAY) as state:
        yield state


def ran(club: Deployment, label: str) -> PodResult:
    if label not in club.results:
        pytest.fail(f"{label} has not run (an earlier step failed)")
    return club.results[label]


def assert_pod_ok(result: PodResult) -> None:
    output = f"{result.argv}\nstdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}"
    assert result.exit_code == 0, output
    assert result.memory_limit is not None
    assert result.peak_bound < result.memory_limit, f"peak {result.peak_bound} over the limit\n{output}"
    for mount, (used, limit) in result.writable_used.items():
        assert limit is None or used <= limit, (mount, used, limit)


# --- The deployment steps ----------------------------------------------------------------------


def test_the_migration_job_migrates_the_fresh_database(club: Deployment) -> None:
    result = club.run("manage2soar-migrate")
    assert_pod_ok(result)
    assert "Applying utils.0001_initial... OK" in result.stdout
    [(count,)] = club.query("SELECT count(*) FROM django_migrations WHERE app = 'utils'")
    assert isinstance(count, int) and count >= 1


def test_cron_status_check_passes_right_after_the_migration(club: Deployment) -> None:
    """A fresh install is healthy: before any schedule has come round, every job is waiting."""
    ran(club, "manage2soar-migrate")
    result = club.run("cron-status-check", label="cron-status-check-fresh")
    assert_pod_ok(result)
    assert "waiting for their first slot" in result.stdout, result.stdout[-3000:]
    assert club.mail["cron-status-check-fresh"] == []


def test_the_demo_club_and_a_staff_user_are_made_in_a_web_container(club: Deployment) -> None:
    """As an operator would, with `kubectl exec deployment/manage2soar-web -- …`."""
    seed = club.run("manage2soar-web", ["python", "manage.py", "seed_demo"], label="seed_demo")
    assert_pod_ok(seed)
    username, password = STAFF
    create = [
        *("env", f"DJANGO_SUPERUSER_PASSWORD={password}"),
        *("python", "manage.py", "createsuperuser", "--no-input", "--username", username),
        "--email=pods-admin@example.org",
    ]
    assert_pod_ok(club.run("manage2soar-web", create, label="createsuperuser"))
    [(members,)] = club.query("SELECT count(*) FROM members_member WHERE NOT is_superuser")
    assert members == 75


# --- Every CronJob -----------------------------------------------------------------------------


def latest_run(club: Deployment, job: str) -> dict[str, Any]:
    rows = club.query(
        "SELECT status, occurrence, trigger, pod, summary FROM utils_cronjobrun "
        "WHERE job_name = %s ORDER BY id DESC LIMIT 1",
        (job,),
    )
    assert rows, f"{job} recorded no run"
    status, occurrence, trigger, pod, summary = rows[0]
    return {"status": status, "occurrence": occurrence, "trigger": trigger, "pod": pod, "summary": summary}


@pytest.mark.parametrize("cronjob", CRONJOBS)
def test_each_cronjob_exits_0_and_does_its_work(club: Deployment, cronjob: str) -> None:
    ran(club, "seed_demo")
    result = club.run(cronjob)
    assert_pod_ok(result)
    events = [line["event"] for line in result.json_lines()]  # CRONJOB_LOG_FORMAT=json
    assert events[-1] == "completed", result.stdout
    run = latest_run(club, cronjob.replace("-", "_"))
    # The kubelet's fieldRefs reached the framework: the run is the slot's, on this pod.
    assert run["status"] == "succeeded"
    assert (run["occurrence"], run["pod"], run["trigger"]) == (result.job_name, result.name, "scheduled")
    mail = club.mail[cronjob]
    assert len(mail) == run["summary"].get("sent", 0), run["summary"]
    if cronjob in SENDS_MAIL:
        assert mail, f"{cronjob} sent nothing: {run['summary']}"


def report_rows(message: ReceivedMessage) -> list[list[str]]:
    attachments = [a for a in message.iter_attachments() if a.get_content_type() == "text/csv"]
    assert len(attachments) == 1, message["Subject"]
    return list(csv.reader(io.StringIO(attachments[0].get_content())))


def test_the_report_reaches_every_reader_a_board_member_who_is_not_staff_too(club: Deployment) -> None:
    ran(club, "report-duty-delinquents")
    readers = club.query(
        "SELECT email, director, is_staff FROM members_member "
        "WHERE (director OR duty_officer) AND is_active AND email <> '' ORDER BY id"
    )
    assert any(director and not staff for _, director, staff in readers), "no board member who is not staff"
    received = [a.addr_spec for m in club.mail["report-duty-delinquents"] for a in m["To"].addresses]
    assert sorted(received) == sorted(str(email) for email, _, _ in readers)  # each reader, once
    delinquents = latest_run(club, "report_duty_delinquents")["summary"]["delinquents"]
    assert delinquents == 19  # the demo club's (docs/demo-club.md)
    for message in club.mail["report-duty-delinquents"]:
        rows = report_rows(message)
        assert rows[0][:3] == ["member", "email", "flights"] and len(rows) == 1 + delinquents
        text = message.get_body(("plain",)).get_content()
        assert "/media/" not in text  # no link to a folder its readers can't open


def test_the_report_needs_no_writable_folder(club: Deployment) -> None:
    """Without the image's DATA_DIR (a folder in the pod's /tmp), a report that saved its CSV
    locally failed on the read-only root; attached, it needs no folder at all."""
    ran(club, "report-duty-delinquents")
    # The same slot (its Job name), run again: --force past the success, --resend past the ledger.
    command = [
        "env",
        "-u",
        "DATA_DIR",
        "python",
        "manage.py",
        "report_duty_delinquents",
        "--force",
        "--resend",
    ]
    result = club.run("report-duty-delinquents", command, label="report without DATA_DIR")
    assert_pod_ok(result)
    first, again = club.mail["report-duty-delinquents"], club.mail["report without DATA_DIR"]
    assert len(again) == len(first) and all(report_rows(message) for message in again)


# --- The web Deployment ------------------------------------------------------------------------


def http(pod: Any, *args: str) -> dict[str, Any]:
    result = pod.in_network(sys.executable, "-m", "testsupport.pods_http", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_web_pod_answers_its_probes_and_a_staff_page(club: Deployment) -> None:
    ran(club, "createsuperuser")
    workload = club.cluster.workload("manage2soar-web")
    pod = club.pod("manage2soar-web").start()
    container = workload.template["spec"]["containers"][0]
    port = str(container["ports"][0]["containerPort"])
    host = club.cluster.configmap("manage2soar-config")["ALLOWED_HOSTS"].split(",")[0]
    try:
        startup = container["startupProbe"]
        started = http(
            pod,
            "probe",
            port,
            startup["httpGet"]["path"],
            str(startup["periodSeconds"]),
            str(startup["failureThreshold"]),
        )
        assert started["status"] == 200, started
        for probe in ("livenessProbe", "readinessProbe"):
            answer = http(pod, "probe", port, container[probe]["httpGet"]["path"], "1", "1")
            assert (answer["status"], answer["body"]) == (200, "ok\n"), (probe, answer)
        page = http(pod, "staff", port, "/cron/", host, *STAFF)
        assert (page["step"], page["status"]) == ("page", 200), page
        assert "report_duty_delinquents" in page["body"]
        anonymous = http(pod, "get", port, "/cron/", host)
        assert anonymous["status"] == 302 and "/admin/login/" in anonymous["location"]
    finally:
        result = pod.terminate()
        club.record("manage2soar-web", result, [])
    assert_pod_ok(result)  # gunicorn stops on SIGTERM with exit 0
    assert re.search(r'"GET /cron/ HTTP/1.1" 200', result.stdout + result.stderr)


# --- Monitoring, and nothing left out ----------------------------------------------------------


def test_cron_status_check_passes_once_every_job_ran(club: Deployment) -> None:
    """After each CronJob's run, nothing needs attention (right after the migration, before any
    run, every job is waiting: operations/tests/test_job_states.py)."""
    for cronjob in CRONJOBS:
        ran(club, cronjob)
    result = club.run("cron-status-check")
    assert_pod_ok(result)
    assert club.mail["cron-status-check"] == []


def test_every_workload_of_the_manifests_was_run(club: Deployment) -> None:
    names = {w.name for w in workloads(club.cluster.resources)}
    assert names == {"manage2soar-migrate", "manage2soar-web", "cron-status-check", *CRONJOBS}
    assert names <= set(club.results)
