"""The web app in a real browser against the real system (A1-A8, C5-C9, L4-L8).

The tests run in order on one system: the first adds the devices the later ones use.
"""

from __future__ import annotations

import time
from typing import Any

import cv2
import httpx
import numpy as np
import pytest

from tests.browser.audio import best_match, read_wav
from tests.browser.conftest import PASSWORD, System, new_page, register_and_sign_in, require

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CODE = "135790"


# Records every toast the app shows (kind, text, image), across page loads, into Python.
TOAST_RECORDER = """
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) {
    if (n.nodeType === 1 && n.classList.contains("toast")) {
      const img = n.querySelector("img.toast-image");
      window.vaktToast(n.dataset.kind || "", n.innerText, img ? img.src : null);
    }
  }
}).observe(document, { childList: true, subtree: true });
"""


@pytest.fixture(scope="module")
def owner(browser: Any, system: System) -> Any:
    page = new_page(browser)
    page.context.expose_binding(
        "vaktToast",
        lambda _source, kind, text, image: system.toasts.append({"kind": kind, "text": text, "image": image}),
    )
    page.context.add_init_script(TOAST_RECORDER)
    # JavaScript errors of the whole walk (a refused request's "Failed to load resource" line is expected)
    page.on("pageerror", lambda err: system.console_errors.append(f"uncaught: {err}"))
    page.on("console", lambda m: system.console_errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)  # fmt: skip
    register_and_sign_in(page, system.url, "alice")
    yield page
    page.context.close()


def add_device(page: Any, qr: str, name: str, gateway: str | None = None) -> None:
    page.click("#add-device")
    page.fill("#qr-payload", qr)
    page.fill("#device-name", name)
    if gateway:
        page.select_option("#gateway-select", label=gateway)
    page.click("#add-device-submit")
    page.wait_for_selector(f".device-card:has-text('{name}')")


def device_id(page: Any, name: str) -> int:
    return int(page.get_attribute(f".device-card:has-text('{name}')", "data-device-id"))


def test_a1_a2_a3_sign_in_add_devices_live_state(owner: Any, system: System) -> None:
    """A1 sign-in, A2 add by QR (camera, gateway, lock through its gateway), A3 live state over /api/ws."""
    page = owner
    # A bad QR payload is refused with a clear message and nothing is added.
    page.click("#add-device")
    page.fill("#qr-payload", "not a label")
    page.click("#add-device-submit")
    assert "VAKT:1" in page.inner_text("dialog .form-error")
    page.keyboard.press("Escape")

    add_device(page, system.info["camera_qr"], "Front yard")
    system.ids["Front yard"] = device_id(page, "Front yard")
    if system.info.get("gateway_error"):
        pytest.skip(system.info["gateway_error"])
    add_device(page, system.info["gateway_qr"], "Hall gateway")
    add_device(page, system.info["lock_qr"], "Front door", gateway="Hall gateway")
    for name in ("Front yard", "Hall gateway", "Front door"):
        system.ids[name] = device_id(page, name)
    # Devices come online and the lock reports its bolt, pushed without reloading (A3, A8).
    page.wait_for_selector(".device-card:has-text('Front yard') [data-chip=online]:has-text('Online')")
    page.wait_for_selector(
        ".device-card:has-text('Front door') [data-chip=lock]:has-text('Locked')", timeout=30_000
    )
    page.wait_for_selector(".device-card:has-text('Front door') [data-chip=battery]")

    # Signing out and in again works; a wrong password is refused with the hub's message.
    page.goto(system.url + "/account")
    page.click("#sign-out")
    page.wait_for_url("**/signin*")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    page.wait_for_selector(".form-error:not(:empty)")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".device-card:has-text('Front door')")


