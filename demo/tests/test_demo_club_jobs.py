"""The scheduled commands on the demo club: their findings, and queries that don't grow."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testsupport.commands import run_command

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 20)
# Midday in the club's zone on TODAY.
NOW = datetime.datetime(2026, 11, 20, 17, 0, tzinfo=datetime.UTC)
JOBS = (
    "notify_aging_logsheets",
    "send_duty_preop_emails",
    "expire_ad_hoc_days",
    "notify_late_sprs",
    "send_maintenance_digest",
    "report_duty_delinquents",
    "notify_pilot_currency",
    "send_deferred_notices",
)


def seed(scale: int) -> None:
    result = run_command(
        "seed_demo", "--scale", str(scale), "--today", TODAY.isoformat(), "--reset", "--confirm-reset"
    )
    assert result.code == 0, result.err


def dry_runs() -> dict[str, tuple[int, str]]:
    """Each job's dry run: (queries, its summary line)."""
    found = {}
    with time_machine.travel(NOW, tick=False):
        for job in JOBS:
            with CaptureQueriesContext(connection) as queries:
                result = run_command(job, "--dry-run")
            assert result.code == 0, (job, result.err)
            summary = [line for line in result.lines if line.startswith("📊")][-1]
            found[job] = (len(queries), summary)
    return found


def number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, (pattern, text)
    return int(match.group(1))


def test_each_job_finds_what_the_demo_club_holds_and_queries_stay_flat() -> None:
    seed(1)
    small = dry_runs()
    seed(10)
    large = dry_runs()

    for scale, runs in ((1, small), (10, large)):
        assert number(r"Found (\d+) aging logsheet", runs["notify_aging_logsheets"][1]) == scale
        assert number(r"FINAL notice (\d+)", runs["notify_late_sprs"][1]) == scale
        assert number(r"Found (\d+) delinquent members", runs["report_duty_delinquents"][1]) == 19 * scale
        assert number(r"Found (\d+) operating assignment", runs["send_duty_preop_emails"][1]) == scale
        assert number(r"Would expire (\d+) unconfirmed ad-hoc", runs["expire_ad_hoc_days"][1]) == scale
        assert number(r"Found (\d+) open issues", runs["send_maintenance_digest"][1]) == 3 * scale

    assert {job: queries for job, (queries, _) in large.items()} == {
        job: queries for job, (queries, _) in small.items()
    }
