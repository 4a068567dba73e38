"""A pod's volumes as the kubelet makes them: an ``emptyDir`` is an empty folder anyone may write
(mode 0777); a Secret or projected volume is laid out as the kubelet's atomic writer lays it out
(the files in a timestamped folder, ``..data`` linking to it, each name linking through
``..data``), owned by root and the pod's fsGroup, in the volume's mode. A key the Secret lacks
stops the pod, unless its source is optional.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from testsupport.pods_spec import PodSpecError, quantity


def write_atomically(directory: Path, files: dict[str, tuple[bytes, int]], gid: int) -> None:
    """The kubelet's layout of a Secret or ConfigMap volume: the files in a timestamped folder,
    ``..data`` linking to it, and each top-level name linking through ``..data``."""
    stamp = directory / f"..{datetime.datetime.now(datetime.UTC):%Y_%m_%d_%H_%M_%S.%f}"
    stamp.mkdir(parents=True)
    for relative, (content, mode) in files.items():
        target = stamp / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.chown(target, 0, gid)
        target.chmod(mode)
    (directory / "..data").symlink_to(stamp.name)
    for top in {relative.split("/")[0] for relative in files}:
        (directory / top).symlink_to(f"..data/{top}")
    for folder in (directory, stamp):
        os.chown(folder, 0, gid)
        folder.chmod(0o755)


def secret_files(source: dict[str, Any], data: dict[str, str], mode: int) -> dict[str, tuple[bytes, int]]:
    """The files of a Secret (or projected secret source); a missing key stops the pod unless
    the source is optional, as in the kubelet."""
    items = source.get("items") or [{"key": key, "path": key} for key in data]
    files = {}
    for item in items:
        if item["key"] not in data:
            if source.get("optional"):
                continue
            raise PodSpecError(f"the Secret has no key {item['key']} (the pod would not start)")
        files[item["path"]] = (data[item["key"]].encode(), int(item.get("mode", mode)))
    return files


def make_volume(
    volume: dict[str, Any], folder: Path, secret: dict[str, str], gid: int
) -> tuple[bool, int | None]:
    """Fill the volume's folder; return (read-only, size limit in bytes)."""
    if "emptyDir" in volume:
        folder.mkdir(parents=True)
        folder.chmod(0o777)  # the kubelet's mode for an emptyDir
        limit = volume["emptyDir"].get("sizeLimit")
        return False, quantity(limit) if limit else None
    if "secret" in volume:
        source = {**volume["secret"], "name": volume["secret"]["secretName"]}
        files = secret_files(source, secret, volume["secret"].get("defaultMode", 0o644))
    elif "projected" in volume:
        mode = volume["projected"].get("defaultMode", 0o644)
        files = {}
        for source in volume["projected"]["sources"]:
            if "secret" not in source:
                raise PodSpecError(f"projected source {sorted(source)} is not supported here")
            files.update(secret_files(source["secret"], secret, mode))
    else:
        raise PodSpecError(f"volume {volume['name']}: only emptyDir, secret and projected are supported")
    write_atomically(folder, files, gid)
    return True, None


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
