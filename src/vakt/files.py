"""The hub's files are its own: a database, media and outboxes readable by other local users would leak
the home's history, so processes that write them run with umask 077 and the data folder is 0700."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077


def private_files() -> None:
    """From now on this process creates files 0600 and folders 0700 (call at the start of a command)."""
    os.umask(PRIVATE_UMASK)


def private_folder(path: Path) -> None:
    """Create ``path`` (and parents) and make it 0700 even if it existed with looser permissions."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
