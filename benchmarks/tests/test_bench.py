"""`make bench` end to end, at a size that takes seconds: every section of the report is written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.report import svg_chart
from testsupport.databases import REPO, manage_env, postgres_url

pytestmark = [pytest.mark.processes, pytest.mark.postgres]


def test_the_benchmark_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--scales",
            "1",
            "2",
            "--processes",
            "3",
            "--rounds",
            "3",
            "--lock-iterations",
            "30",
            "--send-rounds",
            "2",
            "--output",
            str(output),
        ],
        cwd=REPO,
        env=manage_env(postgres_url("postgres")),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = output.read_text()
    for heading in (
        "## Goals",
        "## Cost per message sent",
        "## The seven commands at each scale",
        "## Start-up cost",
        "## Lock cost",
        "## Contention",
    ):
        assert heading in report
    assert "| 3 processes × 3 rounds: exactly one run per round | {1: 3} | ✅ |" in report
    assert report.count("| 2 | 150 |") == 7  # scale 2: 150 members, one row per command
    chart = (tmp_path / "benchmarks" / "time-vs-scale.svg").read_text()
    assert chart.startswith("<svg") and chart.count("<polyline") == 7
    # Every sending job at each scale against the floor measured beside it, and a ratio each.
    for scale in (1, 2):
        assert (
            len(
                re.findall(rf"^\| {scale} \| `\w+` \| [\d,]+ \| .* \| \d+\.\d\d× \| [✅❌] \|$", report, re.M)
            )
            == 7
        )
    assert len(re.findall(r"start-up CPU within 1.3× a minimal Django process \| \d\.\d\d× \|", report)) == 7
    per_message = (tmp_path / "benchmarks" / "cost-per-message.svg").read_text()
    assert (
        per_message.count("<polyline") == 8 and 'stroke-dasharray="6 4"' in per_message
    )  # 7 jobs + the floor


def test_the_chart_places_points_on_a_log_scale() -> None:
    chart = svg_chart({"a": [(1, 0.5), (10, 1.0), (100, 2.0)]}, "t", "s")
    points = chart.split('<polyline points="')[1].split('"')[0].split()
    xs = [float(p.split(",")[0]) for p in points]
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1])
