"""Storage names: unguessable, and never a member's name."""

from __future__ import annotations

import re

import pytest

from members.uploads import entropy_name

TOKEN = r"[A-Za-z0-9_-]{22,}"


def test_entropy_name_has_the_prefix_a_long_random_part_and_the_suffix() -> None:
    name = entropy_name("reports/duty-delinquents/2026-12-01", ".csv")
    assert re.fullmatch(rf"reports/duty-delinquents/2026-12-01-{TOKEN}\.csv", name)


def test_entropy_names_do_not_repeat() -> None:
    names = {entropy_name("reports/x", ".csv") for _ in range(200)}
    assert len(names) == 200


@pytest.mark.parametrize("prefix", ["", "/etc/passwd", "reports/../secrets"])
def test_entropy_name_refuses_a_prefix_outside_the_storage(prefix: str) -> None:
    with pytest.raises(ValueError, match="relative path"):
        entropy_name(prefix, ".csv")


@pytest.mark.parametrize("suffix", ["csv", ".c/sv", ".tar.gz", "../x"])
def test_entropy_name_refuses_an_odd_suffix(suffix: str) -> None:
    with pytest.raises(ValueError, match="extension"):
        entropy_name("reports/x", suffix)


def test_entropy_name_accepts_no_suffix() -> None:
    assert re.fullmatch(rf"reports/x-{TOKEN}", entropy_name("reports/x", ""))
