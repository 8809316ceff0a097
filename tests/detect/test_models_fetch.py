"""``vakt models fetch``: a real HTTP download from a local server, sha256-verified, written atomically."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vakt.detect.models import FetchError, ModelRelease, fetch, find_model


@pytest.fixture
def model_server(model_path: Path) -> Iterator[str]:
    """A local HTTP server publishing the shared model folder (the tests have no internet)."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(model_path.parent))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _release(url: str, sha256: str) -> ModelRelease:
    return ModelRelease(name="yolox_nano", url=url, sha256=sha256, filename="yolox_nano_416x416.onnx")


def test_fetch_downloads_verifies_and_places_the_model(
    model_server: str, model_path: Path, tmp_path: Path
) -> None:
    sha = hashlib.sha256(model_path.read_bytes()).hexdigest()
    dest = tmp_path / "models"
    path = fetch(_release(f"{model_server}/{model_path.name}", sha), dest, show_progress=False)
    assert path.read_bytes() == model_path.read_bytes()
    assert find_model(dest) == path
    assert [p.name for p in dest.iterdir()] == [path.name]  # no partial file left behind
    # a second fetch finds the verified file and downloads nothing
    assert fetch(_release("http://127.0.0.1:9/unreachable", sha), dest, show_progress=False) == path


def test_fetch_with_a_wrong_hash_writes_nothing(model_server: str, model_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "models"
    with pytest.raises(FetchError, match="does not match"):
        fetch(_release(f"{model_server}/{model_path.name}", "0" * 64), dest, show_progress=False)
    assert list(dest.iterdir()) == []
    assert find_model(dest) is None


def test_fetch_of_a_missing_file_or_dead_server_fails_clearly(model_server: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(_release(f"{model_server}/nope.onnx", "0" * 64), tmp_path, show_progress=False)
    with pytest.raises(FetchError, match="failed"):
        fetch(_release("http://127.0.0.1:9/x.onnx", "0" * 64), tmp_path, show_progress=False, timeout=2)
    assert not list(tmp_path.glob("*.part"))
