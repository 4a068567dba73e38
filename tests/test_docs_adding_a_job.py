"""docs/adding-a-job.md's table of class attributes is what BaseCronJobCommand declares."""

from __future__ import annotations

import datetime
import re

from tests.markdown import DOCS, code_spans, tables
from utils.cronjob import BaseCronJobCommand
from utils.registry import RESOURCE_CLASSES

DOC = DOCS / "adding-a-job.md"
DJANGO_S = {"requires_system_checks"}  # BaseCommand's, set by the base for every job


def _value(cell: str) -> object:
    if cell == "(required)":
        return ""
    if match := re.fullmatch(r"(\d+) (minute|hour)s?", cell):
        return datetime.timedelta(**{f"{match.group(2)}s": int(match.group(1))})
    return {"`None`": None, "`False`": False, "`True`": True}.get(cell, cell.strip("`").strip('"'))


def test_the_attributes_table_is_the_base_class_s() -> None:
    table = next(t for t in tables(DOC) if t.header[:2] == ["attribute", "default"])
    rows = {code_spans(row.cells[0])[0]: row for row in table.rows}
    declared = set(BaseCronJobCommand.__annotations__) - DJANGO_S
    assert set(rows) == declared, f"{table.place}: the base class declares {sorted(declared)}"
    for name, row in rows.items():
        default = row.cells[1].split(" (")[0]  # "`None` (required when scheduled)"
        actual = getattr(BaseCronJobCommand, name)
        assert _value(default) == actual, f"{row.place}: {name} defaults to {actual!r}"


def test_the_resource_classes_are_the_registry_s() -> None:
    row = next(
        row
        for t in tables(DOC)
        if t.header[:2] == ["attribute", "default"]
        for row in t.rows
        if "`resource_class`" in row.cells[0]
    )
    found = re.findall(r"`(\w+)` (\d+)/(\d+) MiB", row.cells[2])
    stated = {name: (f"{low}Mi", f"{high}Mi") for name, low, high in found}
    actual = {name: (r["requests"]["memory"], r["limits"]["memory"]) for name, r in RESOURCE_CLASSES.items()}
    assert stated == actual, f"{row.place}: the classes are {actual}"