def test_lock_panel_add_code_unlock_and_log(owner: Any, system: System) -> None:
    """L4.1/L5.2 add a door code at the keypad (3571# 12# code# code#), L8.1 unlock with it, A7 the log."""
    if "Front door" not in system.ids:
        pytest.skip("the gateway emulator did not start, so there is no lock")
    require("/api/panels/{device_id}/input", "/api/locks/{device_id}/log")
    page = owner
    lock = system.ids["Front door"]
    page.goto(f"{system.url}/devices/{lock}/panel")
    display = page.locator("#lock-display")

    def keys(text: str) -> None:
        for key in text:
            page.click(f"#keypad [data-key='{key}']")

    # L3.1: touch the keypad area first; a key pressed on a sleeping keypad would only wake it, and the
    # panel's picture may not yet show whether it sleeps, so a key here could land as a digit
    page.click("#lock-display")
    page.wait_for_selector("#keypad.awake")
    keys("3571#")  # initial mode: the menu opens without verification (L2.1)
    page.wait_for_selector("#lock-prompt:has-text('setting code')")
    keys("12#")
    page.wait_for_selector("#lock-prompt:has-text('Enter the code')")
    keys(CODE + "#")
    page.wait_for_selector("#lock-prompt:has-text('again')")
    keys(CODE + "#")
    page.wait_for_selector("#lock-display.blink")  # the new code's number blinks (L1.2)
    assert display.inner_text().strip() == "1"
    keys("*")  # leave the menu (L4.3)
    keys(CODE + "#")
    page.wait_for_selector("#motor-state:has-text('unlocked')")

    page.goto(f"{system.url}/devices/{lock}")
    page.wait_for_selector("#lock-log .log-entry[data-type=LockOperation][data-source=Keypad]")
    assert "door code" in page.inner_text("#lock-log .log-entry[data-type=LockOperation]").lower()
    page.select_option("#log-filter-type", "LockUserChange")
    page.wait_for_selector("#lock-log .log-entry[data-type=LockUserChange]")
    page.click("[data-tab=credentials]")
    page.wait_for_selector("#credential-list .cred[data-type=PIN]")


def test_a7_remote_unlock_needs_the_pin(owner: Any, system: System) -> None:
    """A7 (chosen): remote unlock asks for the account's PIN; a wrong PIN is refused, the right one opens."""
    if "Front door" not in system.ids:
        pytest.skip("the gateway emulator did not start, so there is no lock")
    page = owner
    page.goto(system.url + "/account")
    page.fill("#pin-form input[name=password]", PASSWORD)
    page.fill("#pin-form input[name=pin]", "4711")
    page.click("#pin-form button[type=submit]")
    page.wait_for_selector(".toast:has-text('PIN saved')")
    page.goto(f"{system.url}/devices/{system.ids['Front door']}")
    page.wait_for_selector("#lock-state:has-text('Locked')")
    page.click("#unlock")
    page.fill("#unlock-pin", "0000")
    page.click("#unlock-submit")
    page.wait_for_selector("dialog .form-error:not(:empty)")
    page.fill("#unlock-pin", "4711")
    page.click("#unlock-submit")
    page.wait_for_selector("#lock-state:has-text('Unlocked')")
    page.wait_for_selector("#lock-log .log-entry[data-source=Remote]")


def test_lock_words_front_panel_back_and_temporary_code_used_up(owner: Any, system: System) -> None:
    """Issue 15 items 9, 12, 17: a temporary code's uses go down to "used up", the front panel goes back
    on from the panel, and the app shows words, not Matter enum names."""
    if "Front door" not in system.ids:
        pytest.skip("the gateway emulator did not start, so there is no lock")
    page = owner
    lock = system.ids["Front door"]
    page.goto(f"{system.url}/devices/{lock}")
    page.click("[data-tab=credentials]")
    page.click("#add-temporary")
    page.fill("#cred-name", "Plumber")
    page.fill("#new-code", "24682468")
    page.fill("dialog input[name=max_uses]", "1")
    page.click("dialog button[type=submit]")
    plumber = "#credential-list .cred:has-text('Plumber') .uses-left"
    page.wait_for_selector(f"{plumber}:has-text('1 use left')")

    page.goto(f"{system.url}/devices/{lock}/panel")
    page.click("#lock-display")
    page.wait_for_selector("#keypad.awake")
    for key in "24682468":
        page.click(f"#keypad [data-key='{key}']")
    with page.expect_response(lambda r: "/input" in r.url and '"#"' in (r.request.post_data or "")):
        page.click("#keypad [data-key='#']")
    page.click("#tamper")  # L10.1: the front panel forced off ...
    page.wait_for_selector("#tamper:has-text('Put front panel back')")
    page.click("#tamper")  # ... and put back (item 12)
    page.wait_for_selector("#tamper:has-text('Remove front panel')")

    page.goto(f"{system.url}/devices/{lock}")
    page.wait_for_selector("#lock-alarms:has-text('Front panel removed')")  # the minute of alarm (L10.1)
    page.wait_for_selector("#lock-log .log-entry:has-text('Front panel removed')")
    assert "Esceutcheon" not in page.inner_text("body")
    page.click("[data-tab=credentials]")
    page.wait_for_selector(f"{plumber}:has-text('used up')")


