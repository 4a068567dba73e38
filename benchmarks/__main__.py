"""``python -m benchmarks``: measure, then write docs/benchmarks.md (``make bench``)."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.locks import LockCost, measure_lock_cost
from benchmarks.measure import Measured, manage, median, run
from benchmarks.report import (
    MAX_LOCK_RATIO,
    MAX_PEAK_MIB,
    MAX_SECONDS_AT_100,
    MAX_SEND_RATIO,
    MAX_STARTUP_RATIO,
    JobFigures,
    ScaleFigures,
    ok,
    svg_chart,
)
from benchmarks.sending import measure_sending, median_run, snapshot
from testsupport.databases import REPO, ScratchDatabase, manage_env, postgres_problem
from testsupport.smtp import SMTPServer

JOBS = (
    "notify_aging_logsheets",
    "send_duty_preop_emails",
    "expire_ad_hoc_days",
    "notify_late_sprs",
    "send_maintenance_digest",
    "report_duty_delinquents",
    "notify_pilot_currency",
)
# Paired rounds per sending job and scale (benchmarks.sending), and start-up runs per process.
SEND_ROUNDS = 5
STARTUP_RUNS = 7
# The packages whose bytecode the image compiles (Dockerfile: compileall), compiled the same way
# before start-up is measured: a checkout run with PYTHONDONTWRITEBYTECODE would otherwise
# compile every module of the project from source in every process.
PACKAGES = (
    "manage.py", "manage2soar", "utils", "members", "notifications", "logsheet", "instructors",
    "duty_roster", "maintenance", "operations", "scheduler", "deploy", "demo", "benchmarks",
)  # fmt: skip


def job_figures(measured: Measured, job: str) -> JobFigures:
    if measured.returncode != 0:
        raise RuntimeError(f"{job} exited {measured.returncode}: {measured.stderr[-800:]}")
    profile = measured.record("profile")
    summary = measured.record("findings")["message"]
    sent = re.search(r"📧 (?:sent|would send) (\d+)", summary)
    return JobFigures(
        seconds=profile["seconds"],
        queries=profile["queries"],
        peak_mib=profile["peak_rss_mib"],
        sent=int(sent.group(1)) if sent else 0,
    )


def seeded_count(what: str, output: str) -> int:
    """How many ``what`` seed_demo says it made ("7,500 members")."""
    found = re.search(rf"([\d,]+) {what}", output)
    if found is None:
        raise RuntimeError(f"seed_demo did not say how many {what}: {output[-800:]}")
    return int(found.group(1).replace(",", ""))


LATE_SPRS_OUTLIER = (
    "**The late-SPR outlier.** `notify_late_sprs` used to cost ten times the floor per message",
    "(194 ms at scale 100) because the demo club multiplied its board with its sections: a",
    "FINAL-level reminder copied every chief instructor, director and member manager of every",
    "section, some 800 people at scale 100, and each copy is one SMTP `RCPT TO` round trip and one",
    "address parsed by Django. The club now has one board at every scale (docs/demo-club.md), so a",
    "reminder copies under ten people. The floor resends the very messages with the same",
    "recipients, so whatever a copy list costs, both sides of the ratio pay it.",
)
STARTUP_NOTES = (
    "Beyond the floor, a scheduled command loads its settings (django-environ), the admin package",
    "(installed for the web; `SimpleAdminConfig` keeps every app's `admin.py` out of commands),",
    "sessions, messages and static files, the PostgreSQL driver, the project's apps and models,",
    "the framework and the job's own modules. It no longer loads `django_stubs_ext`'s runtime",
    "patch at start-up (it imported the admin's options, forms, feeds, sitemaps and sessions",
    "into every process: `urls.py` applies it now, with the admin), nor the late-SPR notices and",
    "the whole Outbox through a signal, nor `smtplib` for a dry run.",
)


def measure_scale(
    database: ScratchDatabase, scale: int, smtp: SMTPServer, media: Path, rounds: int
) -> ScaleFigures:
    env = manage_env(database.url, EMAIL_URL=smtp.url, MEDIA_ROOT=str(media), CRONJOB_LOG_FORMAT="json")
    seeded = run(manage("seed_demo", "--reset", "--confirm-reset", "--scale", str(scale)), env)
    if seeded.returncode != 0:
        raise RuntimeError(f"seed_demo failed: {seeded.stderr[-800:]}")
    members, flights = seeded_count("members", seeded.stdout), seeded_count("flights", seeded.stdout)
    database.query("VACUUM ANALYZE")
    snapshot(database)
    figures = ScaleFigures(scale, seeded.wall_seconds, members, flights)
    pairs: dict[str, list[tuple[Measured, Measured]]] = {}
    for job in JOBS:
        figures.sending[job] = measure_sending(database, env, smtp, job, rounds, media, pairs)
        dry, real = median_run(pairs[job])
        figures.dry[job], figures.real[job] = job_figures(dry, job), job_figures(real, job)
    return figures


@dataclass
class Startup:
    floor: float  # median CPU seconds of the minimal Django process
    jobs: dict[str, float]  # median CPU seconds of each dry run
    ratios: dict[str, float]  # median of the paired ratios (job over the floor run beside it)


def compile_bytecode() -> None:
    """As the image does (Dockerfile): the project's modules load from bytecode."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=REPO, check=True, stdout=subprocess.DEVNULL
    )


