"""docs/notifications.md's table of notice kinds is what the seed migration writes."""

from __future__ import annotations

import re

import pytest

from notifications.models import NoticeKind
from tests.markdown import DOCS, code_spans, tables

DOC = DOCS / "notifications.md"


@pytest.mark.django_db
def test_the_notice_kinds_table_is_the_seeded_kinds() -> None:
    table = next(t for t in tables(DOC) if t.header[:2] == ["key", "email"])
    documented = {}
    for row in table.rows:
        flags = tuple(cell == "✓" for cell in row.cells[1:4])
        for key in code_spans(row.cells[0]):
            documented[key] = (*flags, row.cells[4])
            assert re.fullmatch(r"[a-z_]+", key), f"{row.place}: {key!r} is no kind key"
    seeded = {k.key: (k.email, k.sms, k.slack, k.sms_quiet_hours) for k in NoticeKind.objects.all()}
    assert seeded, "the test database has no seeded notice kinds"
    wrong = [
        f"{key}: documented {documented.get(key)}, seeded {seeded.get(key)}"
        for key in seeded | documented
        if documented.get(key) != seeded.get(key)
    ]
    assert not wrong, f"{table.place} (email, SMS offered, Slack, SMS in quiet hours):\n" + "\n".join(wrong)
