"""docs/demo-club.md says what seed_demo builds: the scale-1 counts and the findings it prints."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from tests.markdown import DOCS, tables

DOC = DOCS / "demo-club.md"


@pytest.fixture
def summary(db: None) -> str:
    out = StringIO()
    call_command("seed_demo", "--today", "2026-11-20", stdout=out)
    return out.getvalue()


def test_the_scale_1_row_is_what_seed_demo_builds(summary: str) -> None:
    table = next(
        t for t in tables(DOC) if t.header[:5] == ["scale", "members", "logsheets", "flights", "SPRs"]
    )
    row = next(row for row in table.rows if row.cells[0] == "1")
    documented = [int(cell.replace(",", "")) for cell in row.cells[1:5]]
    built = [
        int(re.search(rf"([\d,]+) {what}", summary).group(1).replace(",", ""))  # type: ignore[union-attr]
        for what in ("members", "logsheets", "flights", "student progress reports")
    ]
    assert documented == built, f"{row.place}: seed_demo --today 2026-11-20 builds {built}"


def test_the_expected_findings_block_is_what_seed_demo_prints(summary: str) -> None:
    text = DOC.read_text()
    block = re.search(r"```\n(Expected findings on 2026-11-20:\n.*?)```", text, flags=re.S)
    assert block, "docs/demo-club.md no longer shows the findings seed_demo prints"
    printed = summary[summary.index("Expected findings on") :]
    assert block.group(1).strip() == printed.strip()
