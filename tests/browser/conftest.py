"""Browser test fixtures: the real system in a subprocess and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.system import launch
from vakt.hub.app import ROUTERS

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def chromium_args(assets: Path) -> list[str]:
    return [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={assets / 'audio' / 'speech_16k_mono.wav'}",
        "--autoplay-policy=no-user-gesture-required",
    ]


def hub_paths() -> set[str]:
    """Every HTTP and WebSocket path the hub serves in this tree (to skip tests whose API never landed)."""
    return {getattr(route, "path", "") for router in ROUTERS for route in router.routes}


def require(*paths: str) -> None:
    missing = [p for p in paths if p not in hub_paths()]
    if missing:
        pytest.skip(f"hub API not in this tree: {', '.join(missing)}")


@dataclass
class System:
    url: str
    info: dict[str, Any]
    process: subprocess.Popen[bytes]
    log: Path
    ids: dict[str, int] = field(default_factory=dict)
    toasts: list[dict[str, Any]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory, assets: Path) -> Iterator[System]:
    """Broker, hub with the web app, gateway + lock and a camera streaming people_indoor_768x432.mp4."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium")
    data = tmp_path_factory.mktemp("system")
    cache = Path(os.environ.get("VAKT_TEST_CACHE", REPO / ".pytest_cache" / "vakt-camera-cache"))
    cache.mkdir(parents=True, exist_ok=True)
    log = data / "system.log"
    video = assets / "video" / "people_indoor_768x432.mp4"
    process, info = launch(data, video, cache, assets / "models" / "yolox_nano", log)
    yield System(info["url"], info, process, log)
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def browser(assets: Path) -> Iterator[Any]:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=chromium_args(assets)
        )
        yield chromium
        chromium.close()


def new_page(browser: Any, *, width: int = 1280, height: int = 860) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="dark")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def register_and_sign_in(page: Any, url: str, username: str) -> None:
    page.goto(url + "/register")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def screenshot_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """A failed test leaves a screenshot of the owner's page in .pytest_cache/browser-failures/."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed or "owner" not in request.fixturenames:
        return
    folder = REPO / ".pytest_cache" / "browser-failures"
    folder.mkdir(parents=True, exist_ok=True)
    page = request.getfixturevalue("owner")
    page.screenshot(path=str(folder / f"{request.node.name}.png"), full_page=True)
