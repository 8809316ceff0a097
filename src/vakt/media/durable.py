"""Durable files: a media file and its folder entry reach the disk before anything points at them.

Every media file (segment, snapshot, clip) is written under a temporary name, fsynced, renamed to its
final name, and the folder is fsynced, so after a power cut the final name holds the whole file or
does not exist; only then may an index row be committed (the pattern of ``vakt.lock.persistence``).
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flush a file's (or a folder's) data and metadata to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(folder: Path) -> None:
    """`mkdir -p` whose new folder entries are themselves durable (each new folder's parent fsynced)."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    folder.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        fsync_path(created.parent)


def publish(temp: Path, final: Path) -> None:
    """Make a finished `temp` file durable under the name `final` (same folder): fsync, rename, fsync."""
    fsync_path(temp)
    os.replace(temp, final)
    fsync_path(final.parent)


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` durably: the old content or the new, never a torn file."""
    make_dirs(path.parent)
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with temp.open("wb") as out:
            out.write(data)
        publish(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
