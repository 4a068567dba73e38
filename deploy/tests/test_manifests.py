"""The Kubernetes manifests: generated from the registry, strictly valid, hardened, scanned."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.test import override_settings

from deploy import hardening, manifests
from deploy.checks import kubernetes_versions, kustomize_build, manifest_files, validation_errors
from testsupport.commands import run_command
from testsupport.databases import manage_env, run_manage
from utils.exitcodes import ExitCode
from utils.registry import JobSpec, job_specs
from utils.timing import shortest_gap, timing_problems

ROOT = Path(settings.BASE_DIR)
CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"

# The CronJobs the club runs (defaults from the original system).
EXPECTED = {
    "notify-aging-logsheets": ("0 8 * * *", 15, "light"),
    "send-duty-preop-emails": ("0 6 * * *", 10, "light"),
    "expire-ad-hoc-days": ("0 18 * * *", 5, "light"),
    "notify-late-sprs": ("0 10 * * 1", 20, "heavy"),
    "send-maintenance-digest": ("0 9 * * 0", 10, "light"),
    "report-duty-delinquents": ("0 7 1 * *", 30, "heavy"),
    "aggregate-cron-analytics": ("5 * * * *", 10, "light"),
    "notify-pilot-currency": ("0 14 * * *", 10, "light"),
    "send-deferred-notices": ("20 * * * *", 10, "light"),
}
RESOURCES = {
    "light": {"requests": {"memory": "64Mi", "cpu": "50m"}, "limits": {"memory": "128Mi", "cpu": "100m"}},
    "heavy": {"requests": {"memory": "128Mi", "cpu": "100m"}, "limits": {"memory": "256Mi", "cpu": "200m"}},
}


def load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def cronjobs() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in load(ROOT / "k8s-cronjobs.yaml")}


@pytest.fixture(scope="module")
def built() -> list[dict[str, Any]]:
    """The whole set, as `kubectl kustomize k8s/` builds it."""
    return [d for d in yaml.safe_load_all(kustomize_build(ROOT / "k8s")) if d]


def pod_specs(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    specs = {}
    for resource in resources:
        kind, name = resource["kind"], resource["metadata"]["name"]
        if kind == "CronJob":
            specs[f"{kind}/{name}"] = resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif kind in ("Deployment", "Job"):
            specs[f"{kind}/{name}"] = resource["spec"]["template"]["spec"]
    return specs


# --- One source of truth -------------------------------------------------------------------


def test_the_committed_cronjobs_are_what_the_registry_renders() -> None:
    result = run_command("render_cronjobs", "--check")
    assert result.code == 0, result.out + result.err
    assert (ROOT / "k8s-cronjobs.yaml").read_text() == (ROOT / "k8s" / "cronjobs.yaml").read_text()


def copy_of_the_manifests(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "k8s-cronjobs.yaml", tmp_path / "k8s-cronjobs.yaml")
    shutil.copytree(ROOT / "k8s", tmp_path / "k8s")
    return tmp_path


def test_check_shows_the_diff_and_exits_1_when_a_file_is_stale(tmp_path: Path) -> None:
    root = copy_of_the_manifests(tmp_path)
    stale = root / "k8s-cronjobs.yaml"
    stale.write_text(stale.read_text().replace("0 8 * * *", "0 9 * * *"))
    with override_settings(BASE_DIR=root):
        result = run_command("render_cronjobs", "--check")
    assert result.code == ExitCode.FAILED
    assert "-  schedule: 0 9 * * *" in result.out and "+  schedule: 0 8 * * *" in result.out
    assert "k8s-cronjobs.yaml differ(s) from the job registry" in result.err


def test_the_timezone_of_every_cronjob_is_one_setting(tmp_path: Path) -> None:
    """The ConfigMap's CRONJOB_TIMEZONE: the zone the pods compute slots in (cron_status,
    /metrics, Sentry) is the zone the CronJobs fire in."""
    root = copy_of_the_manifests(tmp_path)
    configmap = root / "k8s" / "configmap.yaml"
    configmap.write_text(
        configmap.read_text().replace('CRONJOB_TIMEZONE: "Etc/UTC"', 'CRONJOB_TIMEZONE: "America/New_York"')
    )
    with override_settings(BASE_DIR=root):
        rendered = [d for d in yaml.safe_load_all(run_command("render_cronjobs", "--print").out) if d]
    zones = {d["metadata"]["name"]: d["spec"]["timeZone"] for d in rendered}
    # The analytics roll up UTC hours and days: that job keeps its own zone.
    assert zones.pop("aggregate-cron-analytics") == "Etc/UTC"
    assert set(zones.values()) == {"America/New_York"}
    assert len(rendered) == len(EXPECTED)


def test_image_and_namespace_can_be_chosen() -> None:
    out = run_command(
        "render_cronjobs", "--print", "--image", "reg.example/m2s:1.2.3", "--namespace", "club"
    ).out
    rendered = [d for d in yaml.safe_load_all(out) if d]
    assert {d["metadata"]["namespace"] for d in rendered} == {"club"}
    images = {
        c["image"]
        for d in rendered
        for c in d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"reg.example/m2s:1.2.3"}


def spec(**overrides: Any) -> JobSpec:
    values: dict[str, Any] = {
        "command": "some_job",
        "schedule": "0 8 * * *",
        "timezone": "Etc/UTC",
        "deadline": datetime.timedelta(minutes=15),
        "starting_deadline": datetime.timedelta(minutes=15),
        "resource_class": "light",
        "help": "",
    }
    return JobSpec(**{**values, **overrides})


def test_timing_rules() -> None:
    assert timing_problems(spec(), 60) == []
    assert timing_problems(spec(), 900) == [
        "some_job: the lock lease (15m) must be shorter than the deadline (15m)"
    ]
    assert timing_problems(
        spec(schedule="*/10 * * * *", starting_deadline=datetime.timedelta(minutes=5)), 60
    ) == ["some_job: the deadline (15m) is longer than the shortest gap between two runs (10m)"]
    assert timing_problems(spec(starting_deadline=datetime.timedelta(seconds=5)), 60) == [
        "some_job: startingDeadlineSeconds (5) is under 10"
    ]
    assert timing_problems(spec(schedule="0 25 * * *"), 60) == [
        "some_job: '0 25 * * *' is not a cron expression"
    ]


def test_shortest_gaps() -> None:
    assert shortest_gap("0 7 1 * *", "Etc/UTC") == datetime.timedelta(days=28)
    assert shortest_gap("0 10 * * 1", "Etc/UTC") == datetime.timedelta(days=7)
    # 01:30 New York time on the autumn change day comes 23 hours after the day before's.
    assert shortest_gap("30 1 * * *", "America/New_York") == datetime.timedelta(hours=23)


def test_render_refuses_inconsistent_timing_with_one_line_and_exit_2(settings: Any) -> None:
    settings.CRONJOB_LEASE_SECONDS = 600
    result = run_command("render_cronjobs", "--print")
    assert result.code == ExitCode.USAGE
    assert result.out == ""
    assert len(result.err.splitlines()) == 1
    assert "expire_ad_hoc_days: the lock lease (10m) must be shorter than the deadline (5m)" in result.err


# --- Strictly valid, for every version -----------------------------------------------------


def test_every_supported_kubernetes_version_is_checked() -> None:
    versions = kubernetes_versions()
    assert versions[0] == "1.31.0"
    assert [int(v.split(".")[1]) for v in versions] == list(range(31, 31 + len(versions)))
    assert len(versions) >= 7  # 1.31 … 1.37 with the pinned validator


@pytest.mark.parametrize("path", manifest_files(ROOT), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_manifest_is_strictly_valid(path: Path) -> None:
    assert validation_errors(path.read_text(), path.name, kubernetes_versions()) == []


def test_the_kustomize_build_is_strictly_valid_and_complete(built: list[dict[str, Any]]) -> None:
    assert validation_errors(yaml.safe_dump_all(built), "kustomize", kubernetes_versions()) == []
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in built)
    assert kinds == sorted(
        [
            "Namespace/manage2soar",
            "ServiceAccount/manage2soar",
            "ConfigMap/manage2soar-config",
            "NetworkPolicy/manage2soar-egress",
            "NetworkPolicy/manage2soar-egress-senders",
            "NetworkPolicy/manage2soar-web-ingress",
            "Job/manage2soar-migrate",
            "Deployment/manage2soar-web",
            "Service/manage2soar-web",
            "PodDisruptionBudget/manage2soar-web",
            *(f"CronJob/{name}" for name in EXPECTED),
        ]
    )
    assert {d["metadata"].get("namespace", "manage2soar") for d in built} == {"manage2soar"}


def test_strict_validation_rejects_unknown_fields() -> None:
    document = cronjobs()["notify-late-sprs"]
    document["spec"]["concurrencypolicy"] = "Forbid"  # a typo a person could make
    errors = validation_errors(yaml.safe_dump(document), "typo", ["1.31.0"])
    assert len(errors) == 1 and "concurrencypolicy" in errors[0]


# --- The CronJobs follow the table ---------------------------------------------------------


def test_the_cronjobs_follow_the_table() -> None:
    jobs = cronjobs()
    assert set(jobs) == set(EXPECTED)
    for name, (schedule, minutes, resource_class) in EXPECTED.items():
        job = jobs[name]["spec"]
        job_spec = job["jobTemplate"]["spec"]
        pod = job_spec["template"]["spec"]
        [container] = pod["containers"]
        assert job["schedule"] == schedule, name
        assert job["timeZone"] == "Etc/UTC"
        assert job["concurrencyPolicy"] == "Forbid"
        assert 10 <= job["startingDeadlineSeconds"] < 86400
        assert (job["successfulJobsHistoryLimit"], job["failedJobsHistoryLimit"]) == (3, 3)
        # The deadline, the stop grace, a minute for the pod to start, and one lease plus 5 s for a
        # retried pod to wait out the killed pod's lease: the job's own timer fires first.
        takeover_wait = settings.CRONJOB_LEASE_SECONDS + 5
        assert job_spec["activeDeadlineSeconds"] == (
            minutes * 60 + settings.CRONJOB_STOP_GRACE_SECONDS + 60 + takeover_wait
        ), name
        assert 1 <= job_spec["backoffLimit"] <= 3
        assert job_spec["podFailurePolicy"]["rules"] == [
            {"action": "FailJob", "onExitCodes": {"containerName": "job", "operator": "In", "values": [2]}},
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        ]
        assert pod["restartPolicy"] == "Never"
        assert container["command"] == ["python", "manage.py", name.replace("-", "_")]
        assert container["resources"] == RESOURCES[resource_class], name
        env = {e["name"]: e for e in container["env"]}
        assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
        assert env["JOB_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == (
            "metadata.labels['batch.kubernetes.io/job-name']"
        )


def test_registry_deadlines_are_the_commands_max_execution_time() -> None:
    specs = {s.cronjob_name: s for s in job_specs()}
    assert {name: int(s.deadline.total_seconds() // 60) for name, s in specs.items()} == {
        name: minutes for name, (_, minutes, _) in EXPECTED.items()
    }


def test_each_command_named_in_a_manifest_exists_and_runs_help(built: list[dict[str, Any]]) -> None:
    commands = set()
    for pod in pod_specs(built).values():
        for container in pod["containers"]:
            argv = container["command"]
            if argv[:2] == ["python", "manage.py"]:
                commands.add(argv[2])
    assert commands >= {name.replace("-", "_") for name in EXPECTED} | {"migrate"}
    for command in sorted(commands):
        result = run_manage(command, "--help", env=manage_env("sqlite:///:memory:"))
        assert result.returncode == 0, (command, result.stderr)
        assert "usage: manage.py " + command in result.stdout


# --- Hardened pods -------------------------------------------------------------------------


def test_every_workload_is_hardened(built: list[dict[str, Any]]) -> None:
    pods = pod_specs(built)
    assert len(pods) == len(EXPECTED) + 2  # the CronJobs, the migration Job, the web Deployment
    for name, pod in pods.items():
        assert pod["securityContext"] == hardening.POD_SECURITY_CONTEXT, name
        assert pod["securityContext"]["runAsUser"] >= 10000
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["serviceAccountName"] == "manage2soar"
        # One small writable emptyDir; the secrets (only the keys this pod reads: test_workloads.py)
        # read-only, mode 0440.
        tmp, secrets = pod["volumes"]
        assert tmp == hardening.TMP_VOLUME, name
        assert secrets["name"] == "secrets" and secrets["projected"]["defaultMode"] == 0o440, name
        for container in pod["containers"]:
            assert container["securityContext"] == hardening.CONTAINER_SECURITY_CONTEXT, name
            assert container["volumeMounts"] == hardening.VOLUME_MOUNTS, name
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, name
            # Secrets are files: no secret in an environment variable, ever.
            for env in container.get("env", []):
                assert "secretKeyRef" not in env.get("valueFrom", {}), name
            assert all("secretRef" not in source for source in container.get("envFrom", [])), name
            secret_files = {e["name"]: e["value"] for e in container["env"] if e["name"].endswith("_FILE")}
            assert {"SECRET_KEY_FILE", "DATABASE_URL_FILE"} <= set(secret_files), name
            assert all(path.startswith("/var/run/secrets/manage2soar/") for path in secret_files.values())


def test_the_service_account_mounts_no_token(built: list[dict[str, Any]]) -> None:
    [account] = [d for d in built if d["kind"] == "ServiceAccount"]
    assert account["automountServiceAccountToken"] is False


def test_the_web_deployment_has_two_replicas_probes_and_a_budget(built: list[dict[str, Any]]) -> None:
    [web] = [d for d in built if d["kind"] == "Deployment"]
    [container] = web["spec"]["template"]["spec"]["containers"]
    assert web["spec"]["replicas"] == 2
    assert container["command"][:2] == ["gunicorn", "manage2soar.wsgi"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    [budget] = [d for d in built if d["kind"] == "PodDisruptionBudget"]
    assert budget["spec"]["minAvailable"] == 1


def test_the_network_policy_allows_only_dns_database_smtp_and_https(built: list[dict[str, Any]]) -> None:
    """Which pod reaches what is tested in test_workloads.py; here, no other port is ever open."""
    egress = [d for d in built if d["kind"] == "NetworkPolicy" and "Egress" in d["spec"]["policyTypes"]]
    ports = sorted(
        {(p["protocol"], p["port"]) for d in egress for rule in d["spec"]["egress"] for p in rule["ports"]}
    )
    assert ports == sorted(
        [
            ("UDP", 53),
            ("TCP", 53),
            ("TCP", 5432),
            ("TCP", 3306),
            ("TCP", 25),
            ("TCP", 465),
            ("TCP", 587),
            ("TCP", 443),
        ]
    )
    [base] = [d for d in egress if d["metadata"]["name"] == "manage2soar-egress"]
    assert base["spec"]["ingress"] == []


def test_no_secret_value_is_committed() -> None:
    example = load(ROOT / "k8s" / "secret.example.yaml")[0]
    assert set(example["stringData"]) == {
        *manifests.SECRET_FILES,
        *manifests.OPTIONAL_SECRET_FILES,
        manifests.GCS_CREDENTIALS_KEY,
    }
    assert set(example["stringData"].values()) == {""}
    assert (
        "secret.example.yaml" not in (ROOT / "k8s" / "kustomization.yaml").read_text().split("resources:")[1]
    )
    config = load(ROOT / "k8s" / "configmap.yaml")[0]["data"]
    assert (
        config["GOOGLE_APPLICATION_CREDENTIALS"] == f"{manifests.SECRET_DIR}/{manifests.GCS_CREDENTIALS_KEY}"
    )
    assert not [k for k in config if re.search(r"SECRET|PASSWORD|TOKEN|DATABASE_URL|EMAIL_URL", k)]
    for path in [*manifest_files(ROOT), ROOT / "Dockerfile"]:
        assert not re.search(r"://[^/\s:@]+:(?![A-Z_]+@)[^@\s]+@", path.read_text()), (
            path
        )  # placeholders are CAPITALS


# --- Monitoring (k8s/monitoring: optional, outside the base kustomization) --------------------

MONITORING = ROOT / "k8s" / "monitoring"


def test_the_monitoring_manifests_are_not_in_the_base(built: list[dict[str, Any]]) -> None:
    assert {p.name for p in MONITORING.glob("*.yaml")} == {
        "cron-status-check.yaml",
        "prometheusrule.yaml",
        "servicemonitor.yaml",
    }
    assert not [d for d in built if d["kind"] in ("PrometheusRule", "ServiceMonitor")]
    assert "cron-status-check" not in {d["metadata"]["name"] for d in built}


def test_the_cron_status_check_cronjob_is_valid_and_hardened_like_the_generated_ones() -> None:
    text = (MONITORING / "cron-status-check.yaml").read_text()
    assert validation_errors(text, "cron-status-check.yaml", kubernetes_versions()) == []
    [check] = load(MONITORING / "cron-status-check.yaml")
    generated = cronjobs()["notify-aging-logsheets"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod = check["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    [container], [model] = pod["containers"], generated["containers"]
    assert container["command"] == ["python", "manage.py", "cron_status", "--check", "--notify"]
    assert container["env"][0] == model["env"][0]  # POD_NAME; its secrets are its own (test_workloads.py)
    for key in ("securityContext", "volumeMounts", "resources", "envFrom", "image"):
        assert container[key] == model[key], key
    for key in set(generated) - {"containers", "volumes"}:
        assert pod[key] == generated[key], key
    assert pod["volumes"][0] == generated["volumes"][0]
    assert check["spec"]["concurrencyPolicy"] == "Forbid"
    result = run_manage("cron_status", "--help", env=manage_env("sqlite:///:memory:"))
    assert result.returncode == 0 and "--notify" in result.stdout


def exported_metric_names() -> set[str]:
    """Every sample name /metrics can produce (a scrape after one run)."""
    from prometheus_client import generate_latest

    from operations.metrics import REGISTRY

    assert run_command("test_cronjob", "--units=1", "--unit-seconds=0").code == 0
    text = generate_latest(REGISTRY).decode()
    return {line.split("{")[0].split()[0] for line in text.splitlines() if line and not line.startswith("#")}


@pytest.mark.django_db
def test_the_prometheus_rules_use_metrics_that_exist() -> None:
    [rule] = load(MONITORING / "prometheusrule.yaml")
    assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert rule["metadata"]["namespace"] == "manage2soar"
    rules = {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}
    assert {
        "CronJobFailingRepeatedly",
        "CronJobOverdue",
        "CronJobNearDeadline",
        "CronJobLockContention",
    } <= set(rules)
    exported = exported_metric_names()
    for name, alert in rules.items():
        used = set(re.findall(r"\bmanage2soar_cronjob_\w+", alert["expr"]))
        assert used and used <= exported, (name, used - exported)
        assert alert["labels"]["severity"] in ("critical", "warning")
        assert alert["annotations"]["summary"]
    # Two failures in a row alert, as the emails and cron_status --check do (CRONJOB_ALERT_AFTER_FAILURES).
    assert "consecutive_failures) >= 2" in rules["CronJobFailingRepeatedly"]["expr"]


def test_the_service_monitor_scrapes_the_web_service_with_the_token() -> None:
    [monitor] = load(MONITORING / "servicemonitor.yaml")
    [service] = load(ROOT / "k8s" / "web-service.yaml")
    assert monitor["kind"] == "ServiceMonitor"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    credentials = endpoint["authorization"]["credentials"]
    assert credentials == {"name": manifests.SECRET_NAME, "key": "METRICS_TOKEN"}
    assert "METRICS_TOKEN" in manifests.OPTIONAL_SECRET_FILES


# --- Image ----------------------------------------------------------------------------------


def test_the_dockerfile_builds_a_small_non_root_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", text, flags=re.M)
    assert len(stages) == 2 and all("slim" in image for image, _ in stages)
    final = text.split("AS final", 1)[1]
    assert not re.search(r"apt-get install|build-essential|gcc", final)
    assert re.search(r"^USER 10001:10001$", final, flags=re.M)
    assert "collectstatic" in final and "HEALTHCHECK" in final
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var"} <= set(ignored)


def test_deploy_checks_pass_with_production_settings(tmp_path: Path) -> None:
    env = manage_env(
        f"sqlite:///{tmp_path}/db.sqlite3",
        SECRET_KEY="x" * 60 + "production-like-key-0123456789",
        ALLOWED_HOSTS="manage2soar.example.org",
        BEHIND_TLS_PROXY="1",
        DEBUG="0",
    )
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


# --- Policy scan -----------------------------------------------------------------------------


def checkov(*targets: str) -> list[dict[str, Any]]:
    if not CHECKOV.exists():
        pytest.fail("checkov is not installed: run `make tools`")
    # checkov's kustomize framework runs the kubectl it finds on PATH: this virtualenv's.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        [str(CHECKOV), "--config-file", ".checkov.yaml", *targets, "--output", "json"],
        cwd=ROOT,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    report = json.loads(result.stdout)
    return report if isinstance(report, list) else [report]


def test_checkov_finds_no_failed_check() -> None:
    reports = checkov("--directory", "k8s") + checkov("--file", "k8s-cronjobs.yaml", "--file", "Dockerfile")
    frameworks = {r["check_type"] for r in reports}
    assert {"kubernetes", "dockerfile"} <= frameworks
    for report in reports:
        summary = report["summary"]
        failed = [c["check_id"] for c in report["results"]["failed_checks"]]
        assert summary["failed"] == 0, (report["check_type"], failed)
        assert summary["passed"] > 0


def test_every_skipped_check_has_a_reason() -> None:
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    skipped = [i for i, line in enumerate(lines) if re.match(r"\s+- CKV_", line)]
    assert skipped
    for index in skipped:
        assert lines[index - 1].strip().startswith("#"), lines[index]


# --- Operator toolbox ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("build", "docker build --tag reg.example/m2s:1.2.3 ."),
        ("push", "docker push reg.example/m2s:1.2.3"),
        (
            "trigger",
            "kubectl --namespace manage2soar create job --from=cronjob/notify-late-sprs "
            "notify-late-sprs-manual-",
        ),
        (
            "suspend",
            "kubectl --namespace manage2soar patch cronjob notify-late-sprs --type=merge "
            """--patch '{"spec":{"suspend":true}}'""",
        ),
        (
            "resume",
            "kubectl --namespace manage2soar patch cronjob notify-late-sprs --type=merge "
            """--patch '{"spec":{"suspend":false}}'""",
        ),
        ("logs", "--selector manage2soar.org/job=notify-late-sprs"),
        (
            "status",
            "kubectl --namespace manage2soar exec deployment/manage2soar-web -- python manage.py cron_status",
        ),
        ("clean-jobs", "--field-selector status.successful=1"),
        ("suspend-all", """patch {} --type=merge --patch '{"spec":{"suspend":true}}'"""),
        ("resume-all", """patch {} --type=merge --patch '{"spec":{"suspend":false}}'"""),
        ("deploy", "kubectl apply --kustomize build/overlay"),
        ("render", "manage.py render_cronjobs"),
        ("validate", "manage.py validate_manifests"),
        ("security-scan", "checkov --config-file .checkov.yaml --directory k8s"),
    ],
)
def test_makefile_toolbox_targets(target: str, expected: str) -> None:
    result = subprocess.run(
        ["make", "-n", target, "JOB=notify_late_sprs", "IMAGE=reg.example/m2s", "TAG=1.2.3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_job_targets_need_a_job() -> None:
    result = subprocess.run(["make", "trigger"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "usage: make trigger JOB=" in result.stderr
