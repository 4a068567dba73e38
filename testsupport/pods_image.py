"""The image, as the Dockerfile builds it, without Docker: a folder per stage, every instruction
read from the Dockerfile and carried out under bubblewrap.

A stage's filesystem is the base image's (Debian's ``/usr`` of this machine, read-only, with
Python in ``/usr/local/bin`` as in the official python images) plus writable folders of its own
for ``/etc`` (a copy of this machine's, where ``useradd`` may write), ``/opt``, ``/app`` and
``/tmp``. ``RUN`` runs its shell line there as root with the stage's ``ENV`` and ``WORKDIR``;
``COPY`` copies from the build context (honouring ``.dockerignore``) or from an earlier stage.
The pods then see the final stage's folders read-only (``testsupport.pods``).

Python is Debian's ``/usr/bin/python3`` (3.11, like the image's): the pyenv Python of a
development machine lives under ``/root``, which user 10001 can't read. The build stage (its
virtualenv of the runtime requirements) is cached under ``build/pods/`` by the hash of its
instructions and of the files it copies; the final stage is built afresh on every run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

DEBIAN_PYTHON = Path("/usr/bin/python3.11")
# The environment the base images set (docker inspect), which the Dockerfile's ENV builds on.
BASE_IMAGES = {
    "python:3.11-slim-bookworm": {
        "PATH": "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
    },
}
# The folders a stage may write; the rest of its filesystem is the base image, read-only.
WRITABLE = ("etc", "opt", "app", "tmp")
# What a build may take from this machine's environment to reach the package index (as
# `docker build` would through the daemon's network): proxies and the CA bundle.
NETWORK_ENV = re.compile(
    r"(?i)^(https?_proxy|no_proxy|PIP_CERT|PIP_INDEX_URL|PIP_EXTRA_INDEX_URL|SSL_CERT_FILE)$"
)


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


# --- The build -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """The final stage: the folders a pod sees read-only, and the image's configuration."""

    root: Path  # etc/, opt/, app/: the stage's own folders
    python: Path  # usr-local/: /usr/local of the image (python, as the official images have it)
    env: dict[str, str]
    workdir: str
    user: str | None
    entrypoint: list[str] | None
    cmd: list[str] | None


def base_sandbox(usr_local: Path) -> list[str]:
    """The base image's read-only system: this machine's Debian /usr, Python in /usr/local/bin."""
    return [
        *("--ro-bind", "/usr", "/usr"),
        *("--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin"),
        *("--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64"),
        *("--ro-bind", str(usr_local), "/usr/local"),
        *("--proc", "/proc", "--dev", "/dev"),
    ]


def python_shims(workspace: Path) -> Path:
    """/usr/local of the image: bin/python* -> Debian's Python 3.11."""
    usr_local = workspace / "usr-local"
    (usr_local / "bin").mkdir(parents=True, exist_ok=True)
    for name in ("python", "python3", "python3.11"):
        link = usr_local / "bin" / name
        if not link.is_symlink():
            link.symlink_to(DEBIAN_PYTHON)
    return usr_local


@dataclass
class Running:
    """A stage's ENV and WORKDIR as its instructions run, one after the other."""

    env: dict[str, str]
    workdir: str = "/"


