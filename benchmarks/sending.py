"""The cost of each message a sending job sends, against the durable floor, in paired rounds.

A round, for one job on the seeded club: the club's state is put back as seeded (ledger,
in-app notifications, locks, the ad-hoc days a real run expires), then a dry run, then a real
run whose messages the SMTP server keeps, then the durable floor (``benchmarks.floor``) sending
those very messages (same bytes, same recipients) the least durable way. Per message:

- the job: (real run - dry run), wall time of whole processes, ÷ messages the server received
  (one SMTP conversation: a copy list is one message);
- the floor: its own time ÷ the same messages.

The ratio of a round compares the two on the same messages a moment apart; the report gives
the median of the rounds, so one slow moment of the shared machine moves it little.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.measure import Measured, manage, run
from testsupport.databases import ScratchDatabase
from testsupport.smtp import SMTPServer

# What a run may change, kept as seeded and put back before each run.
SNAPSHOT_TABLES = ("notifications_delivery", "notifications_notification", "utils_cronjoblock")
DUTY_TABLE = "duty_roster_dutyassignment"


@dataclass
class Round:
    dry_seconds: float
    real_seconds: float
    messages: int
    floor_seconds: float

    @property
    def job_ms(self) -> float:
        return (self.real_seconds - self.dry_seconds) * 1000 / self.messages

    @property
    def floor_ms(self) -> float:
        return self.floor_seconds * 1000 / self.messages

    @property
    def ratio(self) -> float:
        return self.job_ms / self.floor_ms


@dataclass
class Sending:
    """One job's paired rounds at one scale."""

    job: str
    rounds: list[Round] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return self.rounds[0].messages if self.rounds else 0

    def median(self, what: str) -> float:
        return statistics.median(getattr(r, what) for r in self.rounds)


def snapshot(database: ScratchDatabase) -> None:
    """Keep the seeded state of what the runs change (see ``restore``)."""
    statements = [
        f"DROP TABLE IF EXISTS bench_snap_{t}; CREATE TABLE bench_snap_{t} AS TABLE {t}"
        for t in SNAPSHOT_TABLES
    ]
    statements.append(
        "DROP TABLE IF EXISTS bench_snap_duty; "
        f"CREATE TABLE bench_snap_duty AS SELECT id, status, expired_at FROM {DUTY_TABLE}"
    )
    database.query("; ".join(statements))


def restore(database: ScratchDatabase) -> None:
    statements = [f"DELETE FROM {t}; INSERT INTO {t} SELECT * FROM bench_snap_{t}" for t in SNAPSHOT_TABLES]
    statements.append(
        f"UPDATE {DUTY_TABLE} d SET status = s.status, expired_at = s.expired_at FROM bench_snap_duty s "
        "WHERE d.id = s.id AND (d.status, d.expired_at) IS DISTINCT FROM (s.status, s.expired_at)"
    )
    database.query("; ".join(statements))


def checked(measured: Measured, what: str) -> Measured:
    if measured.returncode != 0:
        raise RuntimeError(f"{what} exited {measured.returncode}: {measured.stderr[-800:]}")
    return measured


def floor(
    database: ScratchDatabase, smtp: SMTPServer, messages: list[tuple[str, list[str], bytes]], work: Path
) -> float:
    """The floor's seconds for sending ``messages`` (a process of its own)."""
    path = work / "floor-messages.jsonl"
    path.write_text(
        "".join(
            json.dumps({"from": sender, "to": to, "data": base64.b64encode(data).decode()}) + "\n"
            for sender, to, data in messages
        )
    )
    measured = checked(
        run([sys.executable, "-m", "benchmarks.floor", database.url, smtp.url, str(path)], dict(os.environ)),
        "the floor",
    )
    smtp.take()  # the floor's copies
    return float(json.loads(measured.stdout.strip().splitlines()[-1])["seconds"])


def measure_sending(
    database: ScratchDatabase,
    env: dict[str, str],
    smtp: SMTPServer,
    job: str,
    rounds: int,
    work: Path,
    figures: dict[str, list[tuple[Measured, Measured]]],
) -> Sending:
    """``rounds`` paired rounds of ``job``; each round's (dry, real) runs go to ``figures``."""
    result = Sending(job)
    for _ in range(rounds):
        restore(database)
        smtp.take()
        dry = checked(run(manage(job, "--dry-run", "--profile"), env), f"{job} --dry-run")
        real = checked(run(manage(job, "--profile"), env), job)
        messages = smtp.take()
        figures.setdefault(job, []).append((dry, real))
        if not messages:
            continue
        floor_seconds = floor(database, smtp, messages, work)
        result.rounds.append(Round(dry.wall_seconds, real.wall_seconds, len(messages), floor_seconds))
    return result


def median_run(pairs: list[tuple[Measured, Measured]]) -> tuple[Measured, Measured]:
    """The round whose real run took the median time (its dry run with it)."""
    ordered = sorted(pairs, key=lambda pair: pair[1].wall_seconds)
    return ordered[len(ordered) // 2]
