"""run_scheduler's command line: --list, and bad input (one line, exit 2, nothing started)."""

from __future__ import annotations

import pytest
import time_machine

from testsupport.commands import run_command
from utils.cli import duration
from utils.exitcodes import ExitCode
from utils.registry import scheduled_jobs


@time_machine.travel("2026-03-07 12:00:00+00:00", tick=False)
def test_list_shows_each_jobs_next_three_runs() -> None:
    result = run_command("run_scheduler", "--list", "--job=send_duty_preop_emails")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "send_duty_preop_emails  0 6 * * *  (zone Etc/UTC; club time America/New_York)",
        "  2026-03-08 06:00 UTC   club Sun 2026-03-08 01:00 EST   ← club clocks change this day (EST→EDT)",
        "  2026-03-09 06:00 UTC   club Mon 2026-03-09 02:00 EDT",
        "  2026-03-10 06:00 UTC   club Tue 2026-03-10 02:00 EDT",
    ]


def test_list_covers_every_scheduled_job() -> None:
    out = run_command("run_scheduler", "--list").out
    headers = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert headers == sorted(scheduled_jobs())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--once=nope"], "--once: 'nope' is not a cron job command"),
        (["--job=nope"], "--job: no scheduled job 'nope'"),
        (["--for=0s"], "argument --for: '0s' is not a duration"),
        (["--for=soon"], "argument --for: 'soon' is not a duration"),
        (["--schedule=* * * * *"], "--schedule and --deadline need --job"),
        (["--job=test_cronjob", "--schedule=every minute"], "'every minute' is not a cron expression"),
        (["--list", "--once=test_cronjob"], "not allowed with argument"),
        (["--", "--units=3"], "arguments for the jobs (after --) need --once or --job"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    result = run_command("run_scheduler", *args)
    assert result.code == ExitCode.USAGE
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and message in result.err


def test_durations() -> None:
    assert [duration(v).total_seconds() for v in ("90", "90s", "5m", "1.5h")] == [90, 90, 300, 5400]
