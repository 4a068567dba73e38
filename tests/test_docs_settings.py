"""The docs' tables of settings are the settings the code reads, with the code's defaults.

A settings table is any table of docs/ whose header starts ``| variable | default |``. The
settings are what ``manage2soar/settings.py`` reads from the environment (found in its source:
``env.str("X", default=…)``, ``env_int("X", …)``, …). Every one of them must be a row of some
settings table, every name in a settings table must be read by the code, and a default given
there as a number or a literal in backticks must be the code's. A sentence such as
"`NOTIFY_RETRY_ATTEMPTS` (4)" anywhere in the docs states a default too, and is checked the same
way.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.markdown import ROOT, Row, code_spans, doc_files, tables, where

SETTINGS = ROOT / "manage2soar" / "settings.py"
# The readers of settings.py and the position of the variable's name among their arguments.
READERS = {
    "env_int": 0,
    "env_float": 0,
    "env_bool": 0,
    "time_zone": 0,
    "optional_secret": 0,
    "url_setting": 1,
}
ENV_METHODS = {"str", "int", "float", "bool", "list", "json", "url", "path"}
# Read by a library, not by our code; documented because an operator sets them.
READ_BY_LIBRARIES = {"STORAGE_EMULATOR_HOST": "google-cloud-storage"}
NO_DEFAULT = object()


@dataclass(frozen=True)
class Setting:
    name: str
    default: object  # the literal default, NO_DEFAULT when there is none or it is computed
    line: int
    minimum: object = NO_DEFAULT  # env_int/env_float's range, where it is a literal
    maximum: object = NO_DEFAULT


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return NO_DEFAULT
    if any(isinstance(n, (ast.Name, ast.Call, ast.Attribute, ast.IfExp)) for n in ast.walk(node)):
        return NO_DEFAULT
    return eval(compile(ast.Expression(node), "<default>", "eval"), {"__builtins__": {}})  # noqa: S307 - constants only


def settings_in_code() -> dict[str, Setting]:
    """Every environment variable settings.py reads, with its default when it is a literal."""
    found: dict[str, Setting] = {}
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        position = None
        if isinstance(func, ast.Name) and func.id in READERS:
            position = READERS[func.id]
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in ENV_METHODS
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        ):
            position = 0
        if position is None or len(node.args) <= position:
            continue
        key = node.args[position]
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        default_node = keywords.get(
            "default", node.args[position + 1] if len(node.args) > position + 1 else None
        )
        if isinstance(func, ast.Name) and func.id == "optional_secret":
            default: object = ""
        else:
            default = _literal(default_node)
        bounds = [
            _literal(keywords.get(word, node.args[i] if len(node.args) > i else None))
            for i, word in ((2, "minimum"), (3, "maximum"))
        ]
        found.setdefault(key.value, Setting(key.value, default, node.lineno, *bounds))
    return found


CODE = settings_in_code()


def settings_rows() -> list[tuple[str, str, Row]]:
    """(name, default cell, row) of every settings table of the docs."""
    found = []
    for path in doc_files():
        for table in tables(path):
            if [c.lower() for c in table.header[:2]] != ["variable", "default"]:
                continue
            for row in table.rows:
                names = [n for n in code_spans(row.cells[0]) if re.fullmatch(r"[A-Z][A-Z0-9_]+", n)]
                assert names, f"{row.place}: a settings row names no `VARIABLE` in its first cell"
                defaults = [d.strip() for d in row.cells[1].split(",")] if len(names) > 1 else [row.cells[1]]
                if len(defaults) != len(names):  # one default for all ("`0`")
                    defaults = [row.cells[1]] * len(names)
                found += [(name, default, row) for name, default in zip(names, defaults, strict=True)]
    return found


ROWS = settings_rows()


def _same(documented: str, default: object) -> bool | None:
    """Whether a documented default is the code's; None when the cell is prose, not a value."""
    cell = documented.strip()
    spans = code_spans(cell)
    quoted = len(spans) == 1 and cell.startswith("`")  # "`60`", "`604800` (7 days)"
    value = spans[0] if quoted else cell
    if cell == "none":
        return default in ("", [])
    if isinstance(default, bool):
        return (value == "1") == default if value in ("0", "1") else None
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return isinstance(default, (int, float)) and float(value) == float(default)
    if quoted and isinstance(default, list):
        return value == ",".join(default)
    if quoted and isinstance(default, str):
        return value == default
    return None


