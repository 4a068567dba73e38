"""The framework stands alone: utils/ names no other package of the project."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

UTILS = Path(__file__).resolve().parents[1]
ROOT = Path(settings.BASE_DIR)


def project_packages() -> set[str]:
    """Every top-level package of the checkout but the framework itself."""
    return {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"utils"}


def framework_files() -> list[Path]:
    files = [p for p in UTILS.rglob("*") if p.suffix in {".py", ".html", ".txt"}]
    return [p for p in files if "tests" not in p.relative_to(UTILS).parts]


def test_the_framework_names_no_other_project_package() -> None:
    packages = project_packages()
    assert {"members", "notifications", "operations", "duty_roster", "manage2soar"} <= packages
    names = "|".join(sorted(packages))
    # An import, or a dotted path in a string (import_string, a migration, a template).
    pattern = re.compile(rf"\b(?:from|import)\s+(?:{names})\b|\b(?:{names})\.[A-Za-z_]")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in framework_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_check_sees_a_dotted_path() -> None:
    names = "|".join(sorted(project_packages()))
    pattern = re.compile(rf"\b(?:from|import)\s+(?:{names})\b|\b(?:{names})\.[A-Za-z_]")
    assert pattern.search('CLOSURE_LOOKUP = "duty_roster.closures.closure_on"')
    assert pattern.search("    from operations import observability")
    assert not pattern.search("the club's members. Notifications go out")
