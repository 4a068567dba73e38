"""What operators ask of the run history: per job, the last run, who holds the lock, the
notices the ledger has in doubt, and the job's states (``operations.states``).

``job_statuses()`` answers for every job with a fixed number of queries, whatever the size of
the history: window functions pick each job's latest rows, aggregates the rest. The health
rules applied to these facts are in ``operations.health``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from notifications.models import Delivery
from operations import health
from operations.known_jobs import first_seen
from operations.states import JobState
from utils.cli import format_age
from utils.locking import HeldLock
from utils.models import CronJobLock, CronJobRun
from utils.registry import JobSpec, cron_commands, job_specs

Status = CronJobRun.Status
# A streak is made of these; a success ends it; other statuses neither extend nor end it.
FAILURES = (Status.FAILED, Status.TIMED_OUT)
# Runs that mean "the job ran for its slot": a success, or a skip for a reason of its own
# (already done, a closed day) - not a skip because another pod held the lock.
RAN = Q(status=Status.SUCCEEDED) | (Q(status=Status.SKIPPED) & ~Q(summary__has_key="held_by"))
LOCK_HELD = Q(status=Status.SKIPPED, summary__has_key="held_by")
FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.INTERRUPTED)
# The ledger's job of the alerts sent on a job's behalf (operations.alerts.AlertSender).
ALERTS_OF = "alerts:"


@dataclass(frozen=True)
class Streak:
    failures: int
    first_run_id: int
    first_at: datetime.datetime


@dataclass(frozen=True)
class JobStatus:
    job_name: str
    schedule: str | None
    last_run: CronJobRun | None
    lock: HeldLock | None
    spec: JobSpec | None = None
    now: datetime.datetime | None = None
    last_finished: CronJobRun | None = None  # the latest run that did work (not skipped or running)
    last_success_at: datetime.datetime | None = None  # when the latest success finished
    last_ran_at: datetime.datetime | None = None  # start of the latest run that counts as ran
    streak: Streak | None = None
    next_run: datetime.datetime | None = None
    due_slot: datetime.datetime | None = None
    overdue: health.Overdue | None = None
    in_doubt: int = 0  # its notices (and alerts) in doubt: an operator must check and resolve them
    newest_in_doubt: tuple[int, datetime.datetime] | None = None  # id and time of its own newest one
    first_seen_at: datetime.datetime | None = None  # when this installation first knew the job
    waiting_until: datetime.datetime | None = None  # never ran: when its first slot since then is due

    @property
    def timezone(self) -> str | None:
        return self.spec.timezone if self.spec else None

    @property
    def deadline(self) -> datetime.timedelta | None:
        return self.spec.deadline if self.spec else None

    @property
    def consecutive_failures(self) -> int:
        return self.streak.failures if self.streak else 0

    @property
    def running_for(self) -> datetime.timedelta | None:
        """How long the live lock has been held (None without one)."""
        return self.lock.age if self.lock is not None and not self.lock.expired else None

    @property
    def slow(self) -> bool:
        finished = self.last_finished.duration_seconds if self.last_finished else None
        return health.is_slow(finished, self.deadline) or health.is_slow(self.running_for, self.deadline)

    def slowness(self) -> str:
        """Why the job counts as slow, in a few words."""
        deadline = format_age(self.deadline) if self.deadline else "-"
        if self.running_for is not None and health.is_slow(self.running_for, self.deadline):
            return f"running for {format_age(self.running_for)} of its {deadline} deadline"
        run = self.last_finished
        took = f"{run.duration_seconds:.1f}s" if run and run.duration_seconds is not None else "-"
        return f"its last run took {took} of its {deadline} deadline"

    def failing(self, threshold: int) -> bool:
        return self.consecutive_failures >= threshold

    def states(self, threshold: int) -> list[JobState]:
        """Every state the job is in, the worst first (``[OK]`` when nothing else applies)."""
        found = set()
        if self.failing(threshold):
            found.add(JobState.FAILING)
        elif self.consecutive_failures:
            found.add(JobState.FAILED)
        if self.overdue is not None:
            found.add(JobState.OVERDUE)
        if self.in_doubt:
            found.add(JobState.IN_DOUBT)
        if self.slow:
            found.add(JobState.SLOW)
        if self.running_for is not None:
            found.add(JobState.RUNNING)
        if self.last_run is None and self.overdue is None:
            found.add(JobState.WAITING)
        return JobState.ranked(found)

    def state(self, threshold: int) -> JobState:
        """The state its badge shows: the worst of ``states()``."""
        return self.states(threshold)[0]

    def needs_attention(self, threshold: int) -> bool:
        """Whether ``cron_status --check`` exits 1 for this job."""
        return any(state.needs_attention for state in self.states(threshold))

    def problems(self, threshold: int) -> list[str]:
        """The alerted states: failing, overdue, in_doubt, slow (empty when healthy)."""
        return [state.value for state in self.states(threshold) if state.alerts]


def latest_runs() -> dict[str, CronJobRun]:
    """The latest run of every job that has run (one query, whatever the history's size)."""
    ranked = CronJobRun.objects.annotate(
        rank=Window(RowNumber(), partition_by=[F("job_name")], order_by=F("started_at").desc())
    ).filter(rank=1)
    return {run.job_name: run for run in ranked}


def latest_finished_runs() -> dict[str, CronJobRun]:
    """Each job's latest run that did work: the one whose duration says how long it takes."""
    ranked = (
        CronJobRun.objects.filter(status__in=FINISHED)
        .annotate(rank=Window(RowNumber(), partition_by=[F("job_name")], order_by=F("started_at").desc()))
        .filter(rank=1)
    )
    return {run.job_name: run for run in ranked}


def run_times() -> dict[str, dict[str, datetime.datetime | None]]:
    """Per job: the latest success's end and the latest start of a run that ran (one query)."""
    rows = CronJobRun.objects.values("job_name").annotate(
        last_success_at=Max("finished_at", filter=Q(status=Status.SUCCEEDED)),
        last_ran_at=Max("started_at", filter=RAN),
    )
    return {row.pop("job_name"): row for row in rows}


def failure_streaks(job_name: str | None = None) -> dict[str, Streak]:
    """Per job: the failed and timed-out runs since its last success (one query)."""
    last_success = (
        CronJobRun.objects.filter(job_name=OuterRef("job_name"), status=Status.SUCCEEDED)
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    failures = CronJobRun.objects.filter(status__in=FAILURES)
    if job_name is not None:
        failures = failures.filter(job_name=job_name)
    rows = (
        failures.annotate(last_success=Subquery(last_success))
        .filter(Q(last_success__isnull=True) | Q(started_at__gt=F("last_success")))
        .order_by()
        .values("job_name")
        .annotate(failures=Count("pk"), first_run_id=Min("pk"), first_at=Min("started_at"))
    )
    return {row["job_name"]: Streak(row["failures"], row["first_run_id"], row["first_at"]) for row in rows}


@dataclass(frozen=True)
class Doubts:
    count: int = 0  # the job's ledger rows in doubt, those of its alerts included
    # The newest of its own (not of its alerts, which would alert about themselves): id, time.
    newest: tuple[int, datetime.datetime] | None = None


def notices_in_doubt() -> dict[str, Doubts]:
    """Per job: its ledger rows in doubt (one query)."""
    doubts: dict[str, Doubts] = {}
    rows = (
        Delivery.objects.filter(status=Delivery.Status.IN_DOUBT)
        .values("job_name")
        .annotate(n=Count("pk"), newest=Max("pk"), newest_at=Max("created_at"))
        .order_by()
    )
    for row in rows:
        job = row["job_name"].removeprefix(ALERTS_OF)
        known = doubts.get(job, Doubts())
        own = row["job_name"] == job
        newest = (row["newest"], row["newest_at"]) if own else known.newest
        doubts[job] = Doubts(known.count + row["n"], newest)
    return doubts


def job_statuses(now: datetime.datetime | None = None) -> list[JobStatus]:
    """Registered jobs first (in name order), then any other job seen in the history.

    Seven queries, whatever the size of the history (an eighth the first time a scheduled job
    has no ``KnownJob`` row: it is recorded then).
    """
    now = now or timezone.now()
    commands = cron_commands()
    specs = {spec.command: spec for spec in job_specs()}
    runs = latest_runs()
    finished = latest_finished_runs()
    times = run_times()
    streaks = failure_streaks()
    locks = CronJobLock.objects.held()
    doubts = notices_in_doubt()
    seen = first_seen(list(specs), now)
    names = list(commands) + sorted((set(runs) | set(locks) | set(doubts)) - set(commands))
    statuses = []
    for name in names:
        spec = specs.get(name)
        job_times = times.get(name, {})
        next_run = due_slot = overdue = waiting_until = None
        if spec is not None:
            next_run = health.next_slot(spec, now)
            # A job that never ran is judged only from when this installation first knew it.
            since = seen[name] if name not in runs else None
            due_slot, overdue = health.overdue(spec, job_times.get("last_ran_at"), now, since)
            if since is not None:
                waiting_until = health.first_slot(spec, since) + health.due_after(spec)
        statuses.append(
            JobStatus(
                job_name=name,
                schedule=commands[name].schedule if name in commands else None,
                last_run=runs.get(name),
                lock=locks.get(name),
                spec=spec,
                now=now,
                last_finished=finished.get(name),
                last_success_at=job_times.get("last_success_at"),
                last_ran_at=job_times.get("last_ran_at"),
                streak=streaks.get(name),
                next_run=next_run,
                due_slot=due_slot,
                overdue=overdue,
                in_doubt=doubts.get(name, Doubts()).count,
                newest_in_doubt=doubts.get(name, Doubts()).newest,
                first_seen_at=seen.get(name),
                waiting_until=waiting_until,
            )
        )
    return statuses
