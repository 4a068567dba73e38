"""The scheduler driven by a fake clock: slots, missed runs, one instance, deadlines, DST, signals."""

from __future__ import annotations

import datetime
import json
import signal

import pytest

from scheduler.records import RunRecords
from scheduler.scheduler import Scheduler
from testsupport.scheduling import FakeClock, FakeLauncher, FakeRecords, captured_logger, spec
from utils.models import CronJobLock, CronJobRun

UTC = datetime.UTC


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def scheduler(clock, launcher, specs, records=None, **kwargs):
    logger, out = captured_logger(kwargs.pop("fmt", "text"))
    kwargs.setdefault("poll", 1.0)
    sched = Scheduler(specs, clock=clock, launcher=launcher, logger=logger, records=records, **kwargs)
    return sched, out


def lines(out) -> list[str]:
    return out.getvalue().splitlines()


# --- Slots ---------------------------------------------------------------------------------


def test_a_slot_starts_its_job_as_a_kubernetes_job_would_name_it() -> None:
    clock = FakeClock(at(2026, 11, 23, 5, 59))
    launcher = FakeLauncher(clock)
    sched, out = scheduler(clock, launcher, [spec("0 6 * * *", command="send_duty_preop_emails")])

    sched.run(until=at(2026, 11, 23, 6, 5))

    (child,) = launcher.started
    assert child.started == at(2026, 11, 23, 6)
    assert child.command == "send_duty_preop_emails"
    minutes = int(at(2026, 11, 23, 6).timestamp()) // 60
    assert child.env["CRONJOB_OCCURRENCE"] == f"send-duty-preop-emails-{minutes}"
    assert child.env["CRONJOB_SCHEDULED_FOR"] == "2026-11-23T06:00:00+00:00"
    assert child.env["POD_NAME"].startswith(f"{sched.host}-send-duty-preop-emails-")
    assert (
        f"⏰ [scheduler] Started send_duty_preop_emails for slot 2026-11-23 06:00 UTC "
        f"(send-duty-preop-emails-{minutes}), pid 1000" in lines(out)
    )
    assert "⏰ [scheduler] send_duty_preop_emails finished after 1.0s: exit 0 (done)" in lines(out)


def test_a_week_runs_a_daily_job_seven_times_on_the_minute() -> None:
    clock = FakeClock(at(2026, 6, 1))
    launcher = FakeLauncher(clock)
    sched, _ = scheduler(clock, launcher, [spec("0 6 * * *")])
    sched.run(until=at(2026, 6, 8))
    assert launcher.start_times() == [at(2026, 6, day, 6) for day in range(1, 8)]


def test_each_job_keeps_its_own_schedule_and_its_own_arguments() -> None:
    clock = FakeClock(at(2026, 6, 1))
    launcher = FakeLauncher(clock)
    jobs = [spec("0 * * * *", command="hourly_job"), spec("30 2 * * *", command="nightly_job")]
    sched, _ = scheduler(clock, launcher, jobs, job_args=["--units=2"])
    sched.run(until=at(2026, 6, 1, 4))
    started = [(c.command, c.started.hour, c.started.minute) for c in launcher.started]
    assert started == [
        ("hourly_job", 1, 0),
        ("hourly_job", 2, 0),
        ("nightly_job", 2, 30),
        ("hourly_job", 3, 0),
    ]
    assert all(child.args == ["--units=2"] for child in launcher.started)


# --- Missed slots --------------------------------------------------------------------------


def test_a_slot_missed_by_less_than_the_starting_deadline_runs_once_late() -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 50))
    launcher = FakeLauncher(clock)
    sched, out = scheduler(clock, launcher, [spec("0 6 * * *", starting_deadline=900)])
    sched.start()
    sched.tick(clock.now())
    clock.jump(at(2026, 6, 1, 6, 14))  # the machine slept through 06:00
    sched.tick(clock.now())
    sched.tick(clock.now() + datetime.timedelta(seconds=30))
    assert launcher.start_times() == [at(2026, 6, 1, 6, 14)]
    assert launcher.started[0].env["CRONJOB_SCHEDULED_FOR"] == "2026-06-01T06:00:00+00:00"
    assert not any("missed" in line for line in lines(out))