def measure_startup(database: ScratchDatabase, work: Path, repeat: int = STARTUP_RUNS) -> Startup:
    """Each job's dry run on an empty migrated database, paired run by run with the floor: a
    minimal Django process (benchmarks.minimal_django) on an SQLite file."""
    compile_bytecode()
    env = manage_env(database.url)
    sqlite = work / "minimal.sqlite3"
    sqlite.unlink(missing_ok=True)
    minimal = [sys.executable, "-m", "benchmarks.minimal_django", str(sqlite)]
    if run([*minimal, "--migrate"], env).returncode:
        raise RuntimeError("the minimal Django process could not migrate its database")
    floors: list[float] = []
    jobs: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    for _ in range(repeat):
        for job in JOBS:
            floor = run(minimal, env)
            measured = run(manage(job, "--dry-run"), env)
            if floor.returncode or measured.returncode:
                raise RuntimeError(f"{job} --dry-run failed on an empty database: {measured.stderr[-500:]}")
            floors.append(floor.cpu_seconds)
            jobs.setdefault(job, []).append(measured.cpu_seconds)
            ratios.setdefault(job, []).append(measured.cpu_seconds / floor.cpu_seconds)
    return Startup(
        floor=median(floors),
        jobs={job: median(cpu) for job, cpu in jobs.items()},
        ratios={job: median(r) for job, r in ratios.items()},
    )


def measure_contention(database: ScratchDatabase, processes: int, rounds: int) -> tuple[Counter[int], float]:
    from testsupport.race import race

    database.empty()
    started = time.perf_counter()
    attempts = race(database.url, processes=processes, rounds=rounds)
    elapsed = time.perf_counter() - started
    runs_per_round = Counter(a.round for a in attempts if not a.skipped)
    distribution = Counter(runs_per_round.get(r, 0) for r in range(rounds))
    return distribution, rounds / elapsed


def environment() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return [
        f"- measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({cpu})",
        f"- Python {platform.python_version()}, {pg or 'PostgreSQL'} on 127.0.0.1:5432",
    ]


