"""How make pods reads the Dockerfile and resolves a container (testsupport/pods_*.py), each
rule against the Kubernetes or Docker behaviour it reproduces; fast, no root needed."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest
from django.conf import settings

from testsupport.pods_dockerfile import DockerfileError, context_files, ignored, instructions, stages
from testsupport.pods_image import Image
from testsupport.pods_spec import (
    PodMeta,
    argv,
    container_env,
    expand_references,
    field_value,
    latest_slot,
    quantity,
)

ROOT = Path(settings.BASE_DIR)


BASE = Image(
    root=Path("/nonexistent"),
    python=Path("/nonexistent"),
    env={"PATH": "/opt/venv/bin:/usr/bin", "DATA_DIR": "/tmp/x"},
    workdir="/app",
    user="10001:10001",
    entrypoint=None,
    cmd=["gunicorn", "manage2soar.wsgi"],
)


def test_the_projects_dockerfile_reads_as_two_stages_ending_in_the_final_image() -> None:
    build, final = stages((ROOT / "Dockerfile").read_text())
    assert (build.name, final.name) == ("build", "final")
    assert final.env["PATH"].startswith("/opt/venv/bin:/usr/local/bin:")  # $PATH from the base image
    assert final.env["DATA_DIR"] == "/tmp/manage2soar"
    assert (final.workdir, final.user) == ("/app", "10001:10001")
    assert final.cmd is not None and final.cmd[:2] == ["gunicorn", "manage2soar.wsgi"]
    keywords = [i.keyword for i in final.instructions]
    assert keywords.count("RUN") == 2 and keywords.count("COPY") == 2
    assert any("--require-hashes --only-binary=:all:" in i.arguments for i in build.instructions)


def test_continuations_and_comments() -> None:
    text = "FROM python:3.11-slim-bookworm\n# a comment\nRUN a \\\n  # inside\n  && b\nENV A=1 B=$A/x\n"
    [run, _] = instructions(text)[1:]
    assert (run.keyword, run.arguments) == ("RUN", "a  && b")
    [stage] = stages(text)
    # As Docker does: one ENV's values are expanded with the environment from before it.
    assert (stage.env["A"], stage.env["B"]) == ("1", "/x")
    [again] = stages(text + "ENV C=$A/x\n")
    assert again.env["C"] == "1/x"


def test_what_the_reading_does_not_know_is_an_error() -> None:
    with pytest.raises(DockerfileError, match="base image alpine:3 is not known"):
        stages("FROM alpine:3\n")
    with pytest.raises(DockerfileError, match="instruction VOLUME is not known"):
        stages("FROM python:3.11-slim-bookworm\nVOLUME /data\n")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".git/config", True),
        ("utils/__pycache__/x.pyc", True),
        ("var/manage2soar.sqlite3", True),
        ("db.sqlite3-wal", True),
        ("build/pods/summary.md", True),
        ("docs/benchmarks/chart.svg", True),
        ("docs/benchmarks.md", False),
        ("utils/cronjob.py", False),
    ],
)
def test_dockerignore_patterns(path: str, expected: bool) -> None:
    patterns = [line for line in (ROOT / ".dockerignore").read_text().split() if line]
    assert ignored(path, patterns) is expected


def test_the_context_has_the_code_and_not_the_checkouts_state() -> None:
    files = set(context_files(ROOT))
    assert {"manage.py", "requirements.txt", "utils/cronjob.py", "k8s-cronjobs.yaml"} <= files
    assert not [f for f in files if f.startswith((".venv", ".git/", "build/", "var/"))]


def test_command_replaces_entrypoint_and_args_replace_cmd() -> None:
    env = {"JOB": "notify_late_sprs"}
    assert argv({}, BASE, env) == ["gunicorn", "manage2soar.wsgi"]
    assert argv({"args": ["--workers=3"]}, dataclasses.replace(BASE, entrypoint=["tini", "--"]), env) == [
        "tini",
        "--",
        "--workers=3",
    ]
    assert argv({"command": ["python", "manage.py", "$(JOB)"]}, BASE, env) == [
        "python",
        "manage.py",
        "notify_late_sprs",
    ]


def test_references_are_expanded_as_kubernetes_does() -> None:
    env = {"A": "1"}
    assert expand_references("$(A)-$$(A)-$(B)", env) == "1-$(A)-$(B)"


def meta() -> PodMeta:
    labels = {"batch.kubernetes.io/job-name": "notify-late-sprs-29392920"}
    return PodMeta("notify-late-sprs-29392920-x7k2p", "manage2soar", labels, {})


def test_the_environment_is_the_images_then_envfrom_then_env() -> None:
    container = {
        "envFrom": [{"configMapRef": {"name": "config"}}],
        "env": [
            {"name": "DATA_DIR", "value": "/tmp/$(SUFFIX)"},
            {
                "name": "JOB_NAME",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/job-name']"}},
            },
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
    }
    maps = {"config": {"SUFFIX": "club", "PATH": "/from/configmap"}}
    env = container_env(container, BASE, meta(), {}, maps)
    assert env["PATH"] == "/from/configmap"  # envFrom over the image's ENV
    assert env["DATA_DIR"] == "/tmp/club"  # env over both, with references
    assert (env["JOB_NAME"], env["POD_NAME"]) == (
        "notify-late-sprs-29392920",
        "notify-late-sprs-29392920-x7k2p",
    )
    assert env["HOSTNAME"] == "notify-late-sprs-29392920-x7k2p"


def test_field_refs() -> None:
    assert (
        field_value(meta(), {"serviceAccountName": "manage2soar"}, "spec.serviceAccountName") == "manage2soar"
    )
    assert field_value(meta(), {}, "metadata.namespace") == "manage2soar"
    assert field_value(meta(), {}, "metadata.labels['missing']") == ""


def test_the_slot_of_a_cronjobs_job_is_its_latest_scheduled_time() -> None:
    now = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)
    assert latest_slot("0 7 1 * *", "Etc/UTC", now) == datetime.datetime(2026, 11, 1, 7, tzinfo=datetime.UTC)
    # 06:00 in New York is 11:00 UTC in November.
    assert latest_slot("0 6 * * *", "America/New_York", now) == datetime.datetime(
        2026, 11, 20, 11, tzinfo=datetime.UTC
    )
    assert latest_slot("0 17 * * *", "Etc/UTC", now) == now  # a slot at "now" is the latest


@pytest.mark.parametrize(
    ("text", "size"), [("128Mi", 128 * 2**20), ("1Gi", 2**30), ("500M", 500 * 10**6), ("64", 64)]
)
def test_quantities(text: str, size: int) -> None:
    assert quantity(text) == size
