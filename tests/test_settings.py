"""Settings come only from the environment; bad configuration is one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from testsupport.databases import manage_env, postgres_url, run_manage


def env_without_secret(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = manage_env(f"sqlite:///{tmp_path}/db.sqlite3")
    env.pop("SECRET_KEY")
    return {**env, "DEBUG": "0", **extra}  # explicit: a checkout's .env may say DEBUG=1


@pytest.mark.parametrize("command", ["check", "makemigrations", "test_cronjob"])
def test_no_secret_key_without_debug_refuses_to_start_with_one_line(tmp_path: Path, command: str) -> None:
    result = run_manage(command, env=env_without_secret(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "❌ configuration error: SECRET_KEY is not set (set SECRET_KEY or SECRET_KEY_FILE, or "
        "DEBUG=1 for development)"
    ]


def test_debug_runs_without_a_secret_key(tmp_path: Path) -> None:
    assert run_manage("check", env=env_without_secret(tmp_path, DEBUG="1")).returncode == 0


def test_a_secret_can_come_from_a_file_and_its_newline_is_ignored(tmp_path: Path) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file\n")
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(repr(settings.SECRET_KEY))",
        env=env_without_secret(tmp_path, SECRET_KEY_FILE=str(secret)),
    )
    assert result.stdout.strip() == "'from-a-file'", result.stderr


def test_database_url_can_come_from_a_file(tmp_path: Path) -> None:
    url_file = tmp_path / "database_url"
    url_file.write_text(f"sqlite:///{tmp_path}/from-file.sqlite3\n")
    env = manage_env("ignored", DATABASE_URL_FILE=str(url_file))
    env.pop("DATABASE_URL")
    result = run_manage("migrate", "-v0", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-file.sqlite3").exists()


def test_an_unknown_club_timezone_is_a_configuration_error(tmp_path: Path) -> None:
    env = manage_env(f"sqlite:///{tmp_path}/db.sqlite3", CLUB_TIMEZONE="Mars/Olympus_Mons")
    result = run_manage("check", env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "❌ configuration error: CLUB_TIMEZONE='Mars/Olympus_Mons' is not an IANA time zone "
        "(e.g. America/New_York)"
    ]


def test_a_too_short_lease_is_a_configuration_error(tmp_path: Path) -> None:
    env = manage_env(f"sqlite:///{tmp_path}/db.sqlite3", CRONJOB_LEASE_SECONDS="1")
    result = run_manage("test_cronjob", env=env)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1


@pytest.mark.postgres
def test_postgresql_connections_carry_the_command_name() -> None:
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('SHOW application_name'); print(c.fetchone()[0])",
        env=manage_env(postgres_url("postgres")),
    )
    assert result.stdout.strip() == "manage2soar:shell", result.stderr


def test_an_optional_secret_whose_file_is_missing_is_unset(tmp_path: Path) -> None:
    # Kubernetes mounts only the keys a Secret has: a missing optional key turns its feature off.
    token = tmp_path / "METRICS_TOKEN"
    env = manage_env(
        f"sqlite:///{tmp_path}/db.sqlite3",
        METRICS_TOKEN_FILE=str(token),
        SLACK_WEBHOOK_URL_FILE=str(tmp_path / "SLACK_WEBHOOK_URL"),
    )
    show = (
        "from django.conf import settings; print(repr((settings.METRICS_TOKEN, settings.SLACK_WEBHOOK_URL)))"
    )
    missing = run_manage("shell", "--no-imports", "-c", show, env=env)
    assert missing.stdout.strip() == "('', '')", missing.stderr
    token.write_text("scrape-me\n")
    present = run_manage("shell", "--no-imports", "-c", show, env=env)
    assert present.stdout.strip() == "('scrape-me', '')", present.stderr


def test_monitoring_settings_are_checked(tmp_path: Path) -> None:
    env = manage_env(f"sqlite:///{tmp_path}/db.sqlite3", CRONJOB_ALERT_AFTER_FAILURES="0")
    result = run_manage("check", env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "❌ configuration error: CRONJOB_ALERT_AFTER_FAILURES=0 must be at least 1"
    ]