def test_slots_missed_by_more_are_logged_and_skipped_never_replayed() -> None:
    clock = FakeClock(at(2026, 6, 1, 0, 30))
    launcher = FakeLauncher(clock)
    sched, out = scheduler(clock, launcher, [spec("0 * * * *", starting_deadline=900)])
    sched.start()
    sched.tick(clock.now())
    clock.jump(at(2026, 6, 1, 5, 20))  # 01:00 to 05:00 all passed; 05:00 is 20 minutes late
    sched.tick(clock.now())
    assert launcher.started == []
    assert (
        "⏸️ [scheduler] test_cronjob: missed 5 slots, 2026-06-01 01:00 UTC to 2026-06-01 05:00 UTC: "
        "not run, more than 15m late (its starting deadline)"
    ) in lines(out)
    sched.run(until=at(2026, 6, 1, 6, 30))  # a restart of the loop does not replay them either
    assert launcher.start_times() == [at(2026, 6, 1, 6)]


def test_after_downtime_only_the_latest_slot_runs_and_the_older_ones_are_reported() -> None:
    clock = FakeClock(at(2026, 6, 1, 0, 30))
    launcher = FakeLauncher(clock)
    sched, out = scheduler(clock, launcher, [spec("0 * * * *", starting_deadline=900)])
    sched.start()
    sched.tick(clock.now())
    clock.jump(at(2026, 6, 1, 3, 10))
    sched.tick(clock.now())
    assert [c.env["CRONJOB_SCHEDULED_FOR"] for c in launcher.started] == ["2026-06-01T03:00:00+00:00"]
    assert (
        "⏸️ [scheduler] test_cronjob: missed 2 slots, 2026-06-01 01:00 UTC to 2026-06-01 02:00 UTC: "
        "not run, only the latest, 2026-06-01 03:00 UTC, runs"
    ) in lines(out)


def test_a_restart_catches_up_from_the_last_recorded_slot() -> None:
    clock = FakeClock(at(2026, 6, 2, 6, 5))
    launcher = FakeLauncher(clock)
    history = FakeRecords({"test_cronjob": at(2026, 6, 1, 6)})
    sched, _ = scheduler(clock, launcher, [spec("0 6 * * *")], records=history)
    sched.run(until=at(2026, 6, 2, 6, 6))
    assert launcher.start_times() == [at(2026, 6, 2, 6, 5)]
    assert launcher.started[0].env["CRONJOB_SCHEDULED_FOR"] == "2026-06-02T06:00:00+00:00"


def test_a_first_start_without_history_waits_for_the_next_slot() -> None:
    clock = FakeClock(at(2026, 6, 2, 6, 5))
    launcher = FakeLauncher(clock)
    sched, _ = scheduler(clock, launcher, [spec("0 6 * * *")], records=FakeRecords())
    sched.run(until=at(2026, 6, 3, 7))
    assert launcher.start_times() == [at(2026, 6, 3, 6)]


def test_a_clock_stepping_back_does_not_run_a_slot_again() -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 59))
    launcher = FakeLauncher(clock)
    sched, _ = scheduler(clock, launcher, [spec("0 6 * * *")])
    # At 06:02 NTP steps the clock back over the slot, to 05:58.
    clock.at(at(2026, 6, 1, 6, 2), lambda: clock.jump(at(2026, 6, 1, 5, 58)))
    sched.run(until=at(2026, 6, 1, 6, 3))
    assert launcher.start_times() == [at(2026, 6, 1, 6)]


# --- One instance, deadlines ---------------------------------------------------------------


def test_a_job_still_running_at_its_next_slot_is_not_started_again() -> None:
    clock = FakeClock(at(2026, 6, 1, 0, 0, 30))
    launcher = FakeLauncher(clock)
    launcher.behave("test_cronjob", duration=150)
    sched, out = scheduler(clock, launcher, [spec("* * * * *", deadline=3600, starting_deadline=30)])
    sched.run(until=at(2026, 6, 1, 0, 4, 30))
    assert launcher.start_times() == [at(2026, 6, 1, 0, 1), at(2026, 6, 1, 0, 4)]
    skipped = [line for line in lines(out) if "not started" in line]
    assert skipped == [
        "⏸️ [scheduler] test_cronjob: slot 2026-06-01 00:02 UTC not started: the run started 1m00s ago "
        "(pid 1000) is still running",
        "⏸️ [scheduler] test_cronjob: slot 2026-06-01 00:03 UTC not started: the run started 2m00s ago "
        "(pid 1000) is still running",
    ]


