"""Every workload of the manifests run as its pod would, without a cluster: ``make pods``.

A pod is a bubblewrap sandbox (``bwrap``), started through ``setpriv`` as the user the pod's
securityContext names (10001), without capabilities and with no_new_privs, in its own user,
mount, PID (its command is PID 1), IPC and UTS namespaces (the pod's name as host name):

- the root filesystem is read-only and holds only what the image has: Debian's ``/usr``
  (``/bin``, ``/lib``… link into it), the image's ``/usr/local`` (Python), and the final
  stage's ``/etc``, ``/opt`` (the virtualenv of the runtime requirements) and ``/app``
  (``testsupport.pods_image``); the kubelet's ``/etc/hosts``, ``/etc/hostname`` and this
  machine's ``/etc/resolv.conf``;
- the pod's volumes: an ``emptyDir`` is a writable folder (its use checked against its
  ``sizeLimit``), a Secret or projected volume is a read-only folder laid out as the kubelet
  writes it (``..data`` links), files owned by root and the pod's fsGroup, in the volume's mode
  (``testsupport.pods_volumes``);
- the environment is the image's ENV, the ConfigMaps through ``envFrom``, then ``env`` with the
  fieldRefs filled in (``testsupport.pods_spec``);
- a Deployment's pod gets a network namespace of its own (its port can't clash with anything
  on a shared machine); a Job's pod shares this machine's, to reach the loopback stand-ins.
  PostgreSQL's unix socket folder is bound in, so every pod reaches the database by its socket.

While a pod runs, the peak memory of all its processes together is sampled from /proc: the
largest sum of their resident sets, and the sum of each process's own peak (VmHWM), which bounds
it from above (``testsupport.pods_memory``). A pod's clock, when its caller says when the pod
starts (a CronJob's pod at its slot, as the controller starts it), is libfaketime's offset
(LD_PRELOAD): the one thing a pod gets that its manifest does not give it.
"""

from __future__ import annotations

import datetime
import glob
import json
import os
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testsupport.databases import REPO
from testsupport.pods_image import Image, base_sandbox
from testsupport.pods_memory import TreeMemory
from testsupport.pods_spec import (
    PodMeta,
    PodSpecError,
    Workload,
    argv,
    configmaps,
    container_env,
    pod_meta,
    quantity,
)
from testsupport.pods_volumes import folder_size, make_volume

# The database's unix socket, as the pods' route to it.
POSTGRES_SOCKET_DIR = "/var/run/postgresql"


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int
    groups: tuple[int, ...]


def identity(spec: dict[str, Any], container: dict[str, Any], image: Image) -> Identity:
    """The user, group and supplementary groups, as the kubelet resolves the securityContexts;
    what this reproduction can't honour (a writable root, added capabilities) is an error."""
    pod, own = spec.get("securityContext", {}), container.get("securityContext", {})
    image_uid, _, image_gid = (image.user or "0").partition(":")
    uid = int(own.get("runAsUser", pod.get("runAsUser", image_uid)))
    gid = int(own.get("runAsGroup", pod.get("runAsGroup", image_gid or 0)))
    if own.get("runAsNonRoot", pod.get("runAsNonRoot")) and uid == 0:
        raise PodSpecError("runAsNonRoot, but the container would run as root (the kubelet refuses it)")
    if own.get("readOnlyRootFilesystem") is not True:
        raise PodSpecError("only a readOnlyRootFilesystem is reproduced here")
    if own.get("privileged") or own.get("capabilities", {}).get("add"):
        raise PodSpecError("privileged containers and added capabilities are not reproduced here")
    groups = [pod["fsGroup"]] if "fsGroup" in pod else []
    return Identity(uid, gid, tuple(dict.fromkeys([*groups, *pod.get("supplementalGroups", [])])))


