"""Log lines of the scheduled jobs: human lines with emoji, or one JSON object per line.

Every line passes through ``redact()``: no password, token, full phone number or full email
address reaches a log.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any, Protocol

EMOJI = {
    "lock_acquired": "🔒",
    "findings": "📊",
    "sent": "📧",
    "completed": "✅",
    "released": "🔓",
    "failed": "❌",
    "skipped": "⏸️",
    "dry_run": "🔍",
    "warning": "⚠️",
    "info": "ℹ️",
    "stopping": "🛑",
    "profile": "⏱️",
    "waiting": "⏳",
    "starting": "🚀",
    "replaced": "🔄",
    "dry_run_lock": "📝",
}
LEVEL = {"failed": "error", "warning": "warning", "stopping": "warning"}
# text: "<emoji> [<job>] <message>"; plain: "<emoji> <message>", the original system's lines;
# json: one object per line.
LOG_FORMATS = ("text", "plain", "json")

_REDACTIONS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # scheme://user:password@host -> scheme://user:***@host (the user may be empty)
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s]+@", re.I), r"\1***@"),
    # Authorization: Bearer xyz / Basic xyz
    (re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.I), r"\1 ***"),
    # password=..., token: ..., api_key=...
    (
        re.compile(r"\b(password|passwd|secret|token|api[_-]?key|auth[_-]?token)(\s*[=:]\s*)\S+", re.I),
        r"\1\2***",
    ),
    # +15405550123 -> +*******0123 (a phone number keeps only its last four digits)
    (re.compile(r"\+\d{4,11}(\d{4})\b"), lambda m: "+" + "*" * (len(m.group(0)) - 5) + m.group(1)),
    # ann.pilot@example.org -> a***@example.org (an address keeps its first letter and its
    # domain); not the user of a URL (scheme://user@host), which the rule above already handled
    (re.compile(r"(?<![\w.%+'/-])([\w%+'-])[\w.%+'-]*@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})\b"), r"\1***@\2"),
]


def first_line(exc: BaseException, fallback: str | None = None) -> str:
    """An error in one line: the first line of its text (else ``fallback``, else its type)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__ if fallback is None else fallback])[0]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class LogStream(Protocol):
    """Where log lines go: a text file, or a command's ``OutputWrapper``."""

    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


class CronLogger:
    """Writes a job's log lines to ``out`` (errors to ``err``), flushed at once. A subclass may
    add events with ``emoji`` and ``levels`` of its own."""

    emoji = EMOJI
    levels = LEVEL

    def __init__(
        self, job_name: str, out: LogStream, err: LogStream, fmt: str = "text", verbosity: int = 1
    ) -> None:
        self.job_name = job_name
        self.out = out
        self.err = err
        self.fmt = fmt
        self.verbosity = verbosity
        self.context: dict[str, Any] = {}

    def log(self, event: str, message: str, *, min_verbosity: int = 1, **fields: Any) -> None:
        """One line of ``event``, shown from ``min_verbosity`` on; an error at every verbosity."""
        level = self.levels.get(event, "info")
        if self.verbosity < min_verbosity and level != "error":
            return
        message = redact(message)
        if self.fmt == "json":
            record: dict[str, Any] = {
                "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
                "level": level,
                "job": self.job_name,
                "event": event,
                "message": message,
                **self.context,
                **fields,
            }
            line = redact(json.dumps(record, default=str, ensure_ascii=False))
        elif self.fmt == "plain":
            line = f"{self.emoji.get(event, EMOJI['info'])} {message}"
        else:
            line = f"{self.emoji.get(event, EMOJI['info'])} [{self.job_name}] {message}"
        stream = self.err if level == "error" else self.out
        stream.write(line + "\n")
        stream.flush()
