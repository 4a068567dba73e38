"""The Dockerfile, read: its stages, each with its base image, ENV, WORKDIR, USER, CMD and
ENTRYPOINT and its instructions in order; and the build context as ``.dockerignore`` leaves it.
What this reading does not know is an error, so a Dockerfile that goes beyond it is noticed
(``testsupport.pods_image`` builds the stages).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

# The environment the base images set (docker inspect), which the Dockerfile's ENV builds on.
BASE_IMAGES = {
    "python:3.11-slim-bookworm": {
        "PATH": "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
    },
}
# The folders a stage may write; the rest of its filesystem is the base image, read-only.
WRITABLE = ("etc", "opt", "app", "tmp")


class DockerfileError(ValueError):
    """An instruction or argument this reading of the Dockerfile does not know."""


@dataclass
class Instruction:
    keyword: str
    arguments: str


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str | None = None
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    root: Path = Path()

    def path(self, inside: str) -> Path:
        """Where an absolute path of the stage lives on this machine (a writable folder only)."""
        parts = Path(inside).parts
        if len(parts) < 2 or parts[1] not in WRITABLE:
            raise DockerfileError(
                f"stage {self.name} writes {inside}: only {', '.join(WRITABLE)} are writable"
            )
        return self.root.joinpath(*parts[1:])


def instructions(text: str) -> list[Instruction]:
    """The Dockerfile's instructions: continuation lines joined, comments and blank lines dropped."""
    found, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        found.append(Instruction(keyword.upper(), arguments.strip()))
        pending = ""
    return found


def expand(value: str, env: dict[str, str]) -> str:
    """``$VAR`` and ``${VAR}`` from the stage's environment, as ENV, WORKDIR and COPY do."""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: env.get(m.group(1) or m.group(2), ""), value)


def env_pairs(arguments: str, env: dict[str, str]) -> dict[str, str]:
    words = shlex.split(arguments)
    if words and "=" not in words[0]:  # the legacy form: ENV KEY value with spaces
        return {words[0]: expand(" ".join(words[1:]), env)}
    return {key: expand(value, env) for key, _, value in (word.partition("=") for word in words)}


def exec_form(arguments: str) -> list[str]:
    if not arguments.startswith("["):
        return ["/bin/sh", "-c", arguments]
    value = json.loads(arguments)
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise DockerfileError(f"not an exec form: {arguments}")
    return value


def stages(text: str) -> list[Stage]:
    """Read the stages: FROM, ENV, WORKDIR, USER, CMD and ENTRYPOINT set a stage's facts; RUN and
    COPY are kept in order for the build; LABEL, EXPOSE, HEALTHCHECK change no file."""
    found: list[Stage] = []
    for instruction in instructions(text):
        keyword, arguments = instruction.keyword, instruction.arguments
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arguments, flags=re.I)
            if match is None:
                raise DockerfileError(f"FROM {arguments}")
            base, name = match.group(1), match.group(2) or str(len(found))
            if base not in BASE_IMAGES:
                raise DockerfileError(f"base image {base} is not known to testsupport/pods_image.py")
            found.append(Stage(name, base, env=dict(BASE_IMAGES[base])))
            continue
        if not found:
            raise DockerfileError(f"{keyword} before FROM")
        stage = found[-1]
        if keyword == "ENV":
            stage.env.update(env_pairs(arguments, stage.env))
            stage.instructions.append(instruction)
        elif keyword == "WORKDIR":
            stage.workdir = str(Path(stage.workdir, expand(arguments, stage.env)))
            stage.instructions.append(instruction)
        elif keyword == "USER":
            stage.user = arguments
        elif keyword in ("CMD", "ENTRYPOINT"):
            setattr(stage, keyword.lower(), exec_form(arguments))
        elif keyword in ("RUN", "COPY"):
            stage.instructions.append(Instruction(keyword, arguments))
        elif keyword not in ("LABEL", "EXPOSE", "HEALTHCHECK", "ARG"):
            raise DockerfileError(f"instruction {keyword} is not known to testsupport/pods_image.py")
    return found


# --- The build context ---------------------------------------------------------------------


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps a path out of the context (a match of the path or a parent)."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            result = not negate
    return result


def context_files(context: Path) -> list[str]:
    """The build context's files (relative paths), as `docker build` sends them."""
    ignore = context / ".dockerignore"
    patterns = (
        [
            line.strip()
            for line in ignore.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        if ignore.exists()
        else []
    )
    files = []
    for directory, subdirectories, names in os.walk(context):
        relative_dir = os.path.relpath(directory, context)
        prefix = "" if relative_dir == "." else relative_dir + "/"
        subdirectories[:] = [d for d in subdirectories if not ignored(prefix + d, patterns)]
        files += [prefix + n for n in names if not ignored(prefix + n, patterns)]
    return sorted(files)


def copy_from_context(context: Path, source: str, destination: Path, into: bool) -> None:
    """COPY from the build context: a file (into ``destination`` when ``into``, else as it), or
    a directory's contents into ``destination``."""
    if any(c in source for c in "*?["):
        raise DockerfileError(f"COPY {source}: wildcards are not supported here")
    files = context_files(context)
    source = "" if source in (".", "./") else source.strip("/")
    if source in files:
        target = destination / Path(source).name if into else destination
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(context / source, target)
        return
    inside = [f for f in files if not source or f.startswith(source + "/")]
    if not inside:
        raise DockerfileError(f"COPY {source}: not in the build context")
    for relative in inside:
        target = destination / relative[len(source) :].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(context / relative, target)