def test_a_child_that_stops_itself_at_its_deadline_is_left_alone() -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 59))
    launcher = FakeLauncher(clock)
    launcher.behave("test_cronjob", duration=65, code=1)  # its own timer: timed_out, exit 1
    records = FakeRecords()
    sched, out = scheduler(clock, launcher, [spec("0 6 * * *", deadline=60)], records=records)
    sched.run(until=at(2026, 6, 1, 6, 5))
    assert launcher.started[0].signals == []
    assert records.closed == []
    assert "⚠️ [scheduler] test_cronjob finished after 1m05s: exit 1 (failed)" in lines(out)


@pytest.mark.django_db
@pytest.mark.parametrize("obeys", [True, False], ids=["stops-on-sigterm", "needs-sigkill"])
def test_a_child_overrunning_its_deadline_is_killed_and_recorded_timed_out(obeys: bool) -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 59))

    def child_writes_its_run_and_lock(child):
        # What the real child does when it starts: take the lock, record a running run.
        pod = child.env["POD_NAME"]
        CronJobRun.objects.create(
            job_name="test_cronjob", occurrence=child.env["CRONJOB_OCCURRENCE"], pod=pod
        )
        CronJobLock.objects.acquire("test_cronjob", pod, 60)

    launcher = FakeLauncher(clock, on_start=child_writes_its_run_and_lock)
    launcher.behave("test_cronjob", duration=3600, obeys_sigterm=obeys)
    sched, out = scheduler(
        clock,
        launcher,
        [spec("0 6 * * *", deadline=60)],
        records=RunRecords(),
        overrun_margin=15,
        kill_after=10,
    )

    sched.run(until=at(2026, 6, 1, 6, 5))

    (child,) = launcher.started
    expected = [signal.SIGTERM] if obeys else [signal.SIGTERM, signal.SIGKILL]
    assert child.signals == expected
    run = CronJobRun.objects.get()
    assert (run.status, run.exit_code) == ("timed_out", 1)
    assert run.error == "timed out: ran past its max_execution_time of 1m; stopped by the scheduler"
    assert not CronJobLock.objects.exists()  # freed at once, not after a lease
    assert "⏱️ [scheduler] test_cronjob (pid 1000) overran its max_execution_time of 1m by 15.0s: SIGTERM" in (
        lines(out)
    )
    assert ("⏱️ [scheduler] test_cronjob (pid 1000) ignored SIGTERM: SIGKILL" in lines(out)) is not obeys


def test_run_once_returns_the_jobs_exit_code_and_1_when_it_had_to_be_killed() -> None:
    clock = FakeClock(at(2026, 6, 1))
    launcher = FakeLauncher(clock)
    sched, _ = scheduler(clock, launcher, [])
    launcher.behave("test_cronjob", duration=3, code=75)
    assert sched.run_once(spec("", deadline=60)) == 75
    assert "CRONJOB_OCCURRENCE" not in launcher.started[0].env  # a manual run
    launcher.behave("test_cronjob", duration=3600)
    records = FakeRecords()
    sched, _ = scheduler(clock, launcher, [], records=records, overrun_margin=5)
    assert sched.run_once(spec("", deadline=60)) == 1
    assert records.closed[0][3] == "timed_out"


# --- Signals -------------------------------------------------------------------------------


