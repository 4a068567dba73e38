"""Reading the docs' Markdown tables, for the tests that compare them with the code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def doc_files() -> list[Path]:
    """Every Markdown page of the docs, the README first."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def where(path: Path, line: int | None = None) -> str:
    """``docs/x.md:12``, the way a failure message names a place."""
    name = path.relative_to(ROOT).as_posix()
    return f"{name}:{line}" if line else name


@dataclass(frozen=True)
class Row:
    cells: list[str]
    path: Path
    line: int

    @property
    def place(self) -> str:
        return where(self.path, self.line)


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[Row]
    path: Path
    line: int  # of the header

    @property
    def place(self) -> str:
        return where(self.path, self.line)


def _cells(line: str) -> list[str]:
    # A `|` inside backticks (`text|json`) is not a column separator.
    cells, current, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    cells.append(current.strip())
    return cells


def tables(path: Path) -> Iterator[Table]:
    """Each table of a page: its header cells and its rows (outside fenced code blocks)."""
    lines = path.read_text().splitlines()
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_fence = not in_fence
        elif (
            not in_fence
            and line.startswith("|")
            and i + 1 < len(lines)
            and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", lines[i + 1].strip())
        ):
            header = _cells(line)
            rows = []
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                rows.append(Row(_cells(lines[j]), path, j + 1))
                j += 1
            yield Table(header, rows, path, i + 1)
            i = j
            continue
        i += 1


def code_spans(text: str) -> list[str]:
    """The contents of the `code spans` of a text."""
    return re.findall(r"`([^`]+)`", text)


def section(path: Path, heading: str) -> str:
    """The text under a heading (any level), up to the next heading of the same or a higher level."""
    text = path.read_text()
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, flags=re.M)
    assert match, f"{where(path)} has no heading {heading!r}"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.M)
    return rest[: end.start()] if end else rest
