"""The README's job table and each docs/jobs page say what the job registry says.

- The README's table ``| job | when (UTC) | what it does |`` has one row per scheduled job, linked
  to its page; "when" is read back into a cron expression (``daily 08:00``, ``Mondays 10:00``,
  ``1st of month 07:00``, ``hourly at :20``) that must be the job's schedule, in UTC.
- ``docs/jobs/<job>.md`` exists for every scheduled job and for nothing else; its first table
  states the schedule (the cron expression, and any ``HH:MM UTC`` it names must be a time it
  runs), the max execution time and the resource class, and a starting deadline it names must
  be the class's.
- The thresholds a page or the README row states (the SPR levels, the days of a rule) are the
  code's: those a job's options carry are checked with the option tables
  (tests/test_docs_options.py), the others here.
"""

from __future__ import annotations

import datetime
import re

import pytest

from tests.commands import actions, scheduled_jobs
from tests.markdown import DOCS, ROOT, Table, code_spans, tables, where
from utils.registry import cron_commands

README = ROOT / "README.md"
JOB_PAGES = DOCS / "jobs"
DAYS_OF_WEEK = ["Sundays", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays"]


def cron_of(when: str) -> str:
    """The cron expression of the README's "when (UTC)" wording."""
    if match := re.fullmatch(r"hourly at :(\d\d)", when):
        return f"{int(match.group(1))} * * * *"
    match = re.fullmatch(r"(daily|\w+days|1st of month) (\d\d):(\d\d)", when)
    assert match, (
        f"README's job table: {when!r} is none of: daily HH:MM, <weekday>s HH:MM, 1st of month HH:MM, "
        "hourly at :MM"
    )
    days, hour, minute = match.group(1), int(match.group(2)), int(match.group(3))
    if days == "daily":
        return f"{minute} {hour} * * *"
    if days == "1st of month":
        return f"{minute} {hour} 1 * *"
    assert days in DAYS_OF_WEEK, f"README's job table: {days!r} is not a day of the week"
    return f"{minute} {hour} * * {DAYS_OF_WEEK.index(days)}"


def readme_job_table() -> Table:
    found = [t for t in tables(README) if t.header == ["job", "when (UTC)", "what it does"]]
    assert len(found) == 1, "README.md must have one `| job | when (UTC) | what it does |` table"
    return found[0]


def test_the_readme_job_table_has_every_scheduled_job_with_its_schedule() -> None:
    table = readme_job_table()
    rows = {}
    for row in table.rows:
        match = re.fullmatch(r"\[`(\w+)`\]\(docs/jobs/(\w+)\.md\)", row.cells[0])
        assert match and match.group(1) == match.group(2), (
            f"{row.place}: a job cell is [`job`](docs/jobs/job.md)"
        )
        rows[match.group(1)] = row
    jobs = cron_commands()
    assert sorted(rows) == sorted(scheduled_jobs()), (
        f"{table.place}: jobs missing from the table: {sorted(set(scheduled_jobs()) - set(rows))}; "
        f"rows that are no scheduled job: {sorted(set(rows) - set(scheduled_jobs()))}"
    )
    for name, row in rows.items():
        assert cron_of(row.cells[1]) == jobs[name].schedule, (
            f"{row.place}: {name} runs at `{jobs[name].schedule}`"
        )
        assert jobs[name].schedule_timezone in (None, "Etc/UTC", "UTC"), f"{row.place}: {name} is not on UTC"


def readme_row(job: str) -> str:
    return next(row.cells[2] for row in readme_job_table().rows if f"`{job}`" in row.cells[0])


def test_the_thresholds_in_the_readme_job_table_are_the_code_s() -> None:
    from instructors.late_sprs import LEVELS

    days = actions("notify_aging_logsheets")["--days"].default
    assert f"more than {days} days old" in readme_row("notify_aging_logsheets")
    levels = "/".join(str(level.min_days) for level in LEVELS)
    assert f"({levels} days)" in readme_row("notify_late_sprs")
    recency = actions("notify_pilot_currency")["--days"].default
    assert f"{recency}-day recency" in readme_row("notify_pilot_currency")


def test_every_scheduled_job_has_a_page_and_every_page_is_a_job() -> None:
    pages = {path.stem for path in JOB_PAGES.glob("*.md")}
    assert pages == set(scheduled_jobs()), (
        f"jobs without a page in docs/jobs/: {sorted(set(scheduled_jobs()) - pages)}; "
        f"pages of no scheduled job: {sorted(pages - set(scheduled_jobs()))}"
    )


def _minutes(text: str) -> datetime.timedelta | None:
    match = re.search(r"(\d+) (?:minutes|min)\b", text)
    return datetime.timedelta(minutes=int(match.group(1))) if match else None


@pytest.mark.parametrize("job", scheduled_jobs())
def test_the_job_page_states_the_registry_s_facts(job: str) -> None:
    path = JOB_PAGES / f"{job}.md"
    facts_table = next(tables(path))
    place = facts_table.place
    facts = {row.cells[0].replace("_", " "): row.cells[1] for row in facts_table.rows}
    cls = cron_commands()[job]
    for fact in ("schedule", "max execution time", "resource class"):
        assert fact in facts, f"{place}: the first table of {where(path)} has no `{fact}` row"
    schedule = code_spans(facts["schedule"])[0]
    assert schedule == cls.schedule, f"{place}: schedule `{schedule}`, the class's is `{cls.schedule}`"
    minute, hour = cls.schedule.split()[:2]
    for stated_hour, stated_minute in re.findall(r"(\d\d):(\d\d) UTC", facts["schedule"]):
        assert (minute, hour) in (
            (str(int(stated_minute)), str(int(stated_hour))),
            (str(int(stated_minute)), "*"),
        ), f"{place}: {stated_hour}:{stated_minute} UTC is not when `{cls.schedule}` runs"
    assert _minutes(facts["max execution time"]) == cls.max_execution_time, (
        f"{place}: max execution time {facts['max execution time']!r}, "
        f"the class's is {cls.max_execution_time}"
    )
    assert facts["resource class"] == cls.resource_class, (
        f"{place}: resource class {facts['resource class']!r}, the class's is {cls.resource_class!r}"
    )
    text = path.read_text()
    for stated in re.findall(r"starting deadline (\d+ minutes)", text):
        assert _minutes(stated) == cls.starting_deadline, (
            f"{where(path)}: starting deadline {stated}, the class's is {cls.starting_deadline}"
        )


def test_the_spr_levels_table_is_the_code_s() -> None:
    from instructors.late_sprs import LEVELS

    path = JOB_PAGES / "notify_late_sprs.md"
    table = next(t for t in tables(path) if t.header[:2] == ["age (days)", "level"])
    rows = [row for row in table.rows if row.cells[1] != "not overdue"]
    assert [row.cells[1] for row in rows] == [level.label for level in LEVELS], table.place
    for row, level, after in zip(rows, LEVELS, [*LEVELS[1:], None], strict=True):
        low = int(re.match(r"\d+", row.cells[0]).group(0))  # type: ignore[union-attr]
        assert low == level.min_days, f"{row.place}: {level.label} starts at {level.min_days} days"
        if after is not None:
            assert row.cells[0] == f"{level.min_days}-{after.min_days - 1}", (
                f"{row.place}: the range ends the day before {after.label}"
            )


@pytest.mark.parametrize(
    ("when", "cron"),
    [
        ("daily 08:00", "0 8 * * *"),
        ("Mondays 10:00", "0 10 * * 1"),
        ("Sundays 09:00", "0 9 * * 0"),
        ("1st of month 07:00", "0 7 1 * *"),
        ("hourly at :05", "5 * * * *"),
    ],
)
def test_the_reading_of_when(when: str, cron: str) -> None:
    assert cron_of(when) == cron