def test_sigterm_stops_scheduling_forwards_the_signal_and_waits_for_the_child() -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 59))
    launcher = FakeLauncher(clock)
    launcher.behave("test_cronjob", duration=120)
    sched, out = scheduler(clock, launcher, [spec("* * * * *", deadline=3600, starting_deadline=30)])
    clock.at(at(2026, 6, 1, 6, 0, 30), lambda: sched.request_stop(signal.SIGTERM))

    sched.run()

    (child,) = launcher.started
    assert child.signals == [signal.SIGTERM] and child.returncode == 143
    assert clock.now() < at(2026, 6, 1, 6, 1)  # stopped at once, started nothing more
    assert lines(out)[-3:] == [
        "🛑 [scheduler] Stopping: received SIGTERM; no new runs; waiting up to 25s for "
        "test_cronjob (pid 1000)",
        "⚠️ [scheduler] test_cronjob finished after 30.0s: exit 143 (interrupted)",
        "⏰ [scheduler] Scheduler stopped",
    ]


def test_a_child_still_running_after_the_grace_period_is_killed_and_recorded_interrupted() -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 59))
    launcher = FakeLauncher(clock)
    launcher.behave("test_cronjob", duration=3600, obeys_sigterm=False)
    records = FakeRecords()
    sched, _ = scheduler(clock, launcher, [spec("0 6 * * *", deadline=7200)], records=records, grace=25)
    clock.at(at(2026, 6, 1, 6, 1), lambda: sched.request_stop(signal.SIGINT))

    sched.run()

    (child,) = launcher.started
    assert child.signals == [signal.SIGINT, signal.SIGKILL]
    assert at(2026, 6, 1, 6, 1, 25) <= clock.now() <= at(2026, 6, 1, 6, 1, 27)
    ((job, pod, statuses, status, error, code),) = records.closed
    assert (job, statuses, status, code) == ("test_cronjob", ("running",), "interrupted", 130)
    assert pod == child.env["POD_NAME"]
    assert error == "interrupted: killed by the scheduler 25s after SIGINT"


def test_a_second_signal_is_passed_on_too() -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 59))
    launcher = FakeLauncher(clock)
    launcher.behave("test_cronjob", duration=3600, obeys_sigterm=False)
    sched, out = scheduler(clock, launcher, [spec("0 6 * * *", deadline=7200)], records=FakeRecords())
    clock.at(at(2026, 6, 1, 6, 1), lambda: sched.request_stop(signal.SIGTERM))
    clock.at(at(2026, 6, 1, 6, 1, 5), lambda: sched.request_stop(signal.SIGTERM))
    sched.run()
    assert launcher.started[0].signals == [signal.SIGTERM, signal.SIGTERM, signal.SIGKILL]
    assert "🛑 [scheduler] received SIGTERM again: passing it on to test_cronjob (pid 1000)" in lines(out)


def test_until_stops_like_sigterm() -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 59))
    launcher = FakeLauncher(clock)
    launcher.behave("test_cronjob", duration=600)
    sched, out = scheduler(clock, launcher, [spec("0 6 * * *")])
    sched.run(until=at(2026, 6, 1, 6, 1))
    assert launcher.started[0].signals == [signal.SIGTERM]
    assert "Stopping: the time given with --for is up" in out.getvalue()


# --- Daylight saving time ------------------------------------------------------------------

DST_NIGHTS = [
    # (zone, schedule, from, to, expected start times in UTC)
    pytest.param(
        "America/New_York",
        "30 2 * * *",
        at(2026, 3, 7),
        at(2026, 3, 10),
        [at(2026, 3, 7, 7, 30), at(2026, 3, 8, 7, 0), at(2026, 3, 9, 6, 30)],
        id="new-york-spring-02:30-does-not-exist-runs-at-03:00",
    ),
    pytest.param(
        "America/New_York",
        "30 1 * * *",
        at(2026, 10, 31),
        at(2026, 11, 3),
        [at(2026, 10, 31, 5, 30), at(2026, 11, 1, 5, 30), at(2026, 11, 2, 6, 30)],
        id="new-york-autumn-01:30-twice-runs-once",
    ),
    pytest.param(
        "Australia/Sydney",
        "30 2 * * *",
        at(2026, 10, 2),
        at(2026, 10, 5),
        [at(2026, 10, 2, 16, 30), at(2026, 10, 3, 16, 0), at(2026, 10, 4, 15, 30)],
        id="sydney-spring-october-02:30-does-not-exist-runs-at-03:00",
    ),
    pytest.param(
        "Australia/Sydney",
        "30 2 * * *",
        at(2026, 4, 3),
        at(2026, 4, 6),
        [at(2026, 4, 3, 15, 30), at(2026, 4, 4, 15, 30), at(2026, 4, 5, 16, 30)],
        id="sydney-autumn-april-02:30-twice-runs-once",
    ),
    pytest.param(
        "America/New_York",
        "30 * * * *",
        at(2026, 11, 1, 4),
        at(2026, 11, 1, 9),
        [at(2026, 11, 1, 4, 30), at(2026, 11, 1, 5, 30), at(2026, 11, 1, 7, 30), at(2026, 11, 1, 8, 30)],
        id="new-york-autumn-hourly-the-repeated-hour-runs-once",
    ),
]


