"""Every "Reproduce:" command of the docs still runs, so none can rot.

The rule. A line of README.md or docs/ that starts with ``Reproduce…:`` or ``To reproduce:``
gives its commands in code spans on that paragraph, or in the fenced block that follows it.
Each command is one of:

- ``make TARGET``: the Makefile has the target (the figures of ``make bench`` are regenerated
  by it; docs/benchmarks.md's own Reproduce lines must be text the benchmarks package writes,
  so they are regenerated with the figures).
- ``pytest ARGS`` (``.venv/bin/pytest``, ``python -m pytest``): ``pytest --collect-only ARGS``
  selects at least one test.
- ``manage.py CMD …``: it runs, quickly and sandboxed: the commands of one Reproduce run in
  order, on a scratch SQLite database of their own (migrated first), with ``DEBUG=1``,
  ``--dry-run`` added for every command that has it, ``--scale`` at most 1, ``N`` read as 1,
  ``[optional]`` parts included, and ``JOB`` standing for every scheduled job. Each must exit 0.
- ``python -m MODULE`` (``python -m benchmarks``, what ``make bench`` runs): the module exists.
- environment set-up the sandbox replaces (``export``, ``psql``, ``/usr/bin/time``): not run.

A ``VAR=value`` in front of a command must name a variable the code reads (a setting, or one the
test support reads), else the command only looks like it configures something. Anything else
fails with the doc, the line and the command, so a new Reproduce line must take one of these forms.
"""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.commands import JOB_PLACEHOLDERS, known_option, scheduled_jobs
from tests.markdown import ROOT, code_spans, doc_files, where
from tests.test_docs_settings import CODE, environment_reads_outside_the_settings
from testsupport.databases import manage_env, run_manage

# Tools that only set up the environment a sandboxed run replaces.
SET_UP = ("export", "psql", "/usr/bin/time", "cd")
REPRODUCE = re.compile(r"^(?:To reproduce|Reproduce[\w ]*):", flags=re.I)


@dataclass(frozen=True)
class Reproduce:
    path: Path
    line: int
    commands: list[str]

    @property
    def place(self) -> str:
        return where(self.path, self.line)


def reproduce_lines(path: Path) -> list[Reproduce]:
    lines = path.read_text().splitlines()
    found = []
    in_fence = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence or not REPRODUCE.match(line):
            continue
        paragraph = []
        for following in lines[i:]:
            if not following.strip() or following.startswith("```"):
                break
            paragraph.append(following)
        commands = code_spans(" ".join(paragraph))
        rest = [ln for ln in lines[i + 1 :] if ln.strip()]
        if line.rstrip().endswith(":") and rest and rest[0].startswith("```"):
            start = lines.index(rest[0], i + 1) + 1
            end = next(j for j in range(start, len(lines)) if lines[j].startswith("```"))
            commands += [
                ln.split(" #")[0].strip() for ln in lines[start:end] if ln.strip() and not ln.startswith("#")
            ]
        found.append(Reproduce(path, i + 1, commands))
    return found


ALL = [entry for path in doc_files() for entry in reproduce_lines(path)]
KNOWN_VARIABLES = set(CODE) | set(environment_reads_outside_the_settings())


def _split_env(command: str) -> tuple[list[str], list[str]]:
    words = shlex.split(command.replace("…", "PLACEHOLDER"))
    env = []
    while words and re.fullmatch(r"[A-Z][A-Z0-9_]*=.*", words[0]):
        env.append(words.pop(0).split("=", 1)[0])
    return env, words


def kind(command: str) -> str:
    _, words = _split_env(command)
    if not words:
        return "unknown"
    if "manage.py" in " ".join(words):
        return "manage"
    if words[0] == "make":
        return "make"
    if words[0].endswith("pytest") or words[1:3] == ["-m", "pytest"]:
        return "pytest"
    if words[0].endswith(("python", "python3")) and words[1:2] == ["-m"]:
        return "module"
    if words[0] in SET_UP:
        return "set-up"
    return "unknown"


def make_targets() -> set[str]:
    return set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), flags=re.M))


def manage_args(command: str) -> list[list[str]]:
    """The sandboxed argument lists of one documented manage.py command (one per job for JOB)."""
    _, words = _split_env(command)
    args = words[words.index(next(w for w in words if w.endswith("manage.py"))) + 1 :]
    args = [w.strip("[]") for w in args]
    out = []
    for i, word in enumerate(args):
        if word == "N" or (i and args[i - 1] == "--scale"):
            word = "1"
        out.append(word)
    names = scheduled_jobs() if out[0] in JOB_PLACEHOLDERS else [out[0]]
    runs = []
    for name in names:
        run = [name, *out[1:]]
        if known_option(name, "--dry-run") and "--dry-run" not in run:
            run.append("--dry-run")
        runs.append(run)
    return runs


def test_the_docs_have_reproduce_lines_and_each_names_a_command() -> None:
    assert len(ALL) >= 3, f"only {len(ALL)} Reproduce lines found: the reader no longer finds them"
    empty = [entry.place for entry in ALL if not entry.commands]
    assert not empty, "Reproduce lines without a command in `code` or a code block: " + ", ".join(empty)
    unknown = [f"{entry.place}: `{c}`" for entry in ALL for c in entry.commands if kind(c) == "unknown"]
    assert not unknown, "Reproduce commands of no known form (see this test's docstring):\n" + "\n".join(
        unknown
    )


