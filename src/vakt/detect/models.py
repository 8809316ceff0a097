"""Where the person model lives; ``vakt models fetch``: a pinned download, verified, written atomically."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelRelease:
    """A model file at a fixed address with the sha256 it must have."""

    name: str
    url: str
    sha256: str
    filename: str


# YOLOX-nano (Megvii, Apache-2.0), COCO 80 classes, 416x416, as exported in this commit of
# Kazuhito00/MOT-Tracking-by-Detection-Pipeline; the hash pins the exact bytes we test against.
YOLOX_NANO = ModelRelease(
    name="yolox_nano",
    url=(
        "https://github.com/Kazuhito00/MOT-Tracking-by-Detection-Pipeline/raw/"
        "16cf07242fc295317201419bc76c236705655171/Detector/yolox/model/yolox_nano.onnx"
    ),
    sha256="695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",
    filename="yolox_nano_416x416.onnx",
)
RELEASES = {YOLOX_NANO.name: YOLOX_NANO}


class FetchError(RuntimeError):
    """The download failed or did not match its pinned hash; nothing was written."""


def default_models_dir() -> Path:
    """The hub's models folder: ``$VAKT_MODELS_DIR``, else ``models`` in the hub's data folder."""
    from vakt.hub.settings import HubSettings  # the hub's own rule, so fetch and hub agree

    return HubSettings().models_dir


def find_model(models_dir: Path | None = None) -> Path | None:
    """The person model in ``models_dir``: the pinned file if present, else the only ``*.onnx`` there."""
    folder = models_dir or default_models_dir()
    pinned = folder / YOLOX_NANO.filename
    if pinned.is_file():
        return pinned
    found = sorted(folder.glob("*.onnx")) if folder.is_dir() else []
    return found[0] if found else None


def fetch(
    release: ModelRelease, dest_dir: Path, *, show_progress: bool = True, timeout: float = 60.0
) -> Path:
    """Download ``release`` into ``dest_dir`` unless already there; verify sha256; rename into place."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / release.filename
    if target.is_file() and sha256_of(target) == release.sha256:
        log.info("model %s already present at %s", release.name, target)
        return target
    fd, tmp_name = tempfile.mkstemp(prefix=f".{release.filename}.", suffix=".part", dir=dest_dir)
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with (
            os.fdopen(fd, "wb") as out,
            httpx.stream("GET", release.url, follow_redirects=True, timeout=timeout) as response,
        ):
            if response.status_code != 200:
                raise FetchError(f"GET {release.url}: HTTP {response.status_code}")
            total = int(response.headers.get("content-length", 0)) or None
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                disable=not show_progress,
            ) as progress:
                task = progress.add_task(f"fetching {release.name}", total=total)
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    digest.update(chunk)
                    progress.update(task, advance=len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != release.sha256:
            raise FetchError(
                f"{release.url}: sha256 {digest.hexdigest()} does not match the pinned {release.sha256}"
            )
        os.replace(tmp, target)
    except httpx.HTTPError as exc:
        raise FetchError(f"GET {release.url} failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    log.info("model %s saved to %s", release.name, target)
    return target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


models_app = typer.Typer(help="Person detection models.", no_args_is_help=True)


@models_app.command("fetch")
def fetch_command(
    name: Annotated[str, typer.Argument(help="model to fetch")] = YOLOX_NANO.name,
    dest: Annotated[Path | None, typer.Option(help="models folder (default: the hub's)")] = None,
) -> None:
    """Download a person model once, checking its pinned sha256."""
    release = RELEASES.get(name)
    if release is None:
        typer.echo(f"unknown model {name!r}; known: {', '.join(RELEASES)}", err=True)
        raise typer.Exit(2)
    try:
        path = fetch(release, dest or default_models_dir())
    except (FetchError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(str(path))
