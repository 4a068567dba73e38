"""What a build made and what the scheduled jobs should find in it, and the summary that says so."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Findings:
    """What the scheduled jobs report about one section (multiply by the scale)."""

    aging_logsheets: int = 1
    final_sprs: int = 1
    delinquents: int = 19
    briefings_tomorrow: int = 1
    ad_hoc_to_expire: int = 1
    open_issues: int = 3
    grounding_issues: int = 1
    overdue_deadlines: int = 1
    deadlines_within_30_days: int = 2

    def times(self, n: int) -> Findings:
        return Findings(**{name: value * n for name, value in asdict(self).items()})


SECTION_FINDINGS = Findings()


@dataclass
class SectionReport:
    """The notable rows of one section, for the summary."""

    members: int = 0
    delinquents: int = 0
    aging: str = ""
    late_spr: str = ""
    tomorrow: str = ""
    ad_hoc: str = ""
    counts: Counter[str] = field(default_factory=Counter)


@dataclass
class DemoClub:
    scale: int
    seed: int
    today: datetime.date
    seconds: float
    counts: Counter[str]
    findings: Findings
    example: SectionReport


def summary_lines(club: DemoClub) -> list[str]:
    c, f, e = club.counts, club.findings, club.example
    where = "" if club.scale == 1 else f" ({club.scale} sections; examples from the first)"
    return [
        f"Built the demo club in {club.seconds:.1f}s "
        f"(seed {club.seed}, scale {club.scale}, today {club.today}):",
        f"  {c['Member']:,} members, {c['Airfield']:,} airfields, {c['Glider']:,} gliders, "
        f"{c['Towplane']:,} towplanes",
        f"  {c['Logsheet']:,} logsheets, {c['Flight']:,} flights, "
        f"{c['InstructionReport']:,} student progress reports",
        f"  {c['DutyAssignment']:,} roster days, {c['MaintenanceIssue']:,} maintenance issues, "
        f"{c['MaintenanceDeadline']:,} deadlines, {c['AircraftMeister']:,} aircraft meisters",
        f"Expected findings on {club.today}{where}:",
        f"  notify_aging_logsheets   {f.aging_logsheets:,} logsheet(s) not finalized, more than 7 days old "
        f"({e.aging})",
        f"  notify_late_sprs         {f.final_sprs:,} overdue student progress report(s), FINAL level "
        f"({e.late_spr})",
        f"  report_duty_delinquents  {f.delinquents:,} members who flew in the last 12 months without duty",
        f"  send_duty_preop_emails   {f.briefings_tomorrow:,} briefing(s) for tomorrow ({e.tomorrow})",
        f"  expire_ad_hoc_days       {f.ad_hoc_to_expire:,} unconfirmed ad-hoc day(s) tomorrow ({e.ad_hoc})",
        f"  send_maintenance_digest  {f.open_issues:,} open issues ({f.grounding_issues:,} grounding), "
        f"{f.overdue_deadlines:,} overdue deadline(s), {f.deadlines_within_30_days:,} due within 30 days",
    ]
