"""Operator command: list, release or clean up the scheduled jobs' locks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from utils.cli import OneLineErrorsCommand, format_age
from utils.exitcodes import ExitCode
from utils.locking import HeldLock
from utils.models import CronJobLock


class Command(OneLineErrorsCommand):
    help = (
        "List the scheduled jobs' locks with holder and age; --release JOB --yes removes one "
        "(only when its holder is known to be dead); --cleanup removes expired ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--release", metavar="JOB", help="Remove JOB's lock (needs --yes).")
        group.add_argument("--cleanup", action="store_true", help="Remove expired locks.")
        parser.add_argument("--yes", action="store_true", help="Confirm --release.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["release"]:
            self.release(options["release"], confirmed=options["yes"])
        elif options["cleanup"]:
            removed = CronJobLock.cleanup_expired_locks()
            self.stdout.write(f"🧹 Cleaned up {removed} expired locks")
        else:
            self.list_locks()

    def list_locks(self) -> None:
        locks = CronJobLock.objects.held()
        if not locks:
            self.stdout.write("No locks held.")
            return
        self.stdout.write(f"{'JOB':<28} {'HOLDER':<40} {'AGE':>7} {'LEASE':>9}")
        for lock in locks.values():
            lease = "expired" if lock.expired else f"{format_age(lock.expires_in)} left"  # fits the column
            self.stdout.write(f"{lock.job_name:<28} {lock.holder:<40} {format_age(lock.age):>7} {lease:>9}")

    def release(self, job_name: str, confirmed: bool) -> None:
        lock = CronJobLock.objects.held().get(job_name)
        if lock is None:
            raise CommandError(f"no lock is held for {job_name!r}", returncode=ExitCode.USAGE)
        held = f"held by {lock.holder} for {format_age(lock.age)}, {lease_text(lock)}"
        if not confirmed:
            caution = (
                "its holder may still be running: release it only if you know it is dead"
                if not lock.expired
                else "the next run takes an expired lease over anyway"
            )
            raise CommandError(
                f"refusing to release {job_name}'s lock ({held}) without --yes: {caution}",
                returncode=ExitCode.USAGE,
            )
        # By token: if the lease ran out meanwhile and another pod took the lock, its lock stays.
        deleted, _ = CronJobLock.objects.filter(job_name=job_name, token=lock.token).delete()
        if not deleted:
            raise CommandError(
                f"{job_name}'s lock changed hands meanwhile; nothing released (run cron_locks again)",
                returncode=ExitCode.FAILED,
            )
        self.stdout.write(f"🔓 Released {job_name}'s lock (was {held})")


def lease_text(lock: HeldLock) -> str:
    if lock.expired:
        return f"lease expired {format_age(-lock.expires_in)} ago"
    return f"lease {format_age(lock.expires_in)} left"
