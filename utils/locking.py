"""Leases on ``CronJobLock`` rows: acquire, renew, release.

Acquire is one conditional statement: insert the row, or take over a row whose lease has run
out, in the same statement, so two pods racing can never both win and no pod can take a live
lock. Lease times come from the database's clock, so a pod whose own clock runs ahead cannot
see a live lease as expired. Every acquisition writes a new token; renewal and release match
it, so a run that lost its lease can never extend or delete the next holder's row. A token
taken over from an expired lease starts with ``x`` (never a hex digit), so the acquirer knows,
from the same statement, that it replaced a dead holder's lock.

The clock is read when the row is compared, not when the statement started: a statement that
waited behind another transaction's row lock (up to ``DATABASE_LOCK_TIMEOUT``) must see the
lease as it is at the end of that wait, or a renewal could revive a lease that ran out while it
waited (PostgreSQL's ``CLOCK_TIMESTAMP()``, MySQL's ``SYSDATE(6)``; SQLite takes its database
lock before the statement reads the clock).
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import OperationalError, connections, models, router
from django.db.models.functions import Now

if TYPE_CHECKING:
    from utils.models import CronJobLock

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout


@dataclass(frozen=True)
class Lease:
    """Proof of holding a job's lock: the token written by this acquisition."""

    job_name: str
    holder: str
    token: str
    seconds: float
    replaced: bool = False  # taken over from a holder whose lease had run out


TAKEOVER_MARK = "x"  # first character of a token written by a takeover (tokens are hex)


# The database's clock at the moment it is read, and that clock plus the lease, for each
# backend the settings accept.
_NOW = {
    "postgresql": "CLOCK_TIMESTAMP()",
    "sqlite": "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW')",
    "mysql": "SYSDATE(6)",
}
_NOW_PLUS = {
    "postgresql": "CLOCK_TIMESTAMP() + %s * INTERVAL '1 second'",
    "sqlite": "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW', %s)",
    "mysql": "SYSDATE(6) + INTERVAL %s MICROSECOND",
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
        f"INSERT INTO {table} (job_name, locked_by, token, occurrence, locked_at, expires_at) "
        f"VALUES (%s, %s, %s, %s, {now}, {plus}) "
    )
    if vendor == "mysql":
        # MySQL evaluates the assignments left to right, so expires_at must come last.
        cols = ("locked_by", "token", "occurrence", "locked_at", "expires_at")
        new = {c: f"VALUES({c})" for c in cols} | {
            "token": f"CONCAT('{TAKEOVER_MARK}', SUBSTRING(VALUES(token), 2))"
        }
        sets = ", ".join(f"{c} = IF(expires_at <= {now}, {new[c]}, {c})" for c in cols)
        return insert + f"ON DUPLICATE KEY UPDATE {sets}"
    # The new lease starts when the row is taken (after any wait for its row lock), not when
    # the statement started: the holder gets its whole lease.
    return insert + (
        "ON CONFLICT (job_name) DO UPDATE SET locked_by = excluded.locked_by, "
        f"token = '{TAKEOVER_MARK}' || SUBSTR(excluded.token, 2), occurrence = excluded.occurrence, "
        f"locked_at = {now}, expires_at = {plus} "
        f"WHERE {table}.expires_at <= {now} RETURNING token"
    )


def _renew_sql(vendor: str, table: str) -> str:
    return (
        f"UPDATE {table} SET expires_at = {_NOW_PLUS[vendor]} "
        f"WHERE job_name = %s AND token = %s AND expires_at > {_NOW[vendor]}"
    )


@dataclass(frozen=True)
class HeldLock:
    job_name: str
    holder: str
    token: str  # which acquisition: releasing by token never removes a later holder's lock
    age: datetime.timedelta
    expires_in: datetime.timedelta
    occurrence: str = ""  # the holder's occurrence; "" for a row made by hand

    @property
    def expired(self) -> bool:
        return self.expires_in <= datetime.timedelta(0)


class CronJobLockManager(models.Manager["CronJobLock"]):
    def acquire(self, job_name: str, holder: str, seconds: float, occurrence: str = "") -> Lease | None:
        """Take ``job_name``'s lock for ``seconds``; None when another holder's lease is live."""
        token = secrets.token_hex(16)
        alias = router.db_for_write(self.model)
        connection = connections[alias]
        vendor = connection.vendor
        lease = _lease_param(vendor, seconds)
        params: list[str | int | float] = [job_name, holder, token, occurrence, lease]
        if vendor != "mysql":
            params.append(lease)  # the takeover's own expiry (see _acquire_sql)
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
        taken_over = TAKEOVER_MARK + token[1:]
        if row is None or row[0] not in (token, taken_over):
            return None
        return Lease(
            job_name=job_name, holder=holder, token=row[0], seconds=seconds, replaced=row[0] == taken_over
        )

    def renew(self, lease: Lease) -> bool:
        """Extend a live lease; False when it has run out or another holder has taken it.

        "Live" is judged when the row is reached: a renewal that queued behind another
        transaction's row lock while the lease ran out reports it lost, never revives it.
        """
        connection = connections[router.db_for_write(self.model)]
        sql = _renew_sql(connection.vendor, self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(sql, [_lease_param(connection.vendor, lease.seconds), lease.job_name, lease.token])
            renewed: int = cursor.rowcount
        return renewed == 1

    def fence(self, lease: Lease | None) -> tuple[str, list[str]] | None:
        """A condition that fences one statement by ``lease``, as a unit of work would, and its
        parameters; None on a backend that has none (MySQL: use a unit of work).

        True only while the lease is live ("live" judged when the row is reached, like renew),
        and on PostgreSQL it holds the lock row (FOR SHARE) until the statement commits, so
        nobody can take the lock over, renew or release it half-way; SQLite runs one writing
        statement at a time. ``lease`` None (a run without a lock): no condition ("1 = 1").
        The lease is not renewed: the heartbeat does that.
        """
        vendor = connections[router.db_for_write(self.model)].vendor
        if vendor not in ("postgresql", "sqlite"):
            return None
        if lease is None:
            return "1 = 1", []
        share = " FOR SHARE" if vendor == "postgresql" else ""
        sql = (
            f"EXISTS (SELECT 1 FROM {self.model._meta.db_table} WHERE job_name = %s AND token = %s "
            f"AND expires_at > {_NOW[vendor]}{share})"
        )
        return sql, [lease.job_name, lease.token]

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
        return {lock.job_name: lock for lock in self._held(self.order_by("job_name"))}

    def holder(self, job_name: str) -> HeldLock | None:
        """``job_name``'s lock as it stands now (one query); None when nobody holds it."""
        return next(iter(self._held(self.filter(job_name=job_name))), None)

    @staticmethod
    def _held(rows: models.QuerySet[CronJobLock]) -> list[HeldLock]:
        return [
            HeldLock(
                job_name=row.job_name,
                holder=row.locked_by,
                token=row.token,
                occurrence=row.occurrence,
                age=row.db_now - row.locked_at,
                expires_in=row.expires_at - row.db_now,
            )
            for row in rows.annotate(db_now=Now())
        ]
