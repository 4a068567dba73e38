"""Each workload as the cluster would run it: the settings it reads from the ConfigMap agree with
the rendered manifests, it mounts only the secrets it reads, its network reaches only what it
needs, and the migration fails fast and finishes before the CronJobs arrive."""

from __future__ import annotations

import inspect
import ipaddress
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.test import override_settings

from deploy.checks import kustomize_build
from testsupport.commands import run_command
from utils.exitcodes import ExitCode

ROOT = Path(settings.BASE_DIR)
SECRET_DIR = "/var/run/secrets/manage2soar"


@pytest.fixture(scope="module")
def built() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(kustomize_build(ROOT / "k8s")) if d]


def load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def configmap() -> dict[str, str]:
    return load(ROOT / "k8s" / "configmap.yaml")[0]["data"]


def pod_of(resource: dict[str, Any]) -> dict[str, Any]:
    if resource["kind"] == "CronJob":
        return resource["spec"]["jobTemplate"]["spec"]["template"]
    return resource["spec"]["template"]


def workloads(built: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {r["metadata"]["name"]: r for r in built if r["kind"] in ("CronJob", "Job", "Deployment")}
    [check] = load(ROOT / "k8s" / "monitoring" / "cron-status-check.yaml")
    return {**found, check["metadata"]["name"]: check}


def mounted_secret_keys(pod: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(keys the pod can't start without, optional keys) of the Secret mounted at SECRET_DIR."""
    [container] = pod["spec"]["containers"]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == SECRET_DIR]
    [volume] = [v for v in pod["spec"]["volumes"] if v["name"] == mount["name"]]
    if "secret" in volume:  # the whole Secret: every key it has
        return {"*"}, set()
    required: set[str] = set()
    optional: set[str] = set()
    for source in volume["projected"]["sources"]:
        secret = source["secret"]
        assert secret["name"] == "manage2soar-secrets"
        keys = {item["key"] for item in secret["items"]}
        (optional if secret.get("optional") else required).update(keys)
    return required, optional


# --- The migration Job ------------------------------------------------------------------------


def test_the_migration_job_fails_at_once_on_a_configuration_error(built: list[dict[str, Any]]) -> None:
    [job] = [r for r in built if r["kind"] == "Job"]
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["podFailurePolicy"]["rules"] == [
        {
            "action": "FailJob",
            "onExitCodes": {"containerName": container["name"], "operator": "In", "values": [ExitCode.USAGE]},
        },
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
    ]


# --- One source for the settings the manifests and the pods share -------------------------------


def test_the_configmap_carries_the_admins_and_the_zone_of_the_schedules(built: list[dict[str, Any]]) -> None:
    data = configmap()
    assert re.fullmatch(r"[^@\s,]+@[^@\s,]+(,[^@\s,]+@[^@\s,]+)*", data["ADMIN_EMAILS"])
    zone = data["CRONJOB_TIMEZONE"]
    zones = {r["metadata"]["name"]: r["spec"]["timeZone"] for r in built if r["kind"] == "CronJob"}
    # The analytics roll up UTC hours and days: that job keeps its own zone.
    assert zones.pop("aggregate-cron-analytics") == "Etc/UTC"
    assert set(zones.values()) == {zone}


def copy_of_the_manifests(tmp_path: Path) -> Path:
    for name in ("k8s-cronjobs.yaml",):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "k8s", tmp_path / "k8s")
    return tmp_path


def set_config(root: Path, key: str, value: str) -> None:
    path = root / "k8s" / "configmap.yaml"
    text, count = re.subn(rf"^(  {key}: ).*$", rf'\g<1>"{value}"', path.read_text(), flags=re.M)
    assert count == 1, f"{key} is not in the ConfigMap"
    path.write_text(text)


def test_a_club_zone_set_in_the_configmap_renders_and_then_validates(tmp_path: Path) -> None:
    """docs/deployment.md step 2: set CRONJOB_TIMEZONE in the ConfigMap, `make render`, then
    `make validate` (render --check) passes, and every CronJob fires on the club's clock."""
    root = copy_of_the_manifests(tmp_path)
    set_config(root, "CRONJOB_TIMEZONE", "America/New_York")
    with override_settings(BASE_DIR=root):
        assert run_command("render_cronjobs").code == 0
        check = run_command("render_cronjobs", "--check")
    assert check.code == 0, check.out + check.err
    rendered = load(root / "k8s" / "cronjobs.yaml")
    zones = {d["metadata"]["name"]: d["spec"]["timeZone"] for d in rendered}
    assert zones.pop("aggregate-cron-analytics") == "Etc/UTC"
    assert set(zones.values()) == {"America/New_York"}
    assert (root / "k8s-cronjobs.yaml").read_text() == (root / "k8s" / "cronjobs.yaml").read_text()


def test_a_bad_zone_in_the_configmap_is_one_line_and_exit_2(tmp_path: Path) -> None:
    root = copy_of_the_manifests(tmp_path)
    set_config(root, "CRONJOB_TIMEZONE", "Mars/Olympus_Mons")
    before = (root / "k8s" / "cronjobs.yaml").read_text()
    with override_settings(BASE_DIR=root):
        result = run_command("render_cronjobs")
    assert result.code == ExitCode.USAGE
    assert result.err.strip() == "CRONJOB_TIMEZONE='Mars/Olympus_Mons' is not an IANA time zone".join(
        ["k8s/configmap.yaml: ", ""]
    )
    assert (root / "k8s" / "cronjobs.yaml").read_text() == before


def prometheus_rules() -> dict[str, dict[str, Any]]:
    [rule] = load(ROOT / "k8s" / "monitoring" / "prometheusrule.yaml")
    return {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}


def test_the_failure_alert_fires_at_the_configmaps_threshold() -> None:
    threshold = int(configmap()["CRONJOB_ALERT_AFTER_FAILURES"])
    expr = prometheus_rules()["CronJobFailingRepeatedly"]["expr"]
    assert expr == f"max by (job_name) (manage2soar_cronjob_consecutive_failures) >= {threshold}"
    ratio = float(configmap()["CRONJOB_SLOW_RATIO"])
    assert (
        f"> {ratio:g} * max by (job_name) (manage2soar_cronjob_deadline_seconds)"
        in (prometheus_rules()["CronJobSlow"]["expr"])
    )


def test_a_changed_threshold_renders_into_the_rules(tmp_path: Path) -> None:
    root = copy_of_the_manifests(tmp_path)
    set_config(root, "CRONJOB_ALERT_AFTER_FAILURES", "3")
    with override_settings(BASE_DIR=root):
        stale = run_command("render_cronjobs", "--check")
        assert stale.code == ExitCode.FAILED
        assert "k8s/monitoring/prometheusrule.yaml" in stale.err
        assert run_command("render_cronjobs").code == 0
    [rule] = load(root / "k8s" / "monitoring" / "prometheusrule.yaml")
    [failing] = [r for r in rule["spec"]["groups"][0]["rules"] if r["alert"] == "CronJobFailingRepeatedly"]
    assert failing["expr"].endswith("manage2soar_cronjob_consecutive_failures) >= 3")


@pytest.mark.parametrize(
    "path",
    ["k8s/migrate-job.yaml", "k8s/web-deployment.yaml", "k8s/monitoring/cron-status-check.yaml"],
)
def test_the_other_workloads_are_rendered_and_checked_too(tmp_path: Path, path: str) -> None:
    root = copy_of_the_manifests(tmp_path)
    target = root / path
    target.write_text(
        target.read_text().replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    )
    with override_settings(BASE_DIR=root):
        result = run_command("render_cronjobs", "--check")
    assert result.code == ExitCode.FAILED
    assert f"{path} differ(s)" in result.err
    assert "readOnlyRootFilesystem: false" in result.out


# --- Each pod mounts only the secrets it reads -------------------------------------------------


def test_each_pod_mounts_only_the_secrets_it_reads(built: list[dict[str, Any]]) -> None:
    pods = {name: pod_of(resource) for name, resource in workloads(built).items()}
    sending = {"SECRET_KEY", "DATABASE_URL", "EMAIL_URL"}
    assert mounted_secret_keys(pods["manage2soar-migrate"]) == ({"SECRET_KEY", "DATABASE_URL"}, set())
    assert mounted_secret_keys(pods["manage2soar-web"]) == (sending, {"METRICS_TOKEN"})
    assert mounted_secret_keys(pods["cron-status-check"]) == (
        sending,
        {"TWILIO_AUTH_TOKEN", "SLACK_WEBHOOK_URL"},
    )
    channels = {"TWILIO_AUTH_TOKEN", "SLACK_WEBHOOK_URL", "SENTRY_DSN", "CRONJOB_PING_URL_TEMPLATE"}
    jobs = {
        n: p for n, p in pods.items() if p["metadata"]["labels"]["app.kubernetes.io/component"] == "cronjob"
    }
    assert len(jobs) == 9
    for name, pod in jobs.items():
        storage = {"gcs-credentials.json"} if name == "report-duty-delinquents" else set()
        assert mounted_secret_keys(pod) == (sending, channels | storage), name


def test_every_mounted_key_is_read_through_its_file_and_no_other(built: list[dict[str, Any]]) -> None:
    for name, resource in workloads(built).items():
        pod = pod_of(resource)
        required, optional = mounted_secret_keys(pod)
        [container] = pod["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        files = {k: v for k, v in env.items() if k.endswith("_FILE")}
        keys = (required | optional) - {"gcs-credentials.json"}
        assert files == {f"{k}_FILE": f"{SECRET_DIR}/{k}" for k in keys}, name
        # The Google key's path comes from the ConfigMap; a pod without the key blanks it, so that
        # with a bucket configured it does not refuse to start over a file it never needs.
        if "gcs-credentials.json" in optional:
            assert "GOOGLE_APPLICATION_CREDENTIALS" not in env, name
        else:
            assert env["GOOGLE_APPLICATION_CREDENTIALS"] == "", name


# --- The network policies ----------------------------------------------------------------------

PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _peer_allows(peer: dict[str, Any], address: str) -> bool:
    block = peer.get("ipBlock")
    if block is None:
        return False  # pod and namespace selectors: in-cluster peers, not addresses outside
    ip = ipaddress.ip_address(address)
    inside = ip in ipaddress.ip_network(block["cidr"])
    return inside and not any(ip in ipaddress.ip_network(e) for e in block.get("except", []))


def egress_allowed(policies: list[dict[str, Any]], labels: dict[str, str], address: str, port: int) -> bool:
    """Whether a pod with ``labels`` may open TCP ``address:port`` (NetworkPolicy semantics: the
    union of the egress rules of every policy that selects the pod for egress)."""
    for policy in policies:
        spec = policy["spec"]
        if "Egress" not in spec.get("policyTypes", []) or not _matches(spec["podSelector"], labels):
            continue
        for rule in spec.get("egress", []):
            ports = rule.get("ports")
            port_ok = not ports or any(p.get("protocol", "TCP") == "TCP" and p["port"] == port for p in ports)
            peers = rule.get("to")
            peer_ok = not peers or any(_peer_allows(peer, address) for peer in peers)
            if port_ok and peer_ok:
                return True
    return False


def pod_labels(built: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {name: pod_of(r)["metadata"]["labels"] for name, r in workloads(built).items()}


@pytest.fixture(scope="module")
def policies(built: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in built if r["kind"] == "NetworkPolicy"]


def test_every_pod_reaches_the_database_on_postgresql_or_mariadb(
    built: list[dict[str, Any]], policies: list[dict[str, Any]]
) -> None:
    for name, labels in pod_labels(built).items():
        for port in (5432, 3306):
            assert egress_allowed(policies, labels, "10.20.0.5", port), (name, port)


def test_mail_and_https_go_only_to_public_addresses_and_only_from_the_pods_that_need_them(
    built: list[dict[str, Any]], policies: list[dict[str, Any]]
) -> None:
    labels = pod_labels(built)
    senders = [
        n for n, pod in labels.items() if pod["app.kubernetes.io/component"] in ("cronjob", "monitoring")
    ]
    assert len(senders) == 10
    for name in senders:
        for port in (25, 465, 587, 443):
            assert egress_allowed(policies, labels[name], "198.51.100.7", port), (name, port)
            for cidr in PRIVATE:
                inside = str(ipaddress.ip_network(cidr).network_address + 1)
                assert not egress_allowed(policies, labels[name], inside, port), (name, cidr, port)
    migrate = labels["manage2soar-migrate"]
    assert not any(egress_allowed(policies, migrate, "198.51.100.7", port) for port in (25, 587, 443))
    web = labels["manage2soar-web"]
    assert not any(egress_allowed(policies, web, "198.51.100.7", port) for port in (25, 465, 587))


def test_no_pod_reaches_the_metadata_server_unless_workload_identity_is_applied(
    built: list[dict[str, Any]], policies: list[dict[str, Any]]
) -> None:
    """On a node without Workload Identity the metadata server hands out the node's own
    credentials; the base never allows it. k8s/gke-workload-identity/ opens it for the pods that
    use the bucket, on the addresses and ports GKE documents."""
    labels = pod_labels(built)
    for name, pod in labels.items():
        for address, port in (("169.254.169.254", 80), ("169.254.169.252", 988)):
            assert not egress_allowed(policies, pod, address, port), name
    [workload_identity] = load(ROOT / "k8s" / "gke-workload-identity" / "networkpolicy.yaml")
    extended = [*policies, workload_identity]
    for name, pod in labels.items():
        opened = [
            egress_allowed(extended, pod, a, p)
            for a, p in (("169.254.169.254", 80), ("169.254.169.252", 988))
        ]
        assert opened == [name == "report-duty-delinquents"] * 2, name


def test_nothing_reaches_a_job_pod_and_the_web_only_on_its_port(
    built: list[dict[str, Any]], policies: list[dict[str, Any]]
) -> None:
    for name, labels in pod_labels(built).items():
        ingress = [
            rule
            for p in policies
            if "Ingress" in p["spec"].get("policyTypes", []) and _matches(p["spec"]["podSelector"], labels)
            for rule in p["spec"].get("ingress", [])
        ]
        if name == "manage2soar-web":
            assert ingress == [{"ports": [{"protocol": "TCP", "port": 8000}]}]
        else:
            assert ingress == [], name


# --- make deploy: the CronJobs arrive only once the migration finished --------------------------

FAKE_KUBECTL = """#!{python}
# A kubectl that changes nothing: it logs each call and, for `apply --kustomize DIR [--selector S]`,
# the resources the real kubectl would apply (its kustomize build, filtered by the selector);
# `get job` answers with the migration's state from $FAKE_JOB_STATE.
import os, re, subprocess, sys
import yaml
{selector}
args = sys.argv[1:]
log = open(os.environ["FAKE_KUBECTL_LOG"], "a")
log.write("CALL " + " ".join(args) + "\\n")
def value(*flags):
    for flag in flags:
        if flag in args:
            return args[args.index(flag) + 1]
    return ""
if "apply" in args:
    directory = value("--kustomize", "-k")
    build = subprocess.run([{kubectl!r}, "kustomize", directory], capture_output=True, text=True, check=True)
    for d in yaml.safe_load_all(build.stdout):
        if d and label_selected(d["metadata"].get("labels", {{}}), value("--selector", "-l")):
            log.write("APPLY " + d["kind"] + " " + d["metadata"]["name"] + "\\n")
elif "get" in args and "job" in args:
    print(os.environ["FAKE_JOB_STATE"])
"""


def label_selected(labels: dict[str, str], selector: str) -> bool:
    """Kubernetes label-selector semantics, for the forms kubectl takes on its command line
    (``k=v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``, joined by commas)."""
    for term in re.split(r",(?![^()]*\))", selector):
        term = term.strip()
        if not term:
            continue
        if match := re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term):
            key, operator, listed = match.groups()
            values = {v.strip() for v in listed.split(",")}
            if (labels.get(key) in values) != (operator == "in") and not (
                operator == "notin" and key not in labels
            ):
                return False
        elif match := re.fullmatch(r"(\S+?)\s*(!=|==|=)\s*(\S+)", term):
            key, operator, value = match.groups()
            if (labels.get(key) == value) != (operator != "!="):
                return False
        elif (term.lstrip("!") in labels) == term.startswith("!"):
            return False
    return True


def test_the_label_selector_reading() -> None:
    web = {"app.kubernetes.io/component": "web"}
    assert label_selected(web, "") and label_selected({}, "app.kubernetes.io/component notin (web,cronjob)")
    assert not label_selected(web, "app.kubernetes.io/component notin (web, cronjob)")
    assert label_selected(web, "app.kubernetes.io/component in (web)")
    assert not label_selected({}, "app.kubernetes.io/component in (web)")
    assert label_selected(web, "app.kubernetes.io/component=web,!other")
    assert not label_selected(web, "app.kubernetes.io/component!=web")


def make_deploy(tmp_path: Path, job_state: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    from deploy.checks import kubectl

    real = kubectl()
    assert real is not None
    fake = tmp_path / "kubectl"
    selector = inspect.getsource(label_selected)
    fake.write_text(FAKE_KUBECTL.format(python=sys.executable, kubectl=real, selector=selector))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "calls.log"
    log.touch()
    env = {**os.environ, "FAKE_KUBECTL_LOG": str(log), "FAKE_JOB_STATE": job_state, "WAIT_INTERVAL": "0"}
    result = subprocess.run(
        ["make", "--no-print-directory", "deploy", f"KUBECTL={fake}", "IMAGE=reg.example/m2s", "TAG=1.2.3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result, log.read_text().splitlines()


def applied(lines: list[str]) -> list[list[str]]:
    """The resources of each `kubectl apply`, in order."""
    batches: list[list[str]] = []
    for line in lines:
        if line.startswith("CALL") and " apply " in f" {line} ":
            batches.append([])
        elif line.startswith("APPLY"):
            batches[-1].append(line.removeprefix("APPLY "))
    return batches


def test_make_deploy_applies_the_web_and_the_cronjobs_only_after_the_migration_completed(
    tmp_path: Path,
) -> None:
    result, lines = make_deploy(tmp_path, "Complete")
    assert result.returncode == 0, result.stdout + result.stderr
    first, second = applied(lines)
    assert "Job manage2soar-migrate" in first
    assert not [r for r in first if r.startswith(("CronJob", "Deployment"))]
    asked = [
        i for i, line in enumerate(lines) if line.startswith("CALL") and "get job manage2soar-migrate" in line
    ]
    second_apply = [i for i, line in enumerate(lines) if line.startswith("CALL") and " apply " in line][1]
    assert asked and asked[-1] < second_apply  # it knew the migration had completed first
    assert len([r for r in second if r.startswith("CronJob/") or r.startswith("CronJob ")]) == 9
    assert "Deployment manage2soar-web" in second
    assert (
        lines.index(next(line for line in lines if "delete job manage2soar-migrate" in line)) < second_apply
    )


def test_make_deploy_stops_when_the_migration_failed(tmp_path: Path) -> None:
    result, lines = make_deploy(tmp_path, "FailureTarget Failed")
    assert result.returncode != 0
    [only] = applied(lines)
    assert not [r for r in only if r.startswith(("CronJob", "Deployment"))]
    assert "the manage2soar-migrate Job failed" in result.stderr
    assert any(line.startswith("CALL") and "logs job/manage2soar-migrate" in line for line in lines)
