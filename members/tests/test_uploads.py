"""Storage names: unguessable, and never a member's name."""

from __future__ import annotations

import re

import pytest

from members.uploads import document_path, entropy_name, safe_extension

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


def test_document_path_keeps_only_a_plain_extension_and_no_name() -> None:
    path = document_path(None, "Jane Doe - Medical Certificate.PDF")
    assert re.fullmatch(rf"documents/{TOKEN}\.pdf", path)
    assert "Jane" not in path and "Doe" not in path
    assert document_path(None, "x.pdf") != document_path(None, "x.pdf")


@pytest.mark.parametrize(
    ("filename", "extension"),
    [
        ("scan.jpeg", ".jpeg"),
        ("archive.tar.gz", ".gz"),
        ("no-extension", ""),
        ("evil.ph p", ""),
        ("weird.<script>", ""),
        ("C:\\Users\\jane\\licence.Png", ".png"),
        (".bashrc", ""),
        ("x.averyveryverylongextension", ""),
    ],
)
def test_safe_extension(filename: str, extension: str) -> None:
    assert safe_extension(filename) == extension
    assert re.fullmatch(rf"documents/{TOKEN}{re.escape(extension)}", document_path(object(), filename))
