"""The channels' settings: optional secrets from files, quiet hours, retries."""

from __future__ import annotations

import subprocess
from pathlib import Path

from testsupport.databases import manage_env, run_manage

PRINT = (
    "from django.conf import settings as s; "
    "print(repr((s.TWILIO_AUTH_TOKEN, s.SLACK_WEBHOOK_URL, s.SMS_QUIET_HOURS, s.NOTIFY_RETRY_ATTEMPTS)))"
)


def settings_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_manage("shell", "--no-imports", "-c", PRINT, env=manage_env(f"sqlite:///{tmp_path}/db", **env))


def test_a_channel_secret_comes_from_its_file_and_a_missing_file_turns_it_off(tmp_path: Path) -> None:
    token = tmp_path / "TWILIO_AUTH_TOKEN"
    token.write_text("twilio-token\n")
    result = settings_with(
        tmp_path,
        TWILIO_AUTH_TOKEN_FILE=str(token),
        SLACK_WEBHOOK_URL_FILE=str(tmp_path / "SLACK_WEBHOOK_URL"),  # not in the Secret
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('twilio-token', '', '21:00-08:00', 4)"


def test_bad_quiet_hours_or_retry_attempts_are_configuration_errors(tmp_path: Path) -> None:
    for env, line in (
        ({"SMS_QUIET_HOURS": "9pm-8am"}, "SMS_QUIET_HOURS='9pm-8am' must look like 21:00-08:00"),
        ({"SMS_QUIET_HOURS": "21:00"}, "SMS_QUIET_HOURS='21:00' must look like 21:00-08:00"),
        ({"NOTIFY_RETRY_ATTEMPTS": "0"}, "NOTIFY_RETRY_ATTEMPTS=0 must be at least 1"),
    ):
        result = settings_with(tmp_path, **env)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [f"❌ configuration error: {line}"]


def test_quiet_hours_can_be_turned_off(tmp_path: Path) -> None:
    result = settings_with(tmp_path, SMS_QUIET_HOURS="")
    assert result.returncode == 0 and "''" in result.stdout
