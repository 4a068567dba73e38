"""The DST rule (utils.timing.occurrences), its explanations, and cron_schedule's preview."""

from __future__ import annotations

import datetime
import itertools
import zoneinfo

import pytest

from scheduler.dst import clock_change, notes
from testsupport.commands import run_command
from utils.exitcodes import ExitCode
from utils.registry import scheduled_jobs
from utils.timing import occurrences

UTC = datetime.UTC


def local_runs(schedule: str, zone: str, start: datetime.datetime, count: int) -> list[str]:
    tz = zoneinfo.ZoneInfo(zone)
    runs = itertools.islice(occurrences(schedule, zone, start), count)
    return [f"{run:%m-%d %H:%M}Z={run.astimezone(tz):%H:%M %Z}" for run in runs]


# --- The rule, in a northern and a southern zone, at both transitions -----------------------


@pytest.mark.parametrize(
    ("zone", "schedule", "start", "expected"),
    [
        pytest.param(
            "America/New_York",
            "30 2 * * *",
            datetime.datetime(2026, 3, 7, tzinfo=UTC),
            ["03-07 07:30Z=02:30 EST", "03-08 07:00Z=03:00 EDT", "03-09 06:30Z=02:30 EDT"],
            id="new-york-march-nonexistent-moves-to-first-valid-minute",
        ),
        pytest.param(
            "America/New_York",
            "30 1 * * *",
            datetime.datetime(2026, 10, 31, tzinfo=UTC),
            ["10-31 05:30Z=01:30 EDT", "11-01 05:30Z=01:30 EDT", "11-02 06:30Z=01:30 EST"],
            id="new-york-november-ambiguous-runs-once-at-the-first",
        ),
        pytest.param(
            "Australia/Sydney",
            "30 2 * * *",
            datetime.datetime(2026, 10, 2, tzinfo=UTC),
            ["10-02 16:30Z=02:30 AEST", "10-03 16:00Z=03:00 AEDT", "10-04 15:30Z=02:30 AEDT"],
            id="sydney-october-nonexistent-moves-to-first-valid-minute",
        ),
        pytest.param(
            "Australia/Sydney",
            "30 2 * * *",
            datetime.datetime(2026, 4, 3, tzinfo=UTC),
            ["04-03 15:30Z=02:30 AEDT", "04-04 15:30Z=02:30 AEDT", "04-05 16:30Z=02:30 AEST"],
            id="sydney-april-ambiguous-runs-once-at-the-first",
        ),
        pytest.param(
            "America/New_York",
            "*/20 * * * *",
            datetime.datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
            ["03-08 06:40Z=01:40 EST", "03-08 07:00Z=03:00 EDT", "03-08 07:20Z=03:20 EDT"],
            id="new-york-march-the-gap's-slots-collapse-into-one-run",
        ),
        pytest.param(
            "Australia/Sydney",
            "0 * * * *",
            datetime.datetime(2026, 4, 4, 14, 30, tzinfo=UTC),
            ["04-04 15:00Z=02:00 AEDT", "04-04 17:00Z=03:00 AEST", "04-04 18:00Z=04:00 AEST"],
            id="sydney-april-the-repeated-hour-runs-once",
        ),
    ],
)
def test_occurrences_follow_the_dst_rule(
    zone: str, schedule: str, start: datetime.datetime, expected: list[str]
) -> None:
    assert local_runs(schedule, zone, start, 3) == expected


def test_occurrences_are_strictly_after_the_start_and_utc() -> None:
    start = datetime.datetime(2026, 6, 1, 6, tzinfo=UTC)
    first = next(occurrences("0 6 * * *", "Etc/UTC", start))
    assert first == datetime.datetime(2026, 6, 2, 6, tzinfo=UTC) and first.tzinfo is UTC


# --- The explanations ----------------------------------------------------------------------

NY = zoneinfo.ZoneInfo("America/New_York")
SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")


def test_notes_say_a_run_moved_out_of_the_spring_gap() -> None:
    local = datetime.datetime(2026, 3, 8, 7, tzinfo=UTC).astimezone(NY)
    assert notes("30 2 * * *", NY, local) == [
        "moved from 02:30 (does not exist); Kubernetes skips it that day",
        "clocks change this day (EST→EDT)",
    ]
    assert notes("*/15 * * * *", NY, local)[0] == "also covers 02:00–02:45 (do not exist)"


def test_notes_say_an_ambiguous_time_runs_once() -> None:
    local = datetime.datetime(2026, 4, 4, 15, 30, tzinfo=UTC).astimezone(SYDNEY)
    assert notes("30 2 * * *", SYDNEY, local) == [
        "02:30 happens twice: runs once, at the first (AEDT); Kubernetes runs it twice",
        "clocks change this day (AEDT→AEST)",
    ]


def test_an_ordinary_day_has_no_notes() -> None:
    local = datetime.datetime(2026, 6, 1, 6, 30, tzinfo=UTC).astimezone(NY)
    assert notes("30 2 * * *", NY, local) == []
    assert clock_change(NY, datetime.date(2026, 6, 1)) is None
    assert clock_change(SYDNEY, datetime.date(2026, 10, 4)) == "AEST→AEDT"


# --- cron_schedule -------------------------------------------------------------------------


def test_cron_schedule_lists_the_next_runs_with_club_time_and_dst_days() -> None:
    result = run_command("cron_schedule", "--next=3", "--from=2026-03-07", "--job=send_duty_preop_emails")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "send_duty_preop_emails  0 6 * * *  (zone Etc/UTC; club time America/New_York)",
        "  2026-03-07 06:00 UTC   club Sat 2026-03-07 01:00 EST",
        "  2026-03-08 06:00 UTC   club Sun 2026-03-08 01:00 EST   ← club clocks change this day (EST→EDT)",
        "  2026-03-09 06:00 UTC   club Mon 2026-03-09 02:00 EDT",
    ]


def test_cron_schedule_in_a_dst_zone_marks_moved_runs(settings) -> None:
    settings.CRONJOB_TIMEZONE = "America/New_York"
    result = run_command("cron_schedule", "--next=2", "--from=2026-11-01", "--job=report_duty_delinquents")
    assert result.out.splitlines() == [
        "report_duty_delinquents  0 7 1 * *  (zone America/New_York; club time America/New_York)",
        "  2026-11-01 12:00 UTC   Sun 2026-11-01 07:00 EST   ← clocks change this day (EDT→EST)",
        "  2026-12-01 12:00 UTC   Tue 2026-12-01 07:00 EST",
    ]


def test_cron_schedule_shows_every_scheduled_job_by_default() -> None:
    result = run_command("cron_schedule", "--next=1")
    headers = [line.split()[0] for line in result.out.splitlines() if line and not line.startswith(" ")]
    assert headers == sorted(scheduled_jobs())
    assert {"expire_ad_hoc_days", "notify_late_sprs", "report_duty_delinquents"} <= set(headers)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--next=0"], "argument --next: '0' must be at least 1"),
        (["--next=many"], "argument --next: 'many' is not a whole number"),
        (["--from=2026-02-30"], "argument --from: '2026-02-30' is not a date (YYYY-MM-DD)"),
        (["--job=nope"], "no scheduled job 'nope' (scheduled: "),
    ],
)
def test_cron_schedule_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = run_command("cron_schedule", *args)
    assert result.code == ExitCode.USAGE
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and message in result.err
