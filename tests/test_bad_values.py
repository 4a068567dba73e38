"""A bad setting or option value is one line and exit 2, never a traceback or exit 1: every
typed setting, the Job name a pod gets, and every shared option type (utils/cli.py)."""

from __future__ import annotations

import subprocess

import pytest

from testsupport.databases import manage_env, postgres_url, run_manage

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('bad-values')}/db.sqlite3"
    migrated = run_manage("migrate", "--no-input", "-v0", env=manage_env(url))
    assert migrated.returncode == 0, migrated.stderr
    return url


def one_line_exit_2(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("CRONJOB_LEASE_SECONDS", "60s", "CRONJOB_LEASE_SECONDS='60s' is not a whole number"),
        ("CRONJOB_LEASE_SECONDS", "2", "CRONJOB_LEASE_SECONDS=2 must be at least 3"),
        (
            "CRONJOB_LEASE_SECONDS",
            "100000000000000000000",
            "CRONJOB_LEASE_SECONDS=100000000000000000000 must be at most 3600",
        ),
        (
            "CRONJOB_TIMEZONE",
            "Mars/Olympus_Mons",
            "CRONJOB_TIMEZONE='Mars/Olympus_Mons' is not an IANA time zone (e.g. America/New_York)",
        ),
        ("CRONJOB_STOP_GRACE_SECONDS", "ten", "CRONJOB_STOP_GRACE_SECONDS='ten' is not a number"),
        ("CRONJOB_STOP_GRACE_SECONDS", "nan", "CRONJOB_STOP_GRACE_SECONDS='nan' is not a number"),
        ("CRONJOB_STOP_GRACE_SECONDS", "-1", "CRONJOB_STOP_GRACE_SECONDS=-1 must be at least 0"),
        ("CRONJOB_ALERT_AFTER_FAILURES", "1e3", "CRONJOB_ALERT_AFTER_FAILURES='1e3' is not a whole number"),
        ("EMAIL_TIMEOUT", "15s", "EMAIL_TIMEOUT='15s' is not a whole number"),
        ("CHANNEL_TIMEOUT", "inf", "CHANNEL_TIMEOUT='inf' is not a number"),
        ("NOTIFY_RETRY_BASE_SECONDS", "x", "NOTIFY_RETRY_BASE_SECONDS='x' is not a number"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a yes/no value (1 or 0, true or false)"),
        # The URL itself is never repeated: it may hold a password.
        (
            "DATABASE_URL",
            "postgres://u:pw@h:99999/db",
            "DATABASE_URL can't be read as a URL: Port out of range 0-65535",
        ),
        ("DATABASE_URL", "", "DATABASE_URL can't be read as a URL: no scheme (e.g. postgres:// or smtp://)"),
        (
            "EMAIL_URL",
            "smtp://u:pw@h:abc",
            "EMAIL_URL can't be read as a URL: Port could not be cast to integer value as 'abc'",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(database: str, variable: str, value: str, line: str) -> None:
    result = run_manage("test_cronjob", "--units=1", env=manage_env(database, **{variable: value}))
    assert one_line_exit_2(result) == f"❌ configuration error: {line}"


@pytest.mark.parametrize(
    ("lock_wait", "line"),
    [
        ("30s", "CRONJOB_LEASE_SECONDS=30 must be longer than DATABASE_LOCK_TIMEOUT=30s, the longest a "),
        ("45000", "CRONJOB_LEASE_SECONDS=30 must be longer than DATABASE_LOCK_TIMEOUT=45000, the longest a "),
        (
            "0",
            "CRONJOB_LEASE_SECONDS=30 must be longer than DATABASE_LOCK_TIMEOUT=0 (no limit), the longest a ",
        ),
        (
            "30 s",
            "DATABASE_LOCK_TIMEOUT='30 s' is not a PostgreSQL duration (e.g. 30s or 500ms; a bare number ",
        ),
    ],
)
def test_on_postgresql_a_lease_must_outlast_the_lock_wait(lock_wait: str, line: str) -> None:
    environment = manage_env(
        postgres_url("postgres"), CRONJOB_LEASE_SECONDS="30", DATABASE_LOCK_TIMEOUT=lock_wait
    )
    assert one_line_exit_2(run_manage("check", env=environment)).startswith(f"❌ configuration error: {line}")


def test_a_lease_longer_than_the_lock_wait_is_accepted_on_postgresql() -> None:
    environment = manage_env(
        postgres_url("postgres"), CRONJOB_LEASE_SECONDS="3", DATABASE_LOCK_TIMEOUT="2900ms"
    )
    result = run_manage("check", env=environment)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"JOB_NAME": "test-cronjob-12345678901234567890"},
            "bad occurrence: JOB_NAME='test-cronjob-12345678901234567890' ends in 12345678901234567890, "
            "which is not a time (minutes since the epoch)",
        ),
        (
            {"CRONJOB_OCCURRENCE": "x" * 201},
            "bad occurrence: CRONJOB_OCCURRENCE is 201 characters long, more than 200",
        ),
        ({"POD_NAME": "p" * 256}, "POD_NAME is 256 characters long, more than 255"),
    ],
)
def test_a_bad_job_name_or_pod_name_is_one_line_and_exit_2(
    database: str, env: dict[str, str], line: str
) -> None:
    result = run_manage("test_cronjob", "--units=1", env=manage_env(database, **env))
    assert one_line_exit_2(result) == f"❌ [test_cronjob] {line} (exit 2)"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("notify_aging_logsheets", "--days", "100000000000000000000"),
            "argument --days: '100000000000000000000' must be at most 100,000",
        ),
        (("notify_late_sprs", "--lookback-days", "100000000000000000000"), "must be at most 100,000"),
        (("send_maintenance_digest", "--deadline-days", "100000000000000000000"), "must be at most 100,000"),
        (("cron_status", "--failures", "100000000000000000000"), "must be at most 100,000"),
        (("report_duty_delinquents", "--min-flights", "100000000000000000000"), "must be at most 100,000"),
        (("cron_schedule", "--next", "99999999999"), "argument --next: '99999999999' must be at most 1,000"),
        (
            ("cron_schedule", "--from", "9999-12-31"),
            "'9999-12-31' is out of range (1900-01-01 to 2999-12-31)",
        ),
        (("seed_demo", "--today", "9999-12-31"), "'9999-12-31' is out of range (1900-01-01 to 2999-12-31)"),
        (
            ("test_cronjob", "--unit-seconds", "nan"),
            "argument --unit-seconds: 'nan' is not a number of seconds",
        ),
        (("test_cronjob", "--max-seconds", "1e300"), "argument --max-seconds: '1e300' is more than a year"),
        (("run_scheduler", "--for", "99999999999999999999h"), "'99999999999999999999h' is more than a year"),
    ],
)
def test_a_bad_option_value_is_one_line_and_exit_2(database: str, args: tuple[str, ...], line: str) -> None:
    result = run_manage(*args, env=manage_env(database))
    assert line in one_line_exit_2(result)


@pytest.mark.parametrize(
    "args",
    [
        ("notify_aging_logsheets", "--days"),
        ("notify_late_sprs", "--lookback-days"),
        ("send_maintenance_digest", "--deadline-days"),
        ("notify_pilot_currency", "--days"),
    ],
)
def test_the_largest_number_of_days_accepted_runs(database: str, args: tuple[str, str]) -> None:
    """The bound is not only a refusal: at 100,000 days no date arithmetic overflows."""
    job, option = args
    result = run_manage(job, option, "100000", "--dry-run", env=manage_env(database))
    assert result.returncode in (0, 2) and "Traceback" not in result.stderr, result.stderr
    if result.returncode == 2:  # a job's own, smaller bound: still one line
        assert one_line_exit_2(result).startswith(f"❌ [{job}] bad arguments: {option} must be at most ")
