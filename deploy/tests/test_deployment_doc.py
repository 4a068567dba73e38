"""docs/deployment.md, followed literally: every command it gives works on this repository, and
what it says to set is where it says (make pods runs the rest: test_pods.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from deploy.checks import kubernetes_versions, validation_errors
from deploy.secrets import SECRET_FILES
from testsupport.pods_deployment import secret_keys_from_docs

ROOT = Path(settings.BASE_DIR)
DOC = ROOT / "docs" / "deployment.md"
OPERATIONS = ROOT / "docs" / "operations.md"


def shell_blocks(path: Path) -> str:
    return "\n".join(re.findall(r"```sh\n(.*?)```", path.read_text(), flags=re.S))


def test_every_make_target_the_steps_use_exists() -> None:
    targets = set(re.findall(r"^make ([a-z-]+)", shell_blocks(DOC), flags=re.M))
    assert {"build", "push", "render", "validate", "pods", "deploy", "trigger", "logs", "status"} <= targets
    for target in sorted(targets):
        result = subprocess.run(
            ["make", "-n", target, "JOB=notify-late-sprs", "IMAGE=reg.example/m2s", "TAG=1.2.3"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (target, result.stderr)


def test_every_file_the_steps_apply_exists_and_is_valid() -> None:
    applied = set(re.findall(r"kubectl apply -f (\S+\.yaml)", DOC.read_text()))
    assert "k8s/namespace.yaml" in applied and "k8s/gke-workload-identity/networkpolicy.yaml" in applied
    for name in sorted(applied):
        path = ROOT / name
        assert path.is_file(), name
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        if all(d["apiVersion"].startswith("monitoring.coreos.com/") for d in documents):
            continue  # the Prometheus Operator's kinds have no schema here
        assert validation_errors(path.read_text(), name, kubernetes_versions()) == [], name


def test_the_settings_step_2_names_are_all_in_the_configmap() -> None:
    step = DOC.read_text().split("## 2. Set the club's settings", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^\| `([A-Z_]+)`", step, flags=re.M))
    named |= {k for pair in re.findall(r"^\| `([A-Z_]+)`, `([A-Z_]+)`", step, flags=re.M) for k in pair}
    assert {"SITE_URL", "ADMIN_EMAILS", "CRONJOB_TIMEZONE", "CLUB_TIMEZONE"} <= named
    [configmap] = [d for d in yaml.safe_load_all((ROOT / "k8s" / "configmap.yaml").read_text()) if d]
    assert named <= set(configmap["data"]), named - set(configmap["data"])


def test_the_secret_holds_the_keys_the_deployment_steps_create() -> None:
    assert sorted(secret_keys_from_docs()) == sorted(SECRET_FILES)


@pytest.mark.parametrize("doc", [DOC, OPERATIONS], ids=lambda p: p.name)
def test_the_secret_command_also_updates_an_existing_secret(doc: Path) -> None:
    """`kubectl create secret` alone fails on an existing Secret: the steps pipe it into apply."""
    commands = re.findall(
        r"create secret generic manage2soar-secrets(?:[^\n]*\\\n)*[^\n]*", shell_blocks(doc)
    )
    assert commands, doc.name
    for command in commands:
        applied = "--dry-run=client --output=yaml | kubectl apply --server-side --force-conflicts -f -"
        assert applied in command, command
        assert set(re.findall(r"--from-file=([\w.-]+)=", command)) >= set(SECRET_FILES), command


def test_the_deploy_by_hand_is_what_make_deploy_runs() -> None:
    dry = subprocess.run(
        ["make", "-n", "deploy", "IMAGE=reg.example/m2s", "TAG=1.2.3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    [selector] = re.findall(r"--selector '([^']+)'", dry)
    assert f"kubectl apply -k build/overlay --selector '{selector}'" in DOC.read_text()
    assert (
        dry.index("--selector") < dry.index("wait-for-job") < dry.rindex("apply --kustomize build/overlay\n")
    )