def test_every_setting_the_code_reads_is_in_a_settings_table() -> None:
    documented = {name for name, _, _ in ROWS}
    missing = sorted(set(CODE) - documented)
    assert not missing, (
        "settings read by manage2soar/settings.py but in no `| variable | default |` table of docs/: "
        + ", ".join(f"{name} (settings.py:{CODE[name].line})" for name in missing)
    )


def test_every_setting_in_a_settings_table_is_read_by_the_code() -> None:
    unknown = [
        f"{row.place}: {name}" for name, _, row in ROWS if name not in CODE and name not in READ_BY_LIBRARIES
    ]
    assert not unknown, "settings tables name variables the code never reads: " + "; ".join(unknown)


def test_the_documented_defaults_are_the_code_defaults() -> None:
    wrong = []
    for name, cell, row in ROWS:
        setting = CODE.get(name)
        if setting is None or setting.default is NO_DEFAULT:
            continue
        if _same(cell, setting.default) is False:
            wrong.append(
                f"{row.place}: {name} documented default {cell!r}, the code's is {setting.default!r}"
            )
    assert not wrong, "\n".join(wrong)


# "`NOTIFY_RETRY_ATTEMPTS` (4)", "`EMAIL_TIMEOUT` (15 s)": a default stated in a sentence.
IN_PROSE = re.compile(r"`([A-Z][A-Z0-9_]+)` \((\d+(?:\.\d+)?)(?: ?s| seconds| minutes| hours| days)?\)")


def _prose_defaults() -> list[tuple[Path, int, str, str]]:
    found = []
    for path in doc_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            found += [(path, number, name, value) for name, value in IN_PROSE.findall(line)]
    return found


def test_defaults_stated_in_sentences_are_the_code_defaults() -> None:
    stated = [(p, n, name, value) for p, n, name, value in _prose_defaults() if name in CODE]
    assert stated, "no sentence states a setting's default: the pattern no longer matches the docs"
    wrong = [
        f"{where(p, n)}: `{name}` ({value}), the code's default is {CODE[name].default!r}"
        for p, n, name, value in stated
        if CODE[name].default is not NO_DEFAULT and _same(value, CODE[name].default) is False
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("cell", "default", "expected"),
    [
        ("`60`", 60, True),
        ("`61`", 60, False),
        ("`10`", 10.0, True),
        ("`0`", False, True),
        ("`1`", False, False),
        ("`Etc/UTC`", "Etc/UTC", True),
        ("`text`", "json", False),
        ("none", "", True),
        ("`localhost,127.0.0.1` with `DEBUG`, else none", NO_DEFAULT, None),
        ("`604800` (7 days)", 604800, True),
        ("Twilio's", "", None),
    ],
)
def test_how_a_documented_default_is_compared(cell: str, default: object, expected: bool | None) -> None:
    assert _same(cell, default) is expected


def test_the_code_reader_finds_the_settings_and_their_defaults() -> None:
    assert CODE["CRONJOB_LEASE_SECONDS"].default == 60
    assert CODE["DEBUG"].default is False
    assert CODE["GS_EXPIRATION"].default == 7 * 86400
    assert CODE["DATABASE_URL"].default is NO_DEFAULT  # computed from DATA_DIR
    assert CODE["SLACK_WEBHOOK_URL"].default == ""
    assert "ACTIVE_MEMBERSHIP_STATUSES" in CODE and "EMAIL_URL" in CODE


