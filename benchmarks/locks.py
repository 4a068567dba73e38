"""Lock cost: our acquire + release against the durable floor and an advisory lock.

All three run side by side on the same connection, in interleaved blocks, so that the
machine's load affects them alike:
- ours: ``CronJobLock.objects.acquire()`` + ``release()`` (what every job does);
- the durable floor: one raw conditional upsert + one delete, each its own commit — the least
  a lock that survives a crash of its holder's connection can cost;
- ``pg_try_advisory_lock`` + ``pg_advisory_unlock``: writes nothing (and dies with the session).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

FLOOR_TABLE = "bench_lock_floor"


@dataclass(frozen=True)
class LockCost:
    ours_us: float
    floor_us: float
    advisory_us: float

    @property
    def ours_over_floor(self) -> float:
        return self.ours_us / self.floor_us

    @property
    def ours_over_advisory(self) -> float:
        return self.ours_us / self.advisory_us


def measure_lock_cost(iterations: int = 2000, blocks: int = 10) -> LockCost:
    """Median microseconds per acquire+release pair (Django must be set up on PostgreSQL)."""
    from django.db import connection

    from utils.models import CronJobLock

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (job_name varchar(100) PRIMARY KEY, "
            "locked_by varchar(255), token varchar(32), expires_at timestamptz)"
        )

    def ours() -> None:
        lease = CronJobLock.objects.acquire("bench-lock", "bench", 60)
        assert lease is not None
        CronJobLock.objects.release(lease)

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {FLOOR_TABLE} (job_name, locked_by, token, expires_at) "
                "VALUES (%s, %s, %s, statement_timestamp() + interval '60 seconds') "
                "ON CONFLICT (job_name) DO UPDATE SET locked_by = excluded.locked_by, "
                "token = excluded.token, expires_at = excluded.expires_at "
                f"WHERE {FLOOR_TABLE}.expires_at <= statement_timestamp() RETURNING token",
                ["bench-lock", "bench", "t" * 32],
            )
            cursor.fetchone()
            cursor.execute(
                f"DELETE FROM {FLOOR_TABLE} WHERE job_name = %s AND token = %s", ["bench-lock", "t" * 32]
            )

    def advisory() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", ["bench-lock"])
            cursor.fetchone()
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", ["bench-lock"])
            cursor.fetchone()

    samples: dict[str, list[float]] = {"ours": [], "floor": [], "advisory": []}
    candidates: dict[str, Callable[[], None]] = {"ours": ours, "floor": floor, "advisory": advisory}
    per_block = max(1, iterations // blocks)
    for func in candidates.values():  # warm up
        for _ in range(50):
            func()
    for _ in range(blocks):
        for name, func in candidates.items():
            started = time.perf_counter()
            for _ in range(per_block):
                func()
            samples[name].append((time.perf_counter() - started) / per_block * 1e6)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {FLOOR_TABLE}")
    return LockCost(
        ours_us=statistics.median(samples["ours"]),
        floor_us=statistics.median(samples["floor"]),
        advisory_us=statistics.median(samples["advisory"]),
    )