def test_a5_shared_user_lacks_permissions(browser: Any, owner: Any, system: System) -> None:
    """A5: a user the camera is shared with (live view only) cannot talk, change settings or see the lock."""
    camera = system.ids["Front yard"]
    page = owner
    page.goto(f"{system.url}/devices/{camera}/share")
    guest = new_page(browser)
    register_and_sign_in(guest, system.url, "bob")
    page.fill("#share-user", "bob")
    page.click("form button[type=submit]")
    page.wait_for_selector(".list-item:has-text('bob')")

    guest.goto(system.url + "/")
    guest.wait_for_selector(".device-card[data-kind=camera]")
    assert guest.locator(".device-card[data-kind=lock]").count() == 0
    guest.goto(f"{system.url}/devices/{camera}")
    guest.wait_for_selector("#talk")
    assert guest.is_disabled("#talk")
    assert guest.locator("#settings-link").count() == 0
    if "Front door" in system.ids:
        guest.goto(f"{system.url}/devices/{system.ids['Front door']}")
        guest.wait_for_selector("text=Device not available")
        cookies = {c["name"]: c["value"] for c in guest.context.cookies()}
        response = httpx.post(
            f"{system.url}/api/panels/{system.ids['Front door']}/input",
            json={"input": "key", "value": "1"},
            cookies=cookies,
        )
        assert response.status_code == 404
    cookies = {c["name"]: c["value"] for c in guest.context.cookies()}
    response = httpx.post(
        f"{system.url}/api/panels/{camera}/input", json={"input": "reset_hold", "seconds": 4}, cookies=cookies
    )
    assert response.status_code == 403
    guest.context.close()


def test_g1_g6_a5_x3_gateway_sharing_per_kind_and_doorbell(browser: Any, owner: Any, system: System) -> None:
    """Issue 15 items 4-6, 8: the gateway screen tells its state as it is (G1-G6: network, LED ring, mode,
    radio link with lost messages); the lock and the gateway are shared from the UI with only their own
    permissions (A5) and the form keeps the ticks; a guest gets no panel button; the doorbell (X3) answers
    on the door camera's live view from the toast and from the alert list."""
    if "Front door" not in system.ids:
        pytest.skip("the gateway emulator did not start, so there is no lock")
    page, lock, gateway = owner, system.ids["Front door"], system.ids["Hall gateway"]
    camera = system.ids["Front yard"]
    page.goto(f"{system.url}/devices/{gateway}")
    page.wait_for_selector("#gateway-info [data-row=led]:has-text('solid white')")
    info = page.inner_text("#gateway-info")
    assert "[object Object]" not in info and "–" not in info, info
    assert "Online" in page.inner_text("#gateway-info [data-row=mode]")
    page.wait_for_selector(f"#gateway-links [data-link='{lock}'] [data-field=rssi]:has-text('dBm')")
    assert "Lost messages" in page.inner_text(f"#gateway-links [data-link='{lock}'] [data-field=lost]")

    page.click("#share-link")
    page.wait_for_url(f"**/devices/{gateway}/share")
    page.wait_for_selector("input[name=perm]")
    assert page.locator("input[name=perm]").evaluate_all("l => l.map(i => i.value)") == ["settings"]
    guest = new_page(browser)
    register_and_sign_in(guest, system.url, "dave")
    page.goto(f"{system.url}/devices/{lock}")
    page.click("#share-link")
    page.wait_for_url(f"**/devices/{lock}/share")
    page.wait_for_selector("input[name=perm]")
    offered = page.locator("input[name=perm]").evaluate_all("l => l.map(i => i.value)")
    assert offered == ["history", "unlock", "settings"], offered
    page.check("#share-perm-history")
    page.fill("#share-user", "dave")
    page.click("form button[type=submit]")
    page.wait_for_selector(".list-item:has-text('dave')")
    assert page.is_checked("#share-perm-history") and page.is_checked("#share-perm-unlock")

    guest.goto(f"{system.url}/devices/{lock}")
    guest.wait_for_selector(".page-head h1")
    assert guest.locator("a[href$='/panel']").count() == 0, "a guest without settings sees the panel button"
    guest.wait_for_selector("#lock-log .log-entry, #lock-log .empty")
    guest.click("[data-tab=credentials]")
    guest.wait_for_timeout(1000)
    assert "permission '" not in guest.inner_text("body"), "a raw permission error is shown"
    # A7 (item 7): revoking is pushed: the guest's open lock screen closes and the lock leaves the list
    page.goto(f"{system.url}/devices/{lock}/share")
    page.click(".list-item:has-text('dave') button:has-text('Revoke')")
    guest.wait_for_url(system.url + "/", timeout=15_000)
    guest.wait_for_selector(".toast:has-text('no longer shared')")
    assert guest.locator(f".device-card[data-device-id='{lock}']").count() == 0
    guest.context.close()

    page.goto(f"{system.url}/devices/{lock}/panel")
    page.click("#doorbell")
    page.click(".toast[data-kind=alert] button:has-text('Answer')", timeout=30_000)
    page.wait_for_url(f"**/devices/{camera}?talk=1")
    page.wait_for_selector(".player.playing", timeout=20_000)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'talk'")
    page.goto(f"{system.url}/notifications")
    href = page.get_attribute("#notification-list .notif[data-kind=doorbell]", "href")
    assert href == f"/devices/{camera}?talk=1"


