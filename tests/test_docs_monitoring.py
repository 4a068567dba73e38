"""docs/monitoring.md's tables are what the code exports: the metrics, the alert rules, the alert
ledger's kinds."""

from __future__ import annotations

import datetime
import re

import pytest
import yaml

from operations.metrics import CronJobCollector
from tests.markdown import DOCS, ROOT, Table, code_spans, tables

DOC = DOCS / "monitoring.md"


def _table(first_two: list[str]) -> Table:
    found = [t for t in tables(DOC) if t.header[:2] == first_two]
    assert len(found) == 1, f"docs/monitoring.md must have one table | {' | '.join(first_two)} |"
    return found[0]


@pytest.mark.django_db
def test_the_metrics_table_is_what_metrics_exports() -> None:
    table = _table(["metric", "type"])
    documented = {re.sub(r"\{.*\}$", "", code_spans(row.cells[0])[0]): row.cells[1] for row in table.rows}
    exported = {}
    for family in CronJobCollector().collect():
        name = f"{family.name}_total" if family.type == "counter" else family.name
        exported[name] = family.type
    wrong_type = [(n, documented[n], t) for n, t in exported.items() if documented.get(n, t) != t]
    assert documented == exported, (
        f"{table.place}: documented but not exported: {sorted(set(documented) - set(exported))}; "
        f"exported but not documented: {sorted(set(exported) - set(documented))}; "
        f"(metric, documented type, type): {wrong_type}"
    )


def _for(text: str) -> str | None:
    """The ``for:`` a rule's documented expression states ("for 5 minutes", "for an hour")."""
    if match := re.search(r"for (\d+) minutes", text):
        return f"{match.group(1)}m"
    if "for an hour" in text:
        return "1h"
    return None


def test_the_alert_rules_table_is_the_rendered_prometheus_rule() -> None:
    table = _table(["alert", "expression (per job)"])
    rules_file = yaml.safe_load_all((ROOT / "k8s" / "monitoring" / "prometheusrule.yaml").read_text())
    rules = {
        rule["alert"]: rule
        for document in rules_file
        if document
        for group in document["spec"]["groups"]
        for rule in group["rules"]
    }
    documented = {code_spans(row.cells[0])[0]: row for row in table.rows}
    assert set(documented) == set(rules), f"{table.place}: the rules are {sorted(rules)}"
    for name, row in documented.items():
        assert row.cells[2] == rules[name]["labels"]["severity"], f"{row.place}: {name}'s severity"
        stated = _for(row.cells[1])
        assert stated == rules[name].get("for"), f"{row.place}: {name} fires after {rules[name].get('for')}"


def test_the_alert_ledger_kinds_are_the_code_s() -> None:
    table = _table(["problem", "ledger kind"])
    documented = {code_spans(row.cells[1])[0].split(":")[0] for row in table.rows}
    source = (ROOT / "operations" / "alerts.py").read_text()
    in_code = set(re.findall(r'kind=f"(\w+):', source))
    assert documented == in_code, f"{table.place}: the alerts' ledger kinds are {sorted(in_code)}"


def test_the_overdue_example_is_what_the_rule_gives() -> None:
    from operations.health import due_after
    from utils.registry import job_spec

    text = " ".join(DOC.read_text().split())
    match = re.search(
        r"Example: `(\w+)` \(`([^`]+)` UTC, (\d+) min deadline\) is due by (\d\d):(\d\d) UTC", text
    )
    assert match, "docs/monitoring.md no longer gives the overdue example"
    job, schedule, deadline, hour, minute = match.groups()
    spec = job_spec(job)
    assert (schedule, int(deadline)) == (spec.schedule, spec.deadline.total_seconds() // 60)
    slot_hour, slot_minute = int(spec.schedule.split()[1]), int(spec.schedule.split()[0])
    due = datetime.timedelta(hours=slot_hour, minutes=slot_minute) + due_after(spec)
    assert due == datetime.timedelta(hours=int(hour), minutes=int(minute)), (
        f"{job} is due {due} after midnight"
    )
