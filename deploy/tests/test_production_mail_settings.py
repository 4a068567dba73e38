"""With DEBUG off, a process that sends mail or builds links refuses to start without EMAIL_URL
and SITE_URL (one line, exit 2): otherwise mail would only be printed yet recorded as sent, and
every link would point at localhost. The migration Job and the operator's tools need neither."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport.databases import REPO, manage_env, run_manage
from utils.exitcodes import ExitCode


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = manage_env(f"sqlite:///{tmp_path}/db.sqlite3", DEBUG="0", **extra)
    for name in ("EMAIL_URL", "SITE_URL", "EMAIL_URL_FILE", "SITE_URL_FILE"):
        if name not in extra:
            env.pop(name, None)
    return env


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({}, "EMAIL_URL and SITE_URL are"),
        ({"SITE_URL": "https://club.example.org"}, "EMAIL_URL is"),
        ({"EMAIL_URL": "smtp://127.0.0.1:2525"}, "SITE_URL is"),
    ],
)
def test_a_job_that_sends_refuses_to_start_with_one_line_and_exit_2(
    tmp_path: Path, present: dict[str, str], missing: str
) -> None:
    env = production_env(tmp_path, **present)
    assert run_manage("migrate", "--no-input", "-v0", env=env).returncode == 0
    result = run_manage("notify_aging_logsheets", env=env)
    assert result.returncode == ExitCode.USAGE
    [line] = result.stderr.splitlines()
    assert line.startswith(f"❌ configuration error: {missing} not set"), line
    assert "DEBUG=1" in line
    assert result.stdout == ""  # refused before taking a lock or recording a run
    with sqlite3.connect(tmp_path / "db.sqlite3") as database:
        assert database.execute("SELECT count(*) FROM utils_cronjobrun").fetchone() == (0,)
        assert database.execute("SELECT count(*) FROM utils_cronjoblock").fetchone() == (0,)


def test_the_migration_and_the_operators_tools_need_neither(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    for args in (
        ("migrate", "--no-input", "-v0"),
        ("check", "--deploy", "--fail-level", "ERROR"),
        ("showmigrations", "utils"),
        ("cron_locks",),
        ("help",),
    ):
        result = run_manage(*args, env=env)
        assert result.returncode == 0, (args, result.stderr)


def test_both_may_come_from_files_and_development_needs_neither(tmp_path: Path) -> None:
    (tmp_path / "email_url").write_text("smtp+tls://mailer:pw@smtp.example.org:587\n")
    (tmp_path / "site_url").write_text("https://club.example.org\n")
    env = production_env(
        tmp_path, EMAIL_URL_FILE=str(tmp_path / "email_url"), SITE_URL_FILE=str(tmp_path / "site_url")
    )
    show = (
        "from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND.split('.')[-2], s.EMAIL_HOST, s.SITE_URL)"
    )
    result = run_manage("shell", "--no-imports", "-c", show, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["smtp", "smtp.example.org", "https://club.example.org"]
    development = run_manage(
        "shell", "--no-imports", "-c", show, env={**production_env(tmp_path), "DEBUG": "1"}
    )
    assert development.returncode == 0 and development.stdout.split() == [
        "console",
        "None",
        "http://localhost:8000",
    ]


def test_the_web_app_refuses_to_load_without_them(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import manage2soar.wsgi"],
        env=production_env(tmp_path),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: EMAIL_URL and SITE_URL are not set" in result.stderr


def test_the_web_pods_gunicorn_refuses_to_start_with_one_line_and_exit_2(tmp_path: Path) -> None:
    """The web container's command, as the Deployment gives it: gunicorn reads the settings once
    in its master (deploy/gunicorn.py) before any worker starts."""
    from deploy.workloads import WEB_COMMAND

    gunicorn, *arguments = WEB_COMMAND
    arguments = [a for a in arguments if not a.startswith("--bind")] + ["--bind=127.0.0.1:0"]
    result = subprocess.run(
        [str(Path(sys.executable).parent / gunicorn), *arguments],
        env=production_env(tmp_path),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == ExitCode.USAGE, result.stderr[-2000:]
    assert result.stderr.splitlines() == [
        "❌ configuration error: EMAIL_URL and SITE_URL are not set (production would print mail yet "
        "record it as sent, and link to localhost): set them or their _FILE, or DEBUG=1 for development"
    ]