def test_c5_3_talk_delivers_speech_to_the_camera(owner: Any, system: System, assets: Any) -> None:
    """C5.3: press and hold to talk; the microphone (speech file) reaches the camera's speaker at 16 kHz."""
    require("/api/cameras/{device_id}/talk")
    page = owner
    camera = system.ids["Front yard"]
    page.goto(f"{system.url}/devices/{camera}")
    button = page.locator("#talk")
    button.wait_for()
    button.hover()
    page.mouse.down()
    page.wait_for_selector("#talk.talking")
    page.wait_for_timeout(3500)
    page.mouse.up()
    page.wait_for_selector("#talk:not(.talking)")
    auth = ("admin", system.info["camera_code"])
    last = f"{system.info['camera_http']}/audio/speaker/last.wav"
    deadline = time.monotonic() + 10
    while True:
        response = httpx.get(last, auth=auth, timeout=5)
        if response.status_code == 200 and len(response.content) > 16000 * 2 * 2:
            break
        assert time.monotonic() < deadline, f"the camera got no talk audio: {response.status_code}"
        time.sleep(0.3)
    received, rate = read_wav(response.content)
    reference, ref_rate = read_wav(assets / "audio" / "speech_16k_mono.wav")
    assert rate == ref_rate == 16000
    assert len(received) >= 2 * rate, f"only {len(received) / rate:.2f} s of talk arrived"
    # One-second windows after the microphone's start-up, each matched against the speech file.
    windows = [
        received[start : start + rate] for start in range(rate // 2, len(received) - rate + 1, rate // 2)
    ]
    scores = sorted(best_match(w, reference)[0] for w in windows)
    score = scores[len(scores) // 2]
    print(f"talk NCC median {score:.3f} of {len(scores)} windows")
    assert score > 0.7, f"talk audio does not match the microphone's speech (median NCC {scores})"


def test_a4_person_event_arrives_as_a_toast_with_its_snapshot(owner: Any, system: System) -> None:
    """A4/C8.1: a person in front of the camera is pushed to the open app at once, with a snapshot."""
    require("/api/notifications", "/api/person-events/{event_id}/snapshot")
    page = owner
    deadline = time.monotonic() + 90
    while not (found := [t for t in system.toasts if t["kind"] == "alert" and "person" in t["text"].lower()]):
        assert time.monotonic() < deadline, f"no person toast; toasts seen: {system.toasts}"
        page.wait_for_timeout(500)
    image = found[0]["image"]
    assert image, "the person toast has no snapshot"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    snapshot = httpx.get(image, cookies=cookies, timeout=10)
    assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8", "snapshot is not a JPEG"
    page.goto(system.url + "/notifications")
    page.wait_for_selector("#notification-list .notif[data-kind=person] img")


FRAME_GRAB = """() => {
  const v = document.querySelector('.player video');
  const c = document.createElement('canvas');
  c.width = 160; c.height = 90;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0, c.width, c.height);
  return Array.from(g.getImageData(0, 0, c.width, c.height).data.filter((_, i) => i % 4 !== 3));
}"""


def test_c5_1_live_view_plays_through_mse(owner: Any, system: System) -> None:
    """C5.1: live H.264 over the live WebSocket into MSE: starts fast, time advances, frames change."""
    require("/api/cameras/{device_id}/live")
    page = owner
    camera = system.ids["Front yard"]
    page.goto(f"{system.url}/devices/{camera}")
    page.wait_for_selector(".player.playing", timeout=20_000)
    video = "document.querySelector('.player video')"
    first_time = page.evaluate(f"() => {video}.currentTime")
    first = page.evaluate(FRAME_GRAB)
    page.wait_for_timeout(2000)
    second_time = page.evaluate(f"() => {video}.currentTime")
    second = page.evaluate(FRAME_GRAB)
    assert second_time - first_time > 1.0, "the live video's currentTime does not advance"
    assert page.evaluate(f"() => {video}.videoWidth") > 0
    changed = sum(abs(a - b) for a, b in zip(first, second, strict=True)) / len(first)
    assert changed > 1.0, f"two frames two seconds apart are the same (mean difference {changed:.2f})"
    # Latency: the playhead stays within about a second of the buffered live edge.
    lag = page.evaluate(
        f"() => {{ const v = {video}; return v.buffered.end(v.buffered.length - 1) - v.currentTime; }}"
    )
    assert lag < 1.5, f"live view lags {lag:.2f} s behind the live edge"
    # Startup: the first frame on screen soon after the socket opened (issue 15: start at the live edge at
    # once; 300 ms is the aim on a quiet machine, the bound here leaves room for a loaded one)
    startup = int(page.get_attribute(".player video", "data-first-frame-ms") or -1)
    print(f"live view first frame {startup} ms after the socket opened")
    assert 0 <= startup < 1500, f"first live frame {startup} ms after the socket opened"
    # C1 (issue 15 item 14): watching in the app lights the camera solid blue; the hub's recorder alone not
    camera_led("solid_blue", system)
    page.goto(system.url + "/notifications")
    camera_led("slow_blue", system)


def camera_led(wanted: str, system: System, timeout: float = 20) -> None:
    auth, url = ("admin", system.info["camera_code"]), f"{system.info['camera_http']}/state"
    deadline = time.monotonic() + timeout
    while (led := httpx.get(url, auth=auth, timeout=5).json()["led"]) != wanted:
        assert time.monotonic() < deadline, f"camera LED is {led}, not {wanted}"
        time.sleep(0.2)


def test_c7_2_history_shows_today_and_plays_it(owner: Any, system: System) -> None:
    """C7.2: the calendar marks today, the timeline shows today's footage and person events, it plays,
    and a clip downloads as MP4."""
    require("/api/cameras/{device_id}/history/timeline", "/api/cameras/{device_id}/history/playlist.m3u8")
    page = owner
    camera = system.ids["Front yard"]
    page.goto(f"{system.url}/devices/{camera}/history")
    page.wait_for_selector("#calendar button.has.selected")
    page.wait_for_selector("#timeline .seg")
    page.wait_for_selector("#playback.playing", timeout=20_000)
    video = "document.querySelector('#playback video')"
    start = page.evaluate(f"() => {video}.currentTime")
    page.wait_for_timeout(1500)
    assert page.evaluate(f"() => {video}.currentTime") > start, "recorded video does not play"
    assert page.evaluate(f"() => {video}.videoWidth") > 0
    assert page.inner_text("#playback-clock").strip(), "no wall-clock time shown for the recording"
    # Seeking from the timeline plays from another point.
    page.click("#timeline", position={"x": 5, "y": 30})
    page.wait_for_selector("#timeline .cursor")
    href = page.get_attribute("#clip-download", "href")
    assert href and "/history/clip?" in href
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    clip = httpx.get(system.url + href, cookies=cookies, timeout=60)
    assert clip.status_code in (200, 404), clip.text  # 404: the clip window has no footage
    if clip.status_code == 200:
        assert clip.content[4:8] == b"ftyp", "the clip is not an MP4"


def test_c6_settings_form_from_the_schema_changes_the_camera(owner: Any, system: System) -> None:
    """C6/C1.1: the settings form comes from CameraSettings' schema; Status Light off darkens the LED,
    which the camera's panel shows from its pushed state; a value out of bounds is refused."""
    require("/api/cameras/{device_id}/settings")
    page = owner
    camera = system.ids["Front yard"]
    page.goto(f"{system.url}/devices/{camera}/settings")
    page.wait_for_selector("[data-field=detection_sensitivity] input[type=range][min='1'][max='100']")
    assert "Status Light" in page.inner_text("[data-field=status_light]")
    page.click("[data-field=status_light] .switch")
    page.wait_for_selector(".toast:has-text('Saved')")
    page.goto(f"{system.url}/devices/{camera}/panel")
    page.wait_for_selector("#camera-led-text:has-text('off')")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    bad = httpx.patch(
        f"{system.url}/api/cameras/{camera}/settings", json={"detection_sensitivity": 500}, cookies=cookies
    )
    assert bad.status_code == 422
    page.goto(f"{system.url}/devices/{camera}/settings")
    page.click("[data-field=status_light] .switch")
    page.wait_for_selector(".toast:has-text('Saved')")


def hub_snapshot(system: System, page: Any) -> Any:
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    camera = system.ids["Front yard"]
    response = httpx.get(f"{system.url}/api/cameras/{camera}/snapshot", cookies=cookies, timeout=20)
    assert response.status_code == 200, response.text
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    return cv2.resize(image, (192, 108)).astype(np.float32)


def similarity(a: Any, b: Any) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def test_c6_camera_controls_work_end_to_end(owner: Any, system: System) -> None:
    """Issue 15 items 1-3, 16: Restart, Storage Initialize (C4.1) and Wi-Fi Change (C3.3) reach the camera
    and its state comes back; the name in settings is the device's name; Flip Image (C6) turns the hub's
    snapshot (from the main stream) upside down; the snapshot button asks with GET, no 4xx on the way."""
    page = owner
    camera = system.ids["Front yard"]
    failed: list[str] = []

    def on_response(r: Any) -> None:
        if "/api/" in r.url and r.status >= 400:
            failed.append(f"{r.request.method} {r.url} {r.status}")

    def accept(dialog: Any) -> None:
        dialog.accept()

    page.on("response", on_response)
    page.on("dialog", accept)
    page.goto(f"{system.url}/devices/{camera}")
    page.wait_for_selector(".player.playing", timeout=20_000)
    page.click("#snapshot")
    page.wait_for_selector(".toast:has-text('Snapshot saved')")

    page.goto(f"{system.url}/devices/{camera}/settings")
    name = page.locator("[data-field=name] input")
    assert name.input_value() == "Front yard"  # the device's name, not the camera's default "Camera"
    name.fill("Front garden")
    name.dispatch_event("change")
    page.wait_for_selector(".page-head h1:has-text('Front garden')")

    page.click("#sd-initialize")
    page.wait_for_selector("#sd-status:has-text('Initializing')")
    page.wait_for_selector("#sd-status:has-text('Normal')", timeout=20_000)

    page.click("#wifi-change")
    page.fill("#wifi-ssid", "garden")
    page.click("#wifi-submit")
    page.wait_for_selector("#camera-network:has-text('garden')", timeout=30_000)

    upright = hub_snapshot(system, page)
    page.click("[data-field=flip_image] .switch")
    page.wait_for_selector("[data-field=flip_image] input:checked")
    deadline = time.monotonic() + 90  # the flipped main stream is encoded once, then swapped in
    while True:
        page.wait_for_timeout(1000)
        now = hub_snapshot(system, page)
        turned, same = similarity(now, upright[::-1, ::-1]), similarity(now, upright)
        if turned > same + 0.2:
            break
        assert time.monotonic() < deadline, f"the hub's snapshot is not flipped ({turned:.2f} vs {same:.2f})"
    page.click("[data-field=flip_image] .switch")
    page.wait_for_selector(".toast:has-text('Saved') >> nth=0")
    name.fill("Front yard")
    name.dispatch_event("change")
    page.wait_for_selector(".page-head h1:has-text('Front yard')")
    page.click("#camera-restart")  # last: the camera is away for a moment
    page.wait_for_selector(".toast:has-text('restarting')")
    camera_led("slow_blue", system, timeout=30)  # started up again (C1)
    page.goto(system.url + "/")
    page.wait_for_selector(".device-card:has-text('Front yard')")
    page.remove_listener("dialog", accept)
    page.remove_listener("response", on_response)
    assert not failed, f"API calls failed: {failed}"


def test_v4_add_a_camera_by_rtsp_address_tested_first_then_delete_it(owner: Any, system: System) -> None:
    """V4 (issue 15): the Add dialog takes an RTSP address, tests it (a wrong password is named), adds the
    camera, whose settings offer only what it has; deleting it asks first and removes it (item 18)."""
    page = owner
    auth = ("admin", system.info["camera_code"])
    state = httpx.get(f"{system.info['camera_http']}/state", auth=auth, timeout=5).json()
    main_url = state["rtsp"]["main_url"]
    good = main_url.replace("rtsp://", f"rtsp://admin:{system.info['camera_code']}@")
    page.goto(system.url + "/")
    page.click("#add-device")
    page.click("#add-rtsp")
    page.fill("#rtsp-name", "Driveway")
    page.fill("#rtsp-url", good.replace(system.info["camera_code"], "WRONG1234"))
    page.click("#rtsp-test")
    page.wait_for_selector("dialog .form-error:has-text('password')", timeout=20_000)
    page.fill("#rtsp-url", good)
    page.click("#rtsp-test")
    page.wait_for_selector("#rtsp-test-result:has-text('H264 768×432')", timeout=20_000)
    page.click("#rtsp-submit")
    page.wait_for_selector(".device-card:has-text('Driveway')")
    driveway = device_id(page, "Driveway")
    page.goto(f"{system.url}/devices/{driveway}/settings")
    page.wait_for_selector("[data-field=name] input")
    assert page.locator("#camera-restart, #wifi-change, #sd-initialize").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-device")
    page.wait_for_url(system.url + "/")
    page.wait_for_selector(".device-card:has-text('Front yard')")
    assert page.locator(".device-card:has-text('Driveway')").count() == 0


def test_c5_1_multiview_tiles_and_alerts_filters(owner: Any, system: System) -> None:
    """C5.1 multi-view: each tile's camera is chosen and kept; A4 alerts: filtered by kind and device."""
    page = owner
    camera = system.ids["Front yard"]
    page.goto(system.url + "/live")
    page.click("[data-layout='4']")
    page.wait_for_selector("#multiview .tile[data-tile='0'] .player")
    page.select_option("#multiview .tile[data-tile='0'] select", "")
    page.wait_for_selector("#multiview .tile[data-tile='0'] .tile-empty")
    page.select_option("#multiview .tile[data-tile='2'] select", str(camera))
    tile = f"#multiview .tile[data-tile='2'] .player[data-device-id='{camera}']"
    page.wait_for_selector(tile + ".playing", timeout=20_000)
    page.reload()
    page.wait_for_selector(f"#multiview .tile[data-tile='2'] .player[data-device-id='{camera}']")
    assert page.locator("#multiview .tile[data-tile='0'] .tile-empty").count() == 1

    page.goto(system.url + "/notifications")
    page.wait_for_selector("#notification-list .notif")
    page.select_option("#filter-kind", "doorbell")
    kinds = page.locator("#notification-list .notif").evaluate_all("l => l.map(n => n.dataset.kind)")
    assert kinds and set(kinds) == {"doorbell"}, kinds
    page.select_option("#filter-kind", "")
    page.select_option("#filter-device", str(camera))
    kinds = page.locator("#notification-list .notif").evaluate_all("l => l.map(n => n.dataset.kind)")
    assert "doorbell" not in kinds, kinds


def test_rooms_about_lock_log_filters_paging_and_dismiss(owner: Any, system: System) -> None:
    """Issue 15 missing parts: a device is put in a room (the list groups by room) and its About shows
    model, serial and, to its owner, the QR label (C6); the lock log filters by type, method and day and
    pages older entries with "Load older"; one alert is dismissed and stays dismissed (A4)."""
    if "Front door" not in system.ids:
        pytest.skip("the gateway emulator did not start, so there is no lock")
    page, lock = owner, system.ids["Front door"]
    page.goto(f"{system.url}/devices/{lock}?page_size=2")
    page.wait_for_selector("#device-about [data-about=model]:has-text('VL')")
    assert not page.is_visible("#memory-damaged"), "a whole memory is shown as damaged"
    assert "VAKT:1;S=" in page.inner_text("#device-qr")
    page.fill("#about-room", "Hall")
    page.press("#about-room", "Enter")
    page.wait_for_selector("#device-about [data-about=room]:has-text('Hall')")

    # paging: two at a time, older ones on demand, none twice
    page.wait_for_selector("#lock-log .log-entry")
    first = page.locator("#lock-log .log-entry").count()
    page.click("#log-load-older")
    page.wait_for_function(f"() => document.querySelectorAll('#lock-log .log-entry').length > {first}")
    texts = page.locator("#lock-log .log-entry").evaluate_all("l => l.map(e => e.innerText)")
    assert len(texts) == len(set(texts)), texts
    # filters: method, then day (today has entries, a day long ago none)
    page.select_option("#log-filter-source", "Keypad")
    page.wait_for_selector("#lock-log .log-entry[data-source=Keypad]")
    sources = page.locator("#lock-log .log-entry").evaluate_all("l => l.map(e => e.dataset.source)")
    assert set(sources) == {"Keypad"}, sources
    page.select_option("#log-filter-source", "")
    page.fill("#log-filter-day", "2001-02-03")
    page.wait_for_selector("#lock-log .empty:has-text('Nothing matches')")
    page.fill("#log-filter-day", page.evaluate("() => new Date().toLocaleDateString('sv')"))
    page.wait_for_selector("#lock-log .log-entry")

    page.goto(system.url + "/")
    page.wait_for_selector(f".room-title[data-room='Hall'] ~ .device-card[data-device-id='{lock}']")
    assert page.locator(".room-title").evaluate_all("l => l.map(e => e.innerText)") == ["Hall", "No room"]

    page.goto(system.url + "/notifications")
    page.wait_for_selector("#notification-list .notif")
    ids = page.locator("#notification-list .notif").evaluate_all("l => l.map(n => n.dataset.id)")
    page.click(f"#notification-list .notif[data-id='{ids[0]}'] .dismiss")
    page.wait_for_selector(f"#notification-list .notif[data-id='{ids[0]}']", state="detached")
    page.reload()
    page.wait_for_selector("#notification-list .notif")
    assert page.locator(f"#notification-list .notif[data-id='{ids[0]}']").count() == 0


def walk(page: Any, system: System, screens: list[tuple[str, str]]) -> list[str]:
    """Open each screen, wait for what it must show; every failed request and console error on the way."""
    problems: list[str] = []

    def on_response(response: Any) -> None:
        if response.status >= 400:
            problems.append(f"{response.status} {response.request.method} {response.url}")

    def on_console(message: Any) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    def on_error(error: Any) -> None:
        problems.append(f"uncaught: {error}")

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", on_error)
    try:
        for path, ready in screens:
            page.goto(system.url + path)
            page.wait_for_selector(ready)
            # the screen's own later requests (a live view streams for ever: no "network idle" to wait for)
            page.wait_for_timeout(700)
    finally:
        page.remove_listener("response", on_response)
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)
    return problems


def test_a5_every_screen_walked_as_owner_and_as_a_guest_with_one_permission(
    browser: Any, owner: Any, system: System
) -> None:
    """Issue 15 done-when: devices, camera live, history, lock, alerts, settings and account, walked by the
    owner and by a guest holding one permission on each device (live view of the camera, unlock of the
    lock): no console error and no request refused or failed that the screen did not need to make (A5)."""
    camera = system.ids["Front yard"]
    lock = system.ids.get("Front door")
    screens = [
        ("/", ".device-card"),
        (f"/devices/{camera}", ".player"),
        (f"/devices/{camera}/history", ".page-head h1"),
        (f"/devices/{camera}/settings", ".page-head h1"),
        ("/live", "#multiview"),
        ("/notifications", "#notification-list"),
        ("/account", "#sign-out"),
    ]
    if lock is not None:
        screens.insert(4, (f"/devices/{lock}", "#lock-state"))
    problems = walk(owner, system, screens)
    assert not problems, f"the owner's walk: {problems}"

    guest = new_page(browser)
    register_and_sign_in(guest, system.url, "erin")
    cookies = {c["name"]: c["value"] for c in owner.context.cookies()}
    for device, permission in ((camera, "live_view"), (lock, "unlock")):
        if device is None:
            continue
        r = httpx.post(f"{system.url}/api/devices/{device}/shares", cookies=cookies,
                       json={"user": "erin", "permissions": [permission]})  # fmt: skip
        assert r.status_code == 201, r.text
    problems = walk(guest, system, screens)
    body = guest.inner_text("body")
    guest.context.close()
    assert not problems, f"the guest's walk: {problems}"
    assert "permission '" not in body


def test_c2_reset_sets_up_the_camera_and_ethernet_brings_it_back(owner: Any, system: System) -> None:
    """C2.1: RESET held 4 s restarts the camera into set-up mode (fast-flashing blue, C1); plugging in the
    Ethernet cable joins the wired network (C3.1) and the LED leaves set-up mode.

    Kept last in this module: it resets the camera's settings."""
    page = owner
    page.goto(f"{system.url}/devices/{system.ids['Front yard']}/panel")
    page.click("#camera-reset")
    page.wait_for_selector("#camera-led-text:has-text('fast-flashing blue')", timeout=30_000)
    page.click("#ethernet")
    page.wait_for_selector("#camera-led-text:not(:has-text('fast-flashing blue'))", timeout=30_000)
    assert "off" not in page.inner_text("#camera-led-text")
    assert not system.console_errors, f"the app logged errors: {system.console_errors}"
