"""Jobs as child processes: ``manage.py <job>``, the same code path as a Kubernetes pod's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from django.conf import settings

# Variables a child must not inherit from the scheduler's own environment: they would make it
# believe it is a Kubernetes Job, or another slot.
CHILD_ONLY = ("JOB_NAME", "POD_NAME", "CRONJOB_OCCURRENCE", "CRONJOB_SCHEDULED_FOR")


class Child(Protocol):
    pid: int

    def poll(self) -> int | None:
        """The exit code once it has ended (negative: killed by that signal), else None."""

    def send_signal(self, signum: int) -> None: ...

    def kill(self) -> None:
        """SIGKILL."""


class Launcher(Protocol):
    def start(self, command: str, args: Sequence[str], env: Mapping[str, str]) -> Child:
        """Start ``manage.py command *args`` with ``env`` added to the inherited environment."""


class ProcessLauncher:
    """Real processes. Each child gets its own process group, so a Ctrl-C in the terminal (or
    systemd's stop) reaches only the scheduler, which forwards it once."""

    def __init__(self, base_env: Mapping[str, str] | None = None, manage_py: Path | None = None) -> None:
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.manage_py = manage_py or Path(settings.BASE_DIR) / "manage.py"

    def start(self, command: str, args: Sequence[str], env: Mapping[str, str]) -> Child:
        child_env = {k: v for k, v in self.base_env.items() if k not in CHILD_ONLY}
        child_env.update(env)
        return _Process(
            subprocess.Popen(
                [sys.executable, str(self.manage_py), command, *args],
                env=child_env,
                cwd=self.manage_py.parent,
                process_group=0,
            )
        )


class _Process:
    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def send_signal(self, signum: int) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)
