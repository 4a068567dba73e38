"""Back-off between attempts at a notice: exponential, with jitter, within the job's deadline."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.conf import settings

# Time a job keeps for itself after its last back-off: the rest of the notices and the run's
# bookkeeping. A quarter of the deadline, at most a minute.
RESERVE_SHARE = 0.25
RESERVE_MAX = datetime.timedelta(minutes=1)
# Without a deadline, one notice's back-offs add up to at most this.
NO_DEADLINE_BUDGET = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int  # attempts in all, the first included
    base: float  # seconds before the second attempt (before jitter)
    cap: float  # the longest single back-off

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        return cls(
            attempts=settings.NOTIFY_RETRY_ATTEMPTS,
            base=settings.NOTIFY_RETRY_BASE_SECONDS,
            cap=settings.NOTIFY_RETRY_MAX_SECONDS,
        )

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 = the first).

        "Equal jitter": half the exponential step for sure, the other half at random, so pods
        that failed together don't come back together; a server's Retry-After is a floor.
        """
        step = min(self.cap, self.base * 2.0 ** (attempt - 1))
        uniform = rng.uniform if rng is not None else random.uniform
        wait = step / 2 + uniform(0, step / 2)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap))
        return wait


def retry_budget(
    remaining: datetime.timedelta | None, deadline: datetime.timedelta | None
) -> datetime.timedelta:
    """How long the job may still spend waiting to retry, keeping its reserve for the rest."""
    if remaining is None or deadline is None:
        return NO_DEADLINE_BUDGET
    reserve = min(RESERVE_MAX, deadline * RESERVE_SHARE)
    return max(remaining - reserve, datetime.timedelta(0))
