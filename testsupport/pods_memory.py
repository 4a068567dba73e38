"""The memory of a pod: all its processes together, sampled from /proc while it runs."""

from __future__ import annotations

import os
import threading
from pathlib import Path


class TreeMemory(threading.Thread):
    """Samples the memory of every process below ``root`` (the sandbox's own process excluded)."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_rss = 0  # the largest sum of the processes' resident sets at one sample
        self.peaks: dict[int, int] = {}  # each process's own peak (VmHWM)
        self._halt = threading.Event()

    @property
    def peak_bound(self) -> int:
        """The sum of each process's peak: at least the pod's real peak."""
        return sum(self.peaks.values())

    def descendants(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    stat = Path(entry.path, "stat").read_text()
                except OSError:
                    continue
                children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
        found, queue = [], list(children.get(self.root, []))
        while queue:
            pid = queue.pop()
            found.append(pid)
            queue.extend(children.get(pid, []))
        return found

    def sample(self) -> None:
        total = 0
        for pid in self.descendants():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            rss = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
            peak = int(fields.get("VmHWM", "0 kB").split()[0]) * 1024
            self.peaks[pid] = max(self.peaks.get(pid, 0), peak)
            total += rss
        self.peak_rss = max(self.peak_rss, total)

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
