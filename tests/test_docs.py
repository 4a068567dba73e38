"""What the README promises about exit codes is what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from utils.exitcodes import ExitCode

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_exit_code_table_matches_the_code() -> None:
    text = README.read_text()
    table = text.split("## Exit codes", 1)[1].split("##", 1)[0]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    assert documented == {int(code) for code in ExitCode}


def test_the_runbook_exit_code_table_matches_the_code() -> None:
    text = (README.parent / "docs" / "operations.md").read_text()
    table = text.split("## Reading an exit code", 1)[1].split("##", 1)[0]
    documented = {
        int(code) for cell in re.findall(r"^\| ([\d /]+) \|", table, flags=re.M) for code in cell.split("/")
    }
    assert documented == {int(code) for code in ExitCode}
