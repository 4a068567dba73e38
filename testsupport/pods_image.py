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
from dataclasses import dataclass
from pathlib import Path

from testsupport.pods_dockerfile import (
    BASE_IMAGES,
    WRITABLE,
    DockerfileError,
    Stage,
    context_files,
    copy_from_context,
    env_pairs,
    expand,
    stages,
)

DEBIAN_PYTHON = Path("/usr/bin/python3.11")
# What a build may take from this machine's environment to reach the package index (as
# `docker build` would through the daemon's network): proxies and the CA bundle.
NETWORK_ENV = re.compile(
    r"(?i)^(https?_proxy|no_proxy|PIP_CERT|PIP_INDEX_URL|PIP_EXTRA_INDEX_URL|SSL_CERT_FILE)$"
)


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
