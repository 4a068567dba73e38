"""The docs' tables of options are the options the commands' own parsers declare.

The format, one for every command:

- A command's table has the header ``| `CMD` option | default | meaning |``; its first cell
  names options in code spans (```--days N```, several per row allowed).
- The options every scheduled job gets from ``BaseCronJobCommand`` are in one table of the README,
  ``| option | which jobs | default | meaning |``: "which jobs" is ``every job``, ``every job
  but `a`, `b` `` or the list `` `a`, `b` ``, and must be exactly the scheduled jobs that have it.
  Its rows also cover the same options of a cron command without a schedule (``test_cronjob``).
- A row for positional arguments says so in its first cell: ``| `JOB …` (arguments) | … |``.

Every option of a project command (Django's own --verbosity, --settings, … and hidden ones
aside) must be in its command's table or, for a scheduled job, in the README's table; every
option a table names must exist; a default written as a number or a literal in backticks must be
the parser's. Every ``manage.py CMD --option`` written anywhere in the docs (code spans and code
blocks) must name a command that exists and options it has.
"""

from __future__ import annotations

import re
from collections import defaultdict

from tests.commands import (
    JOB_PLACEHOLDERS,
    actions,
    command_lines,
    cron_commands,
    invocations,
    known_option,
    project_commands,
    scheduled_jobs,
)
from tests.markdown import ROOT, Row, Table, code_spans, doc_files, tables, where

README = ROOT / "README.md"


def _options_in(cell: str) -> list[str]:
    return [m.group(0) for span in code_spans(cell) if (m := re.match(r"--?[A-Za-z][\w-]*", span))]


def command_tables() -> dict[str, list[Table]]:
    found: dict[str, list[Table]] = defaultdict(list)
    for path in doc_files():
        for table in tables(path):
            match = re.fullmatch(r"`(\w+)` option", table.header[0])
            if match and table.header[1:] == ["default", "meaning"]:
                found[match.group(1)].append(table)
    return found


def common_table() -> Table:
    found = [t for t in tables(README) if t.header[:2] == ["option", "which jobs"]]
    assert len(found) == 1, "README.md must have one `| option | which jobs | default | meaning |` table"
    return found[0]


def _which_jobs(row: Row) -> set[str]:
    cell = row.cells[1]
    named = set(code_spans(cell))
    jobs = set(scheduled_jobs())
    assert named <= jobs, f"{row.place}: {sorted(named - jobs)} are not scheduled jobs"
    if cell == "every job":
        return jobs
    if cell.startswith("every job but "):
        return jobs - named
    assert named and not re.sub(r"`\w+`|,|\s|and", "", cell), (
        f"{row.place}: 'which jobs' must be `every job`, `every job but `a`, `b``, or a list of jobs; "
        f"not {cell!r}"
    )
    return named


def _default_matches(cell: str, action: object) -> bool | None:
    spans = code_spans(cell)
    value = spans[0] if len(spans) == 1 and cell.startswith("`") else cell
    default = getattr(action, "default", None)
    if default is None:  # computed when it runs ("tomorrow, club time", a setting): prose
        return None
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return isinstance(default, (int, float)) and not isinstance(default, bool) and float(value) == default
    if value != cell:
        return str(default) == value
    if cell == "off":
        return default is False or default is None
    return None


def test_every_command_option_is_documented() -> None:
    documented: dict[str, set[str]] = defaultdict(set)
    for name, name_tables in command_tables().items():
        for table in name_tables:
            for row in table.rows:
                documented[name].update(_options_in(row.cells[0]))
    unscheduled = set(cron_commands()) - set(scheduled_jobs())
    for row in common_table().rows:
        for job in _which_jobs(row) | unscheduled:  # test_cronjob has the base class's options too
            documented[job].update(o for o in _options_in(row.cells[0]) if known_option(job, o))
    missing = []
    for name in project_commands():
        undocumented = sorted(set(actions(name)) - documented[name])
        if undocumented:
            where_to = "its `| `CMD` option | default | meaning |` table"
            if name in scheduled_jobs():
                where_to += " (docs/jobs/" + name + ".md) or the README's table of every job's options"
            missing.append(f"{name}: {', '.join(undocumented)} in no table; add to {where_to}")
    assert not missing, "\n".join(missing)