def test_the_variables_set_in_front_of_a_reproduce_command_are_read_by_the_code() -> None:
    unknown = [
        f"{entry.place}: {name} in `{command}`"
        for entry in ALL
        for command in entry.commands
        for name in _split_env(command)[0]
        if name not in KNOWN_VARIABLES
    ]
    assert not unknown, "variables nothing reads: " + "; ".join(unknown)


def test_the_make_targets_of_reproduce_lines_exist() -> None:
    targets = make_targets()
    missing = []
    for entry in ALL:
        for command in entry.commands:
            if kind(command) == "make":
                words = _split_env(command)[1][1:]
                missing += [f"{entry.place}: make {w}" for w in words if "=" not in w and w not in targets]
    assert not missing, "no such Makefile target: " + ", ".join(missing)


def test_the_modules_of_reproduce_lines_exist() -> None:
    import importlib.util

    missing = []
    for entry in ALL:
        for command in entry.commands:
            if kind(command) == "module":
                module = _split_env(command)[1][2]
                if importlib.util.find_spec(module) is None:
                    missing.append(f"{entry.place}: python -m {module}")
    assert not missing, "no such module: " + ", ".join(missing)


def _string_constants(package: Path) -> list[str]:
    return [
        node.value
        for path in package.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_the_benchmark_page_s_reproduce_lines_are_written_by_make_bench() -> None:
    written = _string_constants(ROOT / "benchmarks")
    page = ROOT / "docs" / "benchmarks.md"
    not_generated = [
        f"{entry.place}: `{command}`"
        for entry in ALL
        if entry.path == page
        for command in entry.commands
        if not any(command in text for text in written)
    ]
    assert not not_generated, (
        "Reproduce commands of docs/benchmarks.md the benchmarks package doesn't write: "
        + ", ".join(not_generated)
    )


PYTEST = [(entry, c) for entry in ALL for c in entry.commands if kind(c) == "pytest"]


@pytest.mark.processes
def test_the_pytest_commands_of_reproduce_lines_select_tests() -> None:
    import subprocess

    for entry, command in PYTEST:
        _, words = _split_env(command)
        args = words[words.index("pytest") + 1 :] if "pytest" in words else words[1:]
        args = [a for a in args if a != "-s"]
        env = {**manage_env("sqlite:///:memory:"), **dict(re.findall(r"([A-Z][A-Z0-9_]*)=(\S+)", command))}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        selected = re.search(r"(\d+)(?:/\d+)? tests? (?:collected|selected)", result.stdout)
        assert result.returncode == 0 and selected and int(selected.group(1)) > 0, (
            f"{entry.place}: `{command}` selects no test:\n{result.stdout[-1500:]}{result.stderr[-1500:]}"
        )


MANAGE = [entry for entry in ALL if any(kind(c) == "manage" for c in entry.commands)]


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reproduce") / "migrated.sqlite3"
    result = run_manage("migrate", "--no-input", "-v0", env=manage_env(f"sqlite:///{path}", DEBUG="1"))
    assert result.returncode == 0, result.stderr
    return path


@pytest.mark.processes
@pytest.mark.parametrize("entry", MANAGE, ids=[entry.place for entry in MANAGE])
def test_the_manage_py_commands_of_a_reproduce_line_run(
    entry: Reproduce, migrated_database: Path, tmp_path: Path
) -> None:
    database = tmp_path / "reproduce.sqlite3"
    shutil.copy(migrated_database, database)
    env = manage_env(f"sqlite:///{database}", DEBUG="1")
    for command in entry.commands:
        if kind(command) != "manage":
            continue
        for args in manage_args(command):
            result = run_manage(*args, env=env, timeout=300)
            assert result.returncode == 0, (
                f"{entry.place}: `{command}` run as `manage.py {' '.join(args)}` "
                f"exited {result.returncode}:\n"
                f"{result.stderr[-1500:]}"
            )


def test_how_a_reproduce_line_is_read(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Prose that can be reproduced with `manage.py check` is no Reproduce line.\n\n"
        "Reproduce: `make bench` and `M2S_X=1 .venv/bin/pytest duty_roster -k benchmark`.\n\n"
        "To reproduce:\n\n```sh\nexport DEBUG=1\n"
        ".venv/bin/python manage.py seed_demo --scale 100   # big\n```\n"
    )
    first, second = reproduce_lines(page)
    assert first.commands == ["make bench", "M2S_X=1 .venv/bin/pytest duty_roster -k benchmark"]
    assert [kind(c) for c in first.commands] == ["make", "pytest"]
    assert kind(".venv/bin/python -m benchmarks") == "module"
    assert kind("curl https://example.org") == "unknown"
    assert _split_env(first.commands[1])[0] == ["M2S_X"]
    assert second.commands == ["export DEBUG=1", ".venv/bin/python manage.py seed_demo --scale 100"]
    assert manage_args(second.commands[1]) == [["seed_demo", "--scale", "1"]]
    assert manage_args(".venv/bin/python manage.py JOB [--dry-run] --profile")[0] == [
        scheduled_jobs()[0],
        "--dry-run",
        "--profile",
    ]
