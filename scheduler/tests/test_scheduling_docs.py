"""docs/scheduling.md says what the code does: the DST table and the systemd unit."""

from __future__ import annotations

import datetime
import itertools
import re
import zoneinfo
from pathlib import Path

from django.conf import settings as django_settings

from utils.timing import occurrences

DOC = (Path(__file__).resolve().parents[2] / "docs" / "scheduling.md").read_text()


def test_the_dst_table_is_what_occurrences_gives() -> None:
    rows = re.findall(r"^\| ([A-Za-z_/]+), `([^`]+)` \| [^|]+ \| ([^|]+) \|$", DOC, flags=re.M)
    assert len(rows) == 4
    for zone_name, schedule, cell in rows:
        documented = [run.replace("**", "").replace(" only", "").strip() for run in cell.split(",")]
        zone = zoneinfo.ZoneInfo(zone_name)
        month, day = documented[0].split()[:2]
        first_day = datetime.datetime.strptime(f"2026 {month} {day}", "%Y %b %d").replace(tzinfo=zone)
        runs = itertools.islice(occurrences(schedule, zone_name, first_day.astimezone(datetime.UTC)), 3)
        actual = [
            f"{r.astimezone(zone):%b} {r.astimezone(zone).day} {r.astimezone(zone):%H:%M %Z}" for r in runs
        ]
        assert actual == documented, (zone_name, schedule)


def test_the_systemd_unit_stops_the_scheduler_first_and_waits_longer_than_its_grace() -> None:
    unit = DOC.split("```ini", 1)[1].split("```", 1)[0]
    settings = dict(re.findall(r"^(\w+)=(.*)$", unit, flags=re.M))
    assert settings["KillSignal"] == "SIGTERM"
    assert settings["KillMode"] == "mixed"
    assert settings["Restart"] in ("always", "on-failure")
    assert int(settings["TimeoutStopSec"]) > django_settings.CRONJOB_SCHEDULER_GRACE_SECONDS + 10
    assert settings["ExecStart"].endswith("manage.py run_scheduler")


def test_the_example_log_lines_are_what_the_scheduler_would_print() -> None:
    from utils.registry import job_specs

    specs = {spec.command: spec for spec in job_specs()}
    started = re.search(r"Scheduler started on [\w-]+: (\d+) job\(s\)", DOC)
    assert started, "docs/scheduling.md no longer shows the scheduler's start line"
    assert int(started.group(1)) == len(specs), (
        f"the start line says {started.group(1)} job(s); there are {len(specs)}"
    )
    for job, schedule, zone in re.findall(r"\[scheduler\] (\w+): (.+?) \(([\w/]+)\), next", DOC):
        assert (schedule, zone) == (specs[job].schedule, specs[job].timezone), job
    slots = re.findall(r"for slot (\d{4}-\d\d-\d\d \d\d:\d\d) UTC \(([a-z-]+)-(\d+)\)", DOC)
    assert slots, "docs/scheduling.md no longer shows a slot's occurrence name"
    for slot, cronjob, minutes in slots:
        at = datetime.datetime.strptime(slot, "%Y-%m-%d %H:%M").replace(tzinfo=datetime.UTC)
        assert int(minutes) == int(at.timestamp()) // 60, (
            f"{cronjob}-{minutes} is not the name of the slot {slot} UTC"
        )
    examples = set(re.findall(r"send-duty-preop-emails-(\d{6,})", DOC))
    assert examples == {slots[0][2]}, "every example occurrence of the page is the same slot's"
