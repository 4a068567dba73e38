"""Log lines: the emoji, the JSON form, and that secrets never reach a log."""

from __future__ import annotations

import io
import json

import pytest

from utils.cronlog import CronLogger, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("smtp://club:hunter2@mail.example.org:587", "smtp://club:***@mail.example.org:587"),
        ("postgres://app:s3cr%40t@db:5432/m2s", "postgres://app:***@db:5432/m2s"),
        ("password=hunter2 and token: abc123", "password=*** and token: ***"),
        ("texted +15405550123 today", "texted +*******0123 today"),
        ("+447700900123", "+********0123"),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("Authorization: Bearer abcdefgh12345678", "Authorization: Bearer ***"),
        ("nothing secret in 2026-11-22 at 08:00", "nothing secret in 2026-11-22 at 08:00"),
        ("SMTP 550 for ann.pilot@example.org: no such user", "SMTP 550 for a***@example.org: no such user"),
        ("to site admin ops@mail.club.example.org.", "to site admin o***@mail.club.example.org."),
        ("<Bob_O'Brien+m2s@example.co.uk>", "<B***@example.co.uk>"),
        ("postgres://app@db.example.org:5432/m2s", "postgres://app@db.example.org:5432/m2s"),
        ("version 1.2@3 or user@localhost", "version 1.2@3 or user@localhost"),
    ],
)
def test_redact_hides_passwords_tokens_phone_numbers_and_email_addresses(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_text_lines_carry_the_emoji_and_job_and_errors_go_to_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    logger = CronLogger("notify_late_sprs", out, err)
    logger.log("sent", "Sent reminder to +15405550123")
    logger.log("failed", "SMTP refused password=x")
    assert out.getvalue() == "📧 [notify_late_sprs] Sent reminder to +*******0123\n"
    assert err.getvalue() == "❌ [notify_late_sprs] SMTP refused password=***\n"


def test_json_lines_are_redacted_including_extra_fields() -> None:
    out = io.StringIO()
    logger = CronLogger("job", out, out, fmt="json")
    logger.context = {"pod": "pod-1"}
    logger.log("sent", "Sent", phone="+15405550123")
    record = json.loads(out.getvalue())
    assert record["phone"] == "+*******0123" and record["pod"] == "pod-1" and record["event"] == "sent"


def test_lines_below_the_verbosity_are_dropped() -> None:
    out = io.StringIO()
    logger = CronLogger("job", out, out, verbosity=1)
    logger.log("info", "detail", min_verbosity=2)
    assert out.getvalue() == ""