def test_every_documented_option_exists_with_its_default() -> None:
    problems = []
    for name, name_tables in command_tables().items():
        if name not in project_commands():
            problems.append(f"{name_tables[0].place}: a table of options of `{name}`, which is no command")
            continue
        own = actions(name)
        for table in name_tables:
            for row in table.rows:
                options = _options_in(row.cells[0])
                if not options and "(argument" not in row.cells[0]:
                    problems.append(
                        f"{row.place}: the row names no `--option` (nor `X` (arguments)) in its first cell"
                    )
                for option in options:
                    if not known_option(name, option):
                        problems.append(f"{row.place}: `{name}` has no option {option}")
                    elif (
                        option in own
                        and len(options) == 1
                        and _default_matches(row.cells[1], own[option]) is False
                    ):
                        problems.append(
                            f"{row.place}: {name} {option} documented default {row.cells[1]!r}, "
                            f"the parser's is {own[option].default!r}"
                        )
    assert not problems, "\n".join(problems)


def test_the_readme_table_of_every_job_options_says_which_jobs_have_each() -> None:
    problems = []
    for row in common_table().rows:
        for option in _options_in(row.cells[0]):
            having = {job for job in scheduled_jobs() if known_option(job, option)}
            said = _which_jobs(row)
            if having != said:
                problems.append(
                    f"{row.place}: {option} is an option of {sorted(having)}, the table says {sorted(said)}"
                )
            for job in sorted(said & having):
                action = actions(job).get(option)
                if action is not None and _default_matches(row.cells[2], action) is False:
                    problems.append(
                        f"{row.place}: {job} {option} default is {action.default!r}, not {row.cells[2]!r}"
                    )
    assert not problems, "\n".join(problems)


def test_every_cron_command_that_is_not_scheduled_is_documented_too() -> None:
    # test_cronjob is a cron command without a schedule: its options come from the base class
    # too, and only a table of its own can list them.
    tables_of = command_tables()
    unscheduled = set(cron_commands()) - set(scheduled_jobs())
    assert unscheduled, "the registry lists no unscheduled cron command any more: drop this test"
    assert not unscheduled - set(tables_of), f"no option table for {sorted(unscheduled - set(tables_of))}"


def test_every_manage_py_line_of_the_docs_names_a_command_and_its_options() -> None:
    from django.core.management import get_commands

    commands = {**get_commands(), "help": "django.core", "version": "django.core"}  # manage.py's own
    problems = []
    seen = 0
    for path in doc_files():
        for line in command_lines(path.read_text()):
            for name, options in invocations(line):
                seen += 1
                targets = scheduled_jobs() if name in JOB_PLACEHOLDERS else [name]
                if name not in JOB_PLACEHOLDERS and name not in commands:
                    problems.append(f"{where(path)}: `{line}`: no command {name}")
                    continue
                # A placeholder (`manage.py JOB --send-in-doubt`) is the job in question: some
                # scheduled job must have the option.
                unknown = [o for o in options if not any(known_option(target, o) for target in targets)]
                if unknown:
                    problems.append(f"{where(path)}: `{line}`: {name} has no {', '.join(unknown)}")
    assert seen > 50, f"only {seen} manage.py lines found: the reader no longer finds them"
    assert not problems, "\n".join(problems)


def test_the_reader_of_command_lines() -> None:
    assert invocations("python manage.py notify_late_sprs --dry-run --lookback-days 30") == [
        ("notify_late_sprs", ["--dry-run", "--lookback-days"])
    ]
    assert invocations("manage.py run_scheduler --once expire_ad_hoc_days -- --date 2026-11-23") == [
        ("run_scheduler", ["--once"]),
        ("expire_ad_hoc_days", ["--date"]),
    ]
    assert invocations(".venv/bin/python manage.py JOB [--dry-run] --profile") == [
        ("JOB", ["--dry-run", "--profile"])
    ]
    assert command_lines("a `manage.py check` b\n```sh\nmanage.py migrate -v0   # note\n```\n") == [
        "manage.py check",
        "manage.py migrate -v0",
    ]


def test_every_command_of_the_project_is_in_the_docs() -> None:
    text = "\n".join(path.read_text() for path in doc_files())
    named = {span for line in text.splitlines() for span in code_spans(line)} | {
        name for line in command_lines(text) for name, _ in invocations(line)
    }
    absent = [name for name in project_commands() if name not in named and f"manage.py {name}" not in text]
    assert not absent, f"commands no doc names (as `name` or `manage.py name`): {', '.join(absent)}"
