"""``--profile``: how long a job's work took, how many queries it made, its peak memory."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connections


@dataclass
class Profile:
    seconds: float = 0.0
    queries: int = 0
    peak_rss_mib: float = 0.0

    def line(self) -> str:
        return (
            f"execute_job took {self.seconds:.3f}s, {self.queries} queries; "
            f"peak memory of the process {self.peak_rss_mib:.1f} MiB"
        )


def peak_rss_mib() -> float:
    """This process's peak resident memory so far.

    On Linux, VmHWM of /proc/self/status: the peak since the process started this program.
    ``ru_maxrss`` survives exec(), so for a process started by a larger parent it reports the
    parent's size; it is used only where /proc is missing (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@contextmanager
def profiled() -> Iterator[Profile]:
    """Count the queries of every connection this thread opens, and time the block."""
    profile = Profile()

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        profile.queries += 1
        return execute(sql, params, many, context)

    wrappers = [connection.execute_wrapper(count) for connection in connections.all()]
    for wrapper in wrappers:
        wrapper.__enter__()
    started = time.perf_counter()
    try:
        yield profile
    finally:
        profile.seconds = time.perf_counter() - started
        for wrapper in reversed(wrappers):
            wrapper.__exit__(None, None, None)
        profile.peak_rss_mib = peak_rss_mib()