def write_report(
    output: Path,
    charts: tuple[Path, Path],
    scales: list[ScaleFigures],
    startup: Startup,
    locks: LockCost,
    contention: tuple[Counter[int], float],
    processes: int,
    rounds: int,
) -> None:
    largest = max(scales, key=lambda s: s.scale)
    smallest = min(scales, key=lambda s: s.scale)
    flat = {job: len({s.dry[job].queries for s in scales}) == 1 for job in JOBS}
    send_rounds = min(
        (len(s.sending[job].rounds) for s in scales for job in JOBS if s.sending[job].rounds), default=0
    )
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`.venv/bin/python -m benchmarks`); every figure below comes from",
        "that one run and can be reproduced with the command shown beside it. PostgreSQL is a",
        "scratch database created for the run; the demo club is `seed_demo --scale N` (75 members,",
        "a year of flying and the findings of the original system per section, N sections: see",
        "docs/demo-club.md). The machine is shared, so absolute times move between runs; the",
        "ratios against a floor are measured side by side, a moment apart, and move much less.",
        "",
        *environment(),
        "",
        "## Goals",
        "",
        "| goal | figure | met |",
        "| --- | --- | --- |",
    ]
    for job in JOBS:
        queries = sorted({s.dry[job].queries for s in scales})
        lines.append(
            f"| `{job}`: selection queries flat across scales (dry run) | {' / '.join(map(str, queries))} "
            f"| {ok(flat[job])} |"
        )
    for job in JOBS:
        fig = largest.dry[job]
        lines.append(
            f"| `{job}` at scale {largest.scale}, dry run: under {MAX_SECONDS_AT_100:g} s and "
            f"{MAX_PEAK_MIB:g} MiB | {fig.seconds:.3f} s, {fig.peak_mib:.1f} MiB "
            f"| {ok(fig.seconds < MAX_SECONDS_AT_100 and fig.peak_mib < MAX_PEAK_MIB)} |"
        )
    for s in scales:
        if s.scale == smallest.scale and len(scales) > 2:
            continue  # the goal is stated at scale 10 and 100; scale 1 sends too few to say
        for job in JOBS:
            sending = s.sending[job]
            if not sending.rounds:
                continue
            ratio = sending.median("ratio")
            lines.append(
                f"| `{job}` at scale {s.scale}: cost per message sent within {MAX_SEND_RATIO:g}× the "
                f"durable floor | {ratio:.2f}× | {ok(ratio <= MAX_SEND_RATIO)} |"
            )
    for job in JOBS:
        ratio = startup.ratios[job]
        lines.append(
            f"| `manage.py {job} --dry-run`: start-up CPU within {MAX_STARTUP_RATIO:g}× a minimal Django "
            f"process | {ratio:.2f}× | {ok(ratio <= MAX_STARTUP_RATIO)} |"
        )
    lines += [
        f"| lock acquire + release within {MAX_LOCK_RATIO}× the durable floor | "
        f"{locks.ours_over_floor:.2f}× | {ok(locks.ours_over_floor <= MAX_LOCK_RATIO)} |",
        f"| {processes} processes × {rounds} rounds: exactly one run per round | "
        f"{dict(sorted(contention[0].items()))} | {ok(set(contention[0]) == {1})} |",
        "",
        "## Cost per message sent",
        "",
        "What a real run adds over a dry run, per message sent, against the durable floor: a claim",
        "`INSERT` and its commit, one `smtplib` send over a reused connection, an `UPDATE` and its",
        "commit (`benchmarks/floor.py`: psycopg2 and smtplib, no Django). Each round puts the club",
        "back as seeded, runs the job dry, then for real against the SMTP server on loopback, then the",
        "floor resending the very messages the server received (same bytes, same recipients), so",
        "both pay the same SMTP conversations. Job: (real − dry, whole processes, wall time) ÷",
        "messages received (a copy list is one message); floor: its own time ÷ the same messages.",
        f"Median of {send_rounds} paired rounds (`benchmarks/sending.py`).",
        "",
        "Reproduce one job: `make bench`, or by hand on a seeded database: `time manage.py JOB "
        "--dry-run`, `time manage.py JOB`, and `python -m benchmarks.floor DATABASE_URL SMTP_URL "
        "MESSAGES.jsonl` on the messages the server received.",
        "",
        "| scale | job | messages | dry run | real run | ms per message | floor, ms per message "
        f"| ratio | within {MAX_SEND_RATIO:g}× |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in scales:
        for job in JOBS:
            sending = s.sending[job]
            if not sending.rounds:
                lines.append(f"| {s.scale} | `{job}` | 0 | - | - | - | - | - | - |")
                continue
            ratio = sending.median("ratio")
            lines.append(
                f"| {s.scale} | `{job}` | {sending.messages:,} | {sending.median('dry_seconds'):.3f} s | "
                f"{sending.median('real_seconds'):.3f} s | {sending.median('job_ms'):.2f} | "
                f"{sending.median('floor_ms'):.2f} | {ratio:.2f}× | {ok(ratio <= MAX_SEND_RATIO)} |"
            )
    lines += [
        "",
        f"![cost per message against messages sent]({charts[1].relative_to(output.parent)})",
        "",
        "Per message, a real run writes three statements, each its own commit: the claim (one",
        "`INSERT … SELECT … WHERE` the lease is live `… ON CONFLICT DO NOTHING`: the fence and the",
        "claim in one statement), the hand-over as the message goes out (one fenced `UPDATE`: a",
        "message whose sender died after it may have been delivered, so it is never sent again by",
        "itself) and the `sent` mark right after the server accepts it. The floor has two; the",
        "hand-over is the price of never sending twice. In-app notifications are written in a few",
        "statements per run, however many members, and the heartbeat alone renews the lease.",
        "",
        *LATE_SPRS_OUTLIER,
        "",
        "## The seven commands at each scale",
        "",
        "`execute_job` time, query count and peak memory come from the command's own `--profile`",
        "line (of the round whose real run took the median time); the memory is the whole",
        "`manage.py` process's peak resident set up to the end of its work (VmHWM: since the process",
        "started, imports and Django included). Dry runs select and render everything but write",
        "and send nothing; real runs send every notice to an SMTP server on loopback through the",
        "delivery ledger.",
        "",
        "Reproduce one row: `DATABASE_URL=postgres://… .venv/bin/python manage.py seed_demo --reset "
        "--confirm-reset --scale N` then `.venv/bin/python manage.py JOB [--dry-run] --profile`.",
        "",
        "| scale | members | flights | seed | job | dry run | queries | peak "
        "| real run | queries | sent | peak |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in scales:
        for job in JOBS:
            dry, real = s.dry[job], s.real[job]
            lines.append(
                f"| {s.scale} | {s.members:,} | {s.flights:,} | {s.seed_seconds:.1f} s | `{job}` | "
                f"{dry.seconds:.3f} s | {dry.queries} | {dry.peak_mib:.1f} MiB | {real.seconds:.3f} s | "
                f"{real.queries} | {real.sent} | {real.peak_mib:.1f} MiB |"
            )
    lines += [
        "",
        f"![execute_job time against scale]({charts[0].relative_to(output.parent)})",
        "",
        "The selection of every command costs the same number of queries at every scale (dry-run",
        "column), and a dry run — selecting and rendering every notice — stays under the goals.",
        "A real run adds three statements per message on the delivery ledger and an SMTP",
        "conversation, so its time grows with the messages it sends: see the cost per message above.",
        "",
        "## Start-up cost",
        "",
        "CPU seconds (user + system) of a whole process, on an empty migrated database, the",
        "project's bytecode compiled as in the image. The floor is a minimal Django process",
        "(`benchmarks/minimal_django.py`: settings with the auth and contenttypes apps,",
        "`django.setup()`, one ORM query on an SQLite file), run beside each dry run; the ratio is the",
        f"median of {STARTUP_RUNS} such pairs. Reproduce: `.venv/bin/python -m benchmarks.minimal_django "
        "FILE` and `.venv/bin/python manage.py JOB --dry-run` under `/usr/bin/time -v`; where the",
        "time goes: `.venv/bin/python -X importtime manage.py JOB --dry-run`.",
        "",
        *STARTUP_NOTES,
        "",
        "| process | CPU seconds | over the floor |",
        "| --- | --- | --- |",
        f"| minimal Django process (the floor) | {startup.floor:.3f} | - |",
    ]
    for job, cpu in startup.jobs.items():
        lines.append(f"| `manage.py {job} --dry-run` | {cpu:.3f} | {startup.ratios[job]:.2f}× |")
    lines += [
        "",
        "## Lock cost",
        "",
        "Median microseconds per acquire + release, measured side by side in one run on the same",
        "connection (interleaved blocks; see `benchmarks/locks.py`).",
        "",
        "| lock | µs per acquire + release | ours relative to it |",
        "| --- | --- | --- |",
        f"| ours: `CronJobLock.objects.acquire()` + `release()` | {locks.ours_us:.0f} | 1.00× |",
        f"| durable floor: one raw conditional upsert + one delete, two commits | {locks.floor_us:.0f} | "
        f"{locks.ours_over_floor:.2f}× |",
        f"| `pg_try_advisory_lock` + `pg_advisory_unlock` (writes nothing) | {locks.advisory_us:.0f} | "
        f"{locks.ours_over_advisory:.2f}× |",
        "",
        "An advisory lock is cheaper because it writes nothing, and for the same reason it is gone with",
        "its session: it can't be seen by `cron_status`, carries no holder or age, and a pooled",
        "connection can hold it for a dead job. The lock row costs the durable floor and little more.",
        "",
        "## Contention",
        "",
        f"{processes} processes each run the real `test_cronjob` command for every round, all",
        "released at once by a barrier (`testsupport/race.py`); the database decides who runs.",
        "All are the round's occurrence: the others wait for the winner's run (a retried pod of",
        "the occurrence would), then find it succeeded and skip.",
        "",
        "| runs in a round | rounds |",
        "| --- | --- |",
        *[f"| {runs} | {count} |" for runs, count in sorted(contention[0].items())],
        "",
        f"{contention[1]:.1f} rounds per second ({processes} full command runs per round).",
        "",
    ]
    output.write_text("\n".join(lines))


def per_message_svg(scales: list[ScaleFigures]) -> str:
    """Cost per message against messages sent: each job at each scale, and the floor beside it."""
    series: dict[str, list[tuple[float, float]]] = {}
    for s in scales:
        for job in JOBS:
            sending = s.sending[job]
            if sending.rounds:
                series.setdefault(job, []).append((sending.messages, sending.median("job_ms")))
                series.setdefault("durable floor", []).append((sending.messages, sending.median("floor_ms")))
    counts = [x for points in series.values() for x, _ in points] or [1]
    ticks = [10.0**n for n in range(len(str(int(min(counts)))) - 1, len(str(int(max(counts)))) + 1)]
    return svg_chart(
        series,
        "real run − dry run, per message sent",
        "ms per message",
        x_tick="{x:,.0f} sent",
        dashed=frozenset({"durable floor"}),
        ticks=ticks,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--processes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--lock-iterations", type=int, default=2000)
    parser.add_argument("--send-rounds", type=int, default=SEND_ROUNDS, help="paired rounds per sending job")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    problem = postgres_problem()
    if problem:
        print(f"❌ the benchmarks need PostgreSQL on 127.0.0.1:5432: {problem}", file=sys.stderr)
        return 2
    chart = args.output.parent / "benchmarks" / "time-vs-scale.svg"
    per_message_chart = args.output.parent / "benchmarks" / "cost-per-message.svg"
    chart.parent.mkdir(parents=True, exist_ok=True)
    database = ScratchDatabase("postgres").create()
    smtp = SMTPServer().start()
    media = Path(REPO / "var" / "bench-media")
    try:
        print("⏱️ start-up cost", flush=True)
        media.mkdir(parents=True, exist_ok=True)
        startup = measure_startup(database, media)
        print("⏱️ lock cost", flush=True)
        os.environ.update(manage_env(database.url))
        import django

        django.setup()
        locks = measure_lock_cost(args.lock_iterations)
        print(f"⏱️ contention: {args.processes} processes × {args.rounds} rounds", flush=True)
        contention = measure_contention(database, args.processes, args.rounds)
        scales = []
        for scale in args.scales:
            print(f"⏱️ the sending jobs at scale {scale}", flush=True)
            scales.append(measure_scale(database, scale, smtp, media, args.send_rounds))
    finally:
        smtp.stop()
        from django.db import connections

        connections.close_all()
        database.drop()
    series = {job: [(s.scale, s.real[job].seconds) for s in scales] for job in JOBS}
    chart.write_text(svg_chart(series, "execute_job time of a real run against scale", "seconds"))
    per_message_chart.write_text(per_message_svg(scales))
    charts = (chart, per_message_chart)
    write_report(args.output, charts, scales, startup, locks, contention, args.processes, args.rounds)
    print(f"✅ wrote {args.output}, {chart} and {per_message_chart}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
