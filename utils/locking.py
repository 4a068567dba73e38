"""Leases on ``CronJobLock`` rows: acquire, renew, release.

Acquire is one conditional statement: insert the row, or take over a row whose lease has run
out, in the same statement, so two pods racing can never both win and no pod can take a live
lock. Lease times come from the database's clock, so a pod whose own clock runs ahead cannot
see a live lease as expired. Every acquisition writes a new token; renewal and release match
it, so a run that lost its lease can never extend or delete the next holder's row.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import OperationalError, connections, models, router
from django.db.models.functions import Now

if TYPE_CHECKING:
    from utils.models import CronJobLock  # noqa: F401 - named in the manager's base class

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout


@dataclass(frozen=True)
class Lease:
    """Proof of holding a job's lock: the token written by this acquisition."""

    job_name: str
    holder: str
    token: str
    seconds: float


# The database's clock, and that clock plus the lease, for each backend the settings accept.
_NOW = {
    "postgresql": "STATEMENT_TIMESTAMP()",
    "sqlite": "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW')",
    "mysql": "CURRENT_TIMESTAMP(6)",
}
_NOW_PLUS = {
    "postgresql": "STATEMENT_TIMESTAMP() + %s * INTERVAL '1 second'",
    "sqlite": "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW', %s)",
    "mysql": "CURRENT_TIMESTAMP(6) + INTERVAL %s MICROSECOND",
}


def _lease_param(vendor: str, seconds: float) -> str | int | float:
    if vendor == "sqlite":
        return f"+{seconds:.3f} seconds"
    if vendor == "mysql":
        return int(seconds * 1_000_000)
    return seconds


def _acquire_sql(vendor: str, table: str) -> str:
    now, plus = _NOW[vendor], _NOW_PLUS[vendor]
    insert = (
        f"INSERT INTO {table} (job_name, locked_by, token, locked_at, expires_at) "
        f"VALUES (%s, %s, %s, {now}, {plus}) "
    )
    if vendor == "mysql":
        # MySQL evaluates the assignments left to right, so expires_at must come last.
        cols = ("locked_by", "token", "locked_at", "expires_at")
        sets = ", ".join(f"{c} = IF(expires_at <= {now}, VALUES({c}), {c})" for c in cols)
        return insert + f"ON DUPLICATE KEY UPDATE {sets}"
    return insert + (
        "ON CONFLICT (job_name) DO UPDATE SET locked_by = excluded.locked_by, "
        "token = excluded.token, locked_at = excluded.locked_at, "
        f"expires_at = excluded.expires_at WHERE {table}.expires_at <= {now} RETURNING token"
    )


@dataclass(frozen=True)
class HeldLock:
    job_name: str
    holder: str
    token: str  # which acquisition: releasing by token never removes a later holder's lock
    age: datetime.timedelta
    expires_in: datetime.timedelta

    @property
    def expired(self) -> bool:
        return self.expires_in <= datetime.timedelta(0)


class CronJobLockManager(models.Manager["CronJobLock"]):
    def acquire(self, job_name: str, holder: str, seconds: float) -> Lease | None:
        """Take ``job_name``'s lock for ``seconds``; None when another holder's lease is live."""
        token = secrets.token_hex(16)
        alias = router.db_for_write(self.model)
        connection = connections[alias]
        vendor = connection.vendor
        params: list[str | int | float] = [job_name, holder, token, _lease_param(vendor, seconds)]
        try:
            with connection.cursor() as cursor:
                cursor.execute(_acquire_sql(vendor, self.model._meta.db_table), params)
                if vendor == "mysql":
                    # No RETURNING for an upsert: the row carries our token only if we won.
                    cursor.execute(
                        f"SELECT token FROM {self.model._meta.db_table} WHERE job_name = %s", [job_name]
                    )
                row = cursor.fetchone()
        except OperationalError as exc:
            # A holder in the middle of a unit of work keeps its row locked until it commits;
            # if its node died, PostgreSQL keeps that transaction until keepalives notice. The
            # connection's lock_timeout (DATABASE_LOCK_TIMEOUT) bounds the wait: then it's "held".
            if getattr(exc.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE:
                return None
            raise
        if row is None or row[0] != token:
            return None
        return Lease(job_name=job_name, holder=holder, token=token, seconds=seconds)

    def renew(self, lease: Lease) -> bool:
        """Extend a live lease; False when it has run out or another holder has taken it."""
        extended = Now() + datetime.timedelta(seconds=lease.seconds)
        return bool(
            self.filter(job_name=lease.job_name, token=lease.token, expires_at__gt=Now()).update(
                expires_at=extended
            )
        )

    def release(self, lease: Lease) -> bool:
        """Delete the lock if this lease still owns it; never touches another holder's row."""
        # One plain statement: the ORM's delete() would build a collector for nothing here.
        with connections[router.db_for_write(self.model)].cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {self.model._meta.db_table} WHERE job_name = %s AND token = %s",
                [lease.job_name, lease.token],
            )
            deleted: int = cursor.rowcount
        return deleted == 1

    def held(self) -> dict[str, HeldLock]:
        """Every lock row, with age and time left measured on the database's clock (one query)."""
        rows = self.annotate(db_now=Now()).order_by("job_name")
        return {
            row.job_name: HeldLock(
                job_name=row.job_name,
                holder=row.locked_by,
                token=row.token,
                age=row.db_now - row.locked_at,
                expires_in=row.expires_at - row.db_now,
            )
            for row in rows
        }