def environment_reads_outside_the_settings() -> dict[str, str]:
    """Variables read straight from ``os.environ`` (the identity of a run, the test servers)."""
    found: dict[str, str] = {}
    pattern = re.compile(r"""(?:environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']""")
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if (
            relative.startswith((".venv", "build/", "var/"))
            or "/tests/" in relative
            or relative.startswith("tests/")
        ):
            continue
        for name in pattern.findall(path.read_text()):
            found.setdefault(name, relative)
    return found


def test_every_variable_read_outside_the_settings_is_documented() -> None:
    reads = environment_reads_outside_the_settings()
    assert "POD_NAME" in reads and "TEST_POSTGRES_URL" in reads, "the reader no longer finds os.environ reads"
    text = "\n".join(path.read_text() for path in doc_files())
    missing = [
        f"{name} (read in {module})" for name, module in sorted(reads.items()) if f"`{name}" not in text
    ]
    assert not missing, "environment variables no doc names in backticks: " + ", ".join(missing)


def test_the_readme_table_of_test_variables_has_the_code_defaults() -> None:
    from testsupport import databases

    table = next(t for t in tables(ROOT / "README.md") if t.header[:2] == ["test variable", "default"])
    defaults = {row.cells[0]: code_spans(row.cells[1])[0] for row in table.rows}
    test_db = re.search(
        r'environ\.get\("TEST_DB", "(\w+)"\)', (ROOT / "testsupport" / "plugin.py").read_text()
    )
    assert test_db and defaults["`TEST_DB`"] == test_db.group(1)
    assert defaults["`TEST_POSTGRES_URL`"] == databases.DEFAULT_POSTGRES_URL
    assert defaults["`TEST_MARIADB_URL`"] == databases.DEFAULT_MARIADB_URL


_NUMBER = r"(\d+(?:\.\d+)?)"
# "(1–600)", "1–1000", "whole seconds from 3 to 3600", "at least 2"; "`NAME` 0.1–3600 s" in a sentence.
RANGE = re.compile(rf"{_NUMBER}–{_NUMBER}|from {_NUMBER} to {_NUMBER}")
AT_LEAST = re.compile(rf"at least {_NUMBER}")
RANGE_IN_PROSE = re.compile(rf"`([A-Z][A-Z0-9_]+)` {_NUMBER}–{_NUMBER}")


def _range_problem(place: str, name: str, low: str | None, high: str | None) -> str | None:
    setting = CODE.get(name)
    if setting is None:
        return None
    for stated, actual, word in ((low, setting.minimum, "minimum"), (high, setting.maximum, "maximum")):
        if stated is None or actual is NO_DEFAULT:
            continue
        if actual is None or float(stated) != float(actual):  # type: ignore[arg-type]
            return f"{place}: {name} {word} documented {stated}, the code's is {actual!r}"
    return None


def test_the_documented_ranges_are_the_code_s() -> None:
    problems, checked = [], 0
    for name, _, row in ROWS:
        meaning = row.cells[2] if len(row.cells) > 2 else ""
        ranges = RANGE.findall(meaning)
        if len(ranges) == 1:
            low, high = [n for n in ranges[0] if n][:2]
            problems.append(_range_problem(row.place, name, low, high))
            checked += 1
        if at_least := AT_LEAST.search(meaning):
            problems.append(_range_problem(row.place, name, at_least.group(1), None))
            checked += 1
    for path in doc_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for name, low, high in RANGE_IN_PROSE.findall(line):
                problems.append(_range_problem(where(path, number), name, low, high))
                checked += 1
    assert checked >= 10, f"only {checked} ranges found in the docs: the patterns no longer match them"
    wrong = [p for p in problems if p]
    assert not wrong, "\n".join(wrong)


def test_the_documented_yes_no_values_are_the_code_s() -> None:
    from manage2soar import settings

    text = " ".join((ROOT / "docs" / "configuration.md").read_text().split())
    match = re.search(r"Yes/no values are (.+?) or (.+?) \(any case\); an empty value is no\.", text)
    assert match, "docs/configuration.md no longer lists the yes/no values"
    yes, no = (code_spans(group) for group in match.groups())
    assert sorted(yes) == sorted(settings._TRUE)
    assert sorted([*no, ""]) == sorted(settings._FALSE)