def run_in_stage(stage: Stage, usr_local: Path, now: Running, line: str) -> None:
    """RUN: the shell line as root in the stage, with its ENV and WORKDIR and the network."""
    env = {**now.env, "HOME": "/root", "PIP_CONFIG_FILE": "/dev/null"}  # not this machine's pip.conf
    env.update({k: v for k, v in os.environ.items() if NETWORK_ENV.match(k)})
    binds = [arg for name in WRITABLE for arg in ("--bind", str(stage.root / name), f"/{name}")]
    command = [
        "bwrap",
        *("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session"),
        *base_sandbox(usr_local),
        *binds,
        *("--tmpfs", "/root", "--tmpfs", "/var", "--tmpfs", "/run"),
        "--clearenv",
        *(arg for key, value in env.items() for arg in ("--setenv", key, value)),
        *("--chdir", now.workdir),
        *("/bin/sh", "-c", line),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"RUN {line}\nexit {result.returncode}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )


def copy_in_stage(stage: Stage, built: dict[str, Stage], context: Path, now: Running, arguments: str) -> None:
    words = shlex.split(arguments)
    flags = {w.split("=", 1)[0]: w.partition("=")[2] for w in words if w.startswith("--")}
    paths = [expand(w, now.env) for w in words if not w.startswith("--")]
    *sources, destination = paths
    if set(flags) - {"--from", "--chown"} or flags.get("--chown", "root:root") not in ("root:root", "0:0"):
        raise DockerfileError(f"COPY {arguments}: only --from and --chown=root:root are supported")
    into = destination.endswith("/") or len(sources) > 1
    target = stage.path(str(Path(now.workdir, destination)))
    for source in sources:
        if "--from" not in flags:
            copy_from_context(context, source, target, into)
            continue
        origin = built[flags["--from"]].path(source)
        if origin.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-al", f"{origin}/.", str(target)], check=True)  # hard links: fast
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / origin.name if into else target)


def stage_key(stage: Stage, keys: dict[str, str], context: Path) -> str:
    """What the stage's result depends on: its base, instructions and the files it copies."""
    digest = hashlib.sha256(f"{stage.base}\n{DEBIAN_PYTHON.resolve()}\n".encode())
    digest.update(json.dumps(stage.env, sort_keys=True).encode())
    files = context_files(context)
    for instruction in stage.instructions:
        digest.update(f"{instruction.keyword} {instruction.arguments}\n".encode())
        if instruction.keyword != "COPY":
            continue
        words = shlex.split(instruction.arguments)
        origin = next((w.partition("=")[2] for w in words if w.startswith("--from=")), None)
        if origin is not None:
            digest.update(keys[origin].encode())
            continue
        for source in [w for w in words if not w.startswith("--")][:-1]:
            prefix = "" if source in (".", "./") else source.strip("/")
            for relative in files:
                if not prefix or relative == prefix or relative.startswith(prefix + "/"):
                    digest.update(
                        relative.encode() + hashlib.sha256((context / relative).read_bytes()).digest()
                    )
    return digest.hexdigest()[:16]


def build_stage(stage: Stage, built: dict[str, Stage], context: Path, usr_local: Path) -> None:
    """Carry out the stage's instructions in its (empty) folders."""
    for name in WRITABLE:
        (stage.root / name).mkdir(parents=True)
    subprocess.run(["cp", "-a", "/etc/.", str(stage.root / "etc")], check=True)  # the base image's /etc
    now = Running(env=dict(BASE_IMAGES[stage.base]))
    for instruction in stage.instructions:
        keyword, arguments = instruction.keyword, instruction.arguments
        if keyword == "ENV":
            now.env.update(env_pairs(arguments, now.env))
        elif keyword == "WORKDIR":
            now.workdir = str(Path(now.workdir, expand(arguments, now.env)))
            if now.workdir != "/":
                stage.path(now.workdir).mkdir(parents=True, exist_ok=True)
        elif keyword == "RUN":
            run_in_stage(stage, usr_local, now, arguments)
        else:
            copy_in_stage(stage, built, context, now, arguments)


def build_image(dockerfile: Path, context: Path, workspace: Path) -> Image:
    """Build every stage the Dockerfile names (each cached by its key), return the last."""
    usr_local = python_shims(workspace)
    built: dict[str, Stage] = {}
    keys: dict[str, str] = {}
    for stage in stages(dockerfile.read_text()):
        keys[stage.name] = stage_key(stage, keys, context)
        stage.root = workspace / f"stage-{stage.name}-{keys[stage.name]}"
        if not stage.root.is_dir():
            for old in workspace.glob(f"stage-{stage.name}-*"):
                shutil.rmtree(old, ignore_errors=True)  # an older build of this stage
            partial = stage.root.with_name(stage.root.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            stage.root, final_root = partial, stage.root
            build_stage(stage, built, context, usr_local)
            partial.rename(final_root)
            stage.root = final_root
        built[stage.name] = stage
    final = list(built.values())[-1]
    return Image(final.root, usr_local, final.env, final.workdir, final.user, final.entrypoint, final.cmd)