@pytest.mark.parametrize(("zone", "schedule", "start", "end", "expected"), DST_NIGHTS)
def test_dst_nights(
    zone: str,
    schedule: str,
    start: datetime.datetime,
    end: datetime.datetime,
    expected: list[datetime.datetime],
) -> None:
    clock = FakeClock(start)
    launcher = FakeLauncher(clock)
    sched, _ = scheduler(clock, launcher, [spec(schedule, zone, deadline=60, starting_deadline=300)])
    sched.run(until=end)
    assert launcher.start_times() == expected
    occurrences = [child.env["CRONJOB_OCCURRENCE"] for child in launcher.started]
    assert len(set(occurrences)) == len(occurrences)


def test_log_lines_are_json_with_log_format_json() -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 59))
    launcher = FakeLauncher(clock)
    sched, out = scheduler(clock, launcher, [spec("0 6 * * *")], fmt="json")
    sched.run(until=at(2026, 6, 1, 6, 1))
    records = [json.loads(line) for line in lines(out)]
    assert {r["job"] for r in records} == {"scheduler"}
    started = next(r for r in records if r["message"].startswith("Started"))
    assert (started["event"], started["level"]) == ("scheduler", "info")
    assert launcher.started[0].env["CRONJOB_LOG_FORMAT"] == "json"


@pytest.mark.django_db
def test_the_history_is_each_jobs_latest_scheduled_slot_by_anyone() -> None:
    def run(job: str, slot: datetime.datetime | None, status: str = "succeeded") -> None:
        CronJobRun.objects.create(job_name=job, occurrence="x", pod="p", scheduled_for=slot, status=status)

    run("send_duty_preop_emails", at(2026, 6, 1, 6))
    run("send_duty_preop_emails", at(2026, 6, 2, 6), status="skipped")
    run("send_duty_preop_emails", None)  # a manual run has no slot
    run("notify_late_sprs", at(2026, 5, 25, 10), status="failed")
    run("other_job", at(2026, 6, 3))
    history = RunRecords().last_scheduled(["send_duty_preop_emails", "notify_late_sprs", "never_ran"])
    assert history == {"send_duty_preop_emails": at(2026, 6, 2, 6), "notify_late_sprs": at(2026, 5, 25, 10)}


class ClosedConnectionRecords(FakeRecords):
    """Records whose connection broke earlier: Django raises InterfaceError, not a DatabaseError."""

    def last_scheduled(self, jobs: object) -> dict[str, datetime.datetime]:
        from django.db import InterfaceError

        raise InterfaceError("connection already closed")

    def close_killed(self, *args: object) -> int:
        from django.db import InterfaceError

        raise InterfaceError("connection already closed")


def test_a_closed_database_connection_is_a_warning_and_the_scheduler_goes_on() -> None:
    clock = FakeClock(at(2026, 6, 1, 5, 59))
    launcher = FakeLauncher(clock)
    launcher.behave("test_cronjob", duration=3600, obeys_sigterm=True)
    sched, out = scheduler(
        clock, launcher, [spec("0 6 * * *", deadline=60)], records=ClosedConnectionRecords(), overrun_margin=5
    )
    sched.run(until=at(2026, 6, 1, 6, 5))
    assert launcher.start_times() == [at(2026, 6, 1, 6)]
    warnings = [line for line in lines(out) if "connection already closed" in line]
    assert warnings == [
        "⚠️ [scheduler] could not read the run history (connection already closed): no catch-up",
        "⚠️ [scheduler] could not record test_cronjob's run: connection already closed",
    ]
