"""Renders the web app's main screens at phone and desktop sizes into docs/screenshots/ (scripts/screenshots).

Starts the real system (tests/browser/system.py), signs up, adds the camera, gateway and lock by QR, adds
a door code at the lock's keypad and opens the door with it, waits for a person alert, then shoots.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from rich.console import Console

from tests.browser.conftest import CHROMIUM, chromium_args, new_page, register_and_sign_in
from tests.browser.system import launch

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO.parent / "shared" / "assets"
SIZES = {
    "desktop": ({"width": 1280, "height": 820}, "dark"),
    "phone": ({"width": 390, "height": 844}, "light"),
}
console = Console()


def prepare(page: Any, info: dict[str, Any]) -> dict[str, int]:
    base = info["url"]
    register_and_sign_in(page, base, "alice")
    for qr, name, gateway in [
        (info["camera_qr"], "Front yard", None),
        (info["gateway_qr"], "Hall gateway", None),
        (info["lock_qr"], "Front door", "Hall gateway"),
    ]:
        page.click("#add-device")
        page.fill("#qr-payload", qr)
        page.fill("#device-name", name)
        if gateway:
            page.select_option("#gateway-select", label=gateway)
        page.click("#add-device-submit")
        page.wait_for_selector(f".device-card:has-text('{name}')")
    ids = {
        name: int(page.get_attribute(f".device-card:has-text('{name}')", "data-device-id"))
        for name in ("Front yard", "Hall gateway", "Front door")
    }
    page.wait_for_selector(".device-card:has-text('Front door') [data-chip=lock]", timeout=30_000)
    page.goto(f"{base}/devices/{ids['Front door']}/panel")
    page.wait_for_timeout(500)
    if not page.locator("#keypad.awake").count():
        page.click("#keypad [data-key='5']")
        page.wait_for_selector("#keypad.awake")
    for key in "3571#12#246810#246810#*246810#":
        page.click(f"#keypad [data-key='{key}']")
    page.wait_for_selector("#motor-state:has-text('unlocked')")
    page.wait_for_timeout(6000)  # relocks by itself (L8.3)
    return ids


def shoot(browser: Any, info: dict[str, Any], ids: dict[str, int], out: Path, state: Any) -> None:
    base = info["url"]
    screens = [
        ("devices", "/", ".device-card .device-thumb"),
        ("camera-live", f"/devices/{ids['Front yard']}", ".player.playing"),
        ("history", f"/devices/{ids['Front yard']}/history", "#playback.playing"),
        ("lock", f"/devices/{ids['Front door']}", "#lock-log .log-entry"),
        ("lock-panel", f"/devices/{ids['Front door']}/panel", "#keypad"),
        ("notifications", "/notifications", "#notification-list .notif"),
        ("settings", f"/devices/{ids['Front yard']}/settings", "[data-group] .setting-row"),
    ]
    for size, (viewport, scheme) in SIZES.items():
        context = browser.new_context(
            viewport=viewport, color_scheme=scheme, storage_state=state, device_scale_factor=1
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        for name, path, ready in screens:
            page.goto(base + path)
            page.wait_for_selector(ready)
            page.wait_for_timeout(1200)  # images, fonts and the first video frames settle
            page.evaluate("() => document.querySelectorAll('.toast').forEach((t) => t.remove())")
            target = out / f"{name}-{size}.png"
            page.screenshot(path=str(target))
            console.log(f"[green]{target.relative_to(REPO)}")
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cache = REPO / ".pytest_cache" / "vakt-camera-cache"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vakt-shots-") as tmp:
        data = Path(tmp)
        with console.status("starting the system (broker, hub, gateway + lock, camera)…"):
            process, info = launch(
                data,
                ASSETS / "video" / "people_indoor_768x432.mp4",
                cache,
                ASSETS / "models" / "yolox_nano",
                data / "system.log",
            )
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=chromium_args(ASSETS)
                )
                page = new_page(browser)
                with console.status("adding devices, using the lock's keypad, waiting for a person alert…"):
                    ids = prepare(page, info)
                    deadline = time.monotonic() + 180  # person detection on a loaded machine
                    page.goto(info["url"] + "/notifications")
                    while not page.locator("#notification-list .notif").count():
                        if time.monotonic() > deadline:
                            tail = (data / "system.log").read_text(errors="replace")[-3000:]
                            raise RuntimeError(f"no notification arrived; the system's log ends:\n{tail}")
                        page.wait_for_timeout(1000)
                        page.reload()
                state = page.context.storage_state()
                shoot(browser, info, ids, args.out, state)
                browser.close()
        finally:
            process.terminate()
            process.wait(15)


if __name__ == "__main__":
    main()