def home_of(image: Image, uid: int) -> str:
    """HOME as the container runtime sets it: the image's /etc/passwd entry of the user, else /."""
    for line in (image.root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if len(fields) > 5 and fields[2] == str(uid):
            return fields[5]
    return "/"


def read_child_pid(descriptor: int, timeout: float = 30) -> int | None:
    """The sandboxed process's PID, from bwrap's --info-fd (None if it never started)."""
    data, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([descriptor], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(descriptor, 4096) if ready else b""
            if not chunk:
                return None
            data += chunk
            try:
                return int(json.loads(data)["child-pid"])
            except json.JSONDecodeError:
                continue
        return None
    finally:
        os.close(descriptor)


# --- Pods -------------------------------------------------------------------------------------


@dataclass
class PodResult:
    name: str
    job_name: str | None
    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss: int
    peak_bound: int
    memory_limit: int | None
    writable_used: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # mount: (bytes, limit)

    def json_lines(self) -> list[dict[str, Any]]:
        """The JSON log lines (CRONJOB_LOG_FORMAT=json) of stdout and stderr."""
        lines = []
        for line in (self.stdout + self.stderr).splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


@dataclass
class Cluster:
    """What the pods share: the image, the applied resources, the Secret's data."""

    image: Image
    resources: list[dict[str, Any]]
    secret: dict[str, str]
    workspace: Path

    def workload(self, name: str) -> Workload:
        from testsupport.pods_spec import workloads

        [found] = [w for w in workloads(self.resources) if w.name == name]
        return found

    def configmap(self, name: str) -> dict[str, str]:
        return configmaps(self.resources)[name]

    def pod(
        self, workload: Workload, command: list[str] | None = None, at: datetime.datetime | None = None
    ) -> Pod:
        return Pod(self, workload, command, at)

    def run(
        self,
        workload: Workload,
        command: list[str] | None = None,
        at: datetime.datetime | None = None,
        timeout: float = 600,
    ) -> PodResult:
        pod = self.pod(workload, command, at).start()
        return pod.wait(min(timeout, workload.deadline or timeout))


class Pod:
    """One pod of a workload; ``command`` replaces its container's (as `kubectl exec` would run
    another command in it); ``at`` is the pod's clock when it starts (default: this machine's)."""

    def __init__(
        self,
        cluster: Cluster,
        workload: Workload,
        command: list[str] | None = None,
        at: datetime.datetime | None = None,
    ) -> None:
        self.cluster, self.workload, self.at = cluster, workload, at
        template = workload.template
        self.spec: dict[str, Any] = template["spec"]
        if self.spec.get("initContainers") or len(self.spec["containers"]) != 1:
            raise PodSpecError(f"{workload.name}: one container and no init containers are reproduced here")
        self.container: dict[str, Any] = dict(self.spec["containers"][0])
        if command is not None:
            self.container = {**self.container, "command": command, "args": []}
        self.meta: PodMeta = pod_meta(workload, at or datetime.datetime.now(datetime.UTC))
        self.identity = identity(self.spec, self.container, cluster.image)
        self.folder = cluster.workspace / "pods" / self.meta.name
        self.own_network = workload.kind == "Deployment"
        self.process: subprocess.Popen[bytes] | None = None
        self.child_pid: int | None = None

    @property
    def memory_limit(self) -> int | None:
        limit = self.container.get("resources", {}).get("limits", {}).get("memory")
        return quantity(limit) if limit else None

    def environment(self) -> dict[str, str]:
        env = container_env(
            self.container, self.cluster.image, self.meta, self.spec, configmaps(self.cluster.resources)
        )
        env.setdefault("HOME", home_of(self.cluster.image, self.identity.uid))
        if self.at is not None:
            [library] = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
            offset = round((self.at - datetime.datetime.now(datetime.UTC)).total_seconds())
            # The monotonic clock is shifted too: with it left alone, libfaketime 0.9.10 makes
            # time.sleep() fail (EINVAL) in Python 3.11, which sleeps until a monotonic deadline.
            env.update(LD_PRELOAD=library, FAKETIME=f"{offset:+d}")
        return env

    def volume_binds(self) -> tuple[list[str], dict[str, tuple[Path, int | None]]]:
        """The bwrap arguments of the container's volumeMounts, and its writable mounts."""
        gid = self.identity.groups[0] if self.identity.groups else self.identity.gid
        volumes = {}
        for volume in self.spec.get("volumes", []):
            folder = self.folder / "volumes" / volume["name"]
            volumes[volume["name"]] = (folder, *make_volume(volume, folder, self.cluster.secret, gid))
        binds: list[str] = []
        writable: dict[str, tuple[Path, int | None]] = {}
        for mount in self.container.get("volumeMounts", []):
            if "subPath" in mount or "subPathExpr" in mount:
                raise PodSpecError("subPath mounts are not reproduced here")
            folder, read_only, limit = volumes[mount["name"]]
            read_only = read_only or mount.get("readOnly", False)
            binds += ["--ro-bind" if read_only else "--bind", str(folder), mount["mountPath"]]
            if not read_only:
                writable[mount["mountPath"]] = (folder, limit)
        return binds, writable

    def kubelet_files(self) -> list[str]:
        """/etc/hosts and /etc/hostname as the kubelet writes them; the node's resolv.conf."""
        etc = self.folder / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "hosts").write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.0.1\t{self.meta.name}\n")
        (etc / "hostname").write_text(self.meta.name + "\n")
        for name in ("hosts", "hostname"):
            (etc / name).chmod(0o644)
        return [
            *("--ro-bind", str(etc / "hosts"), "/etc/hosts"),
            *("--ro-bind", str(etc / "hostname"), "/etc/hostname"),
            *("--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"),
        ]

    def command(self, info_fd: int, binds: list[str]) -> list[str]:
        image, who = self.cluster.image, self.identity
        groups = ["--groups", ",".join(map(str, who.groups))] if who.groups else ["--clear-groups"]
        env = self.environment()
        self.argv = argv(self.container, image, env)
        return [
            *("setpriv", "--reuid", str(who.uid), "--regid", str(who.gid), *groups),
            *("--no-new-privs", "--inh-caps=-all"),
            *("bwrap", "--unshare-all", *([] if self.own_network else ["--share-net"])),
            *("--die-with-parent", "--as-pid-1", "--new-session", "--hostname", self.meta.name),
            *base_sandbox(image.python),
            *(
                arg
                for name in ("etc", "opt", "app")
                for arg in ("--ro-bind", str(image.root / name), f"/{name}")
            ),
            *self.kubelet_files(),
            *("--dir", "/var/run", "--ro-bind", POSTGRES_SOCKET_DIR, POSTGRES_SOCKET_DIR),
            *binds,
            *("--remount-ro", "/"),
            "--clearenv",
            *(arg for key, value in env.items() for arg in ("--setenv", key, value)),
            *("--chdir", self.container.get("workingDir", image.workdir)),
            *("--info-fd", str(info_fd)),
            *self.argv,
        ]

    def start(self) -> Pod:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        binds, self.writable = self.volume_binds()
        read_end, write_end = os.pipe()
        self.stdout = (self.folder / "stdout").open("wb")
        self.stderr = (self.folder / "stderr").open("wb")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            self.command(write_end, binds), stdout=self.stdout, stderr=self.stderr, pass_fds=(write_end,)
        )
        os.close(write_end)
        self.memory = TreeMemory(self.process.pid)
        self.memory.start()
        self.child_pid = read_child_pid(read_end)
        if self.child_pid is None:
            self.wait(10)
            raise PodSpecError(
                f"{self.meta.name} did not start: {(self.folder / 'stderr').read_text()[-2000:]}"
            )
        return self

    def terminate(self, grace: float | None = None) -> PodResult:
        """Stop the pod as the kubelet does: SIGTERM to its PID 1, SIGKILL after the grace period."""
        grace = self.spec.get("terminationGracePeriodSeconds", 30) if grace is None else grace
        assert self.process is not None and self.child_pid is not None
        if self.process.poll() is None:
            os.kill(self.child_pid, signal.SIGTERM)
        return self.wait(grace, kill_after=True)

    def wait(self, timeout: float, kill_after: bool = True) -> PodResult:
        assert self.process is not None
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if not kill_after:
                raise
            if self.child_pid is not None:
                os.kill(self.child_pid, signal.SIGKILL)
            code = self.process.wait(timeout=30)
        self.memory.stop()
        self.stdout.close()
        self.stderr.close()
        return PodResult(
            name=self.meta.name,
            job_name=self.meta.job_name,
            argv=self.argv,
            exit_code=code,
            stdout=(self.folder / "stdout").read_text(errors="replace"),
            stderr=(self.folder / "stderr").read_text(errors="replace"),
            seconds=time.monotonic() - self.started,
            peak_rss=self.memory.peak_rss,
            peak_bound=self.memory.peak_bound,
            memory_limit=self.memory_limit,
            writable_used={
                path: (folder_size(folder), limit) for path, (folder, limit) in self.writable.items()
            },
        )

    def in_network(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a command of this machine inside the pod's network namespace (as a probe would
        reach the pod's IP): ``python -m testsupport.pods_http …`` against its port."""
        assert self.child_pid is not None
        return subprocess.run(
            ["nsenter", f"--net=/proc/{self.child_pid}/ns/net", *args],
            cwd=REPO,  # so `python -m testsupport.…` finds the module
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
