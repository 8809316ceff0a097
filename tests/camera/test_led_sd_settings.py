"""Pure logic of the camera: status LED (C1), micro SD card and loop recording (C4), settings (C6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vakt.camera.led import Led, LedInputs, led_for
from vakt.camera.sd import Recording, SdCard, SdError, SdStatus
from vakt.camera.settings import CameraSettings, apply_changes, camera_time

# C1 table, one row per manual line, plus C1.1 and the chosen precedence between rows.
LED_TABLE = [
    ("C1 solid red: starting up", LedInputs(starting=True), Led.SOLID_RED),
    ("C1 slow red: network exception", LedInputs(network_ok=False), Led.SLOW_RED),
    ("C1 fast red: camera exception (SD error)", LedInputs(camera_fault=True), Led.FAST_RED),
    ("C1 solid blue: live view watched", LedInputs(watching=2), Led.SOLID_BLUE),
    ("C1 slow blue: running normally", LedInputs(), Led.SLOW_BLUE),
    ("C1 fast blue: Wi-Fi set-up mode", LedInputs(setup_mode=True), Led.FAST_BLUE),
    ("C1.1 status light off: dark", LedInputs(status_light=False), Led.OFF),
    ("C1.1 dark even with an SD fault", LedInputs(status_light=False, camera_fault=True), Led.OFF),
    ("C1.1 dark even while starting", LedInputs(status_light=False, starting=True), Led.OFF),
    ("C2.1 starting wins over set-up mode", LedInputs(starting=True, setup_mode=True), Led.SOLID_RED),
    ("fault wins over watching", LedInputs(camera_fault=True, watching=1), Led.FAST_RED),
    ("network exception wins over watching", LedInputs(network_ok=False, watching=1), Led.SLOW_RED),
]


@pytest.mark.parametrize(("row", "inputs", "expected"), LED_TABLE, ids=[r[0] for r in LED_TABLE])
def test_c1_led_table(row: str, inputs: LedInputs, expected: Led) -> None:
    assert led_for(inputs) is expected


def test_c4_1_card_lifecycle_absent_not_initialized_initializing_normal_error() -> None:
    card = SdCard()
    assert card.status is SdStatus.ABSENT and card.summary()["capacity"] == 0
    card.insert(1000)
    assert card.status is SdStatus.NOT_INITIALIZED and not card.writable
    card.begin_initialize()
    assert card.status is SdStatus.INITIALIZING
    with pytest.raises(SdError):
        card.begin_initialize()
    card.finish_initialize()
    assert card.status is SdStatus.NORMAL and card.writable
    card.fault()
    assert card.status is SdStatus.ERROR and not card.writable
    card.remove()
    assert card.status is SdStatus.ABSENT
    with pytest.raises(SdError):
        card.remove()
    with pytest.raises(SdError):
        card.fault()


def test_c4_1_initializing_erases_everything() -> None:
    card = SdCard()
    card.insert(1000, initialized=True)
    card.add(Recording("a.mp4", 300))
    erased = card.begin_initialize()
    assert [r.name for r in erased] == ["a.mp4"] and card.used == 0


def test_c4_2_capacity_used_free() -> None:
    card = SdCard()
    card.insert(1000, initialized=True)
    card.add(Recording("a.mp4", 300))
    card.add(Recording("b.mp4", 200))
    assert card.summary() == {"status": "normal", "capacity": 1000, "used": 500, "free": 500, "recordings": 2}


def test_c4_3_loop_recording_overwrites_the_oldest_first() -> None:
    card = SdCard()
    card.insert(1000, initialized=True)
    for name in ("1.mp4", "2.mp4", "3.mp4"):
        card.add(Recording(name, 300))
    dropped = card.make_room(250)
    assert [r.name for r in dropped] == ["1.mp4"]
    assert [r.name for r in card.recordings] == ["2.mp4", "3.mp4"]
    card.add(Recording("4.mp4", 250))
    assert card.used <= card.capacity


def test_c4_3_the_recording_being_written_is_never_the_victim() -> None:
    card = SdCard()
    card.insert(1000, initialized=True)
    card.add(Recording("old.mp4", 400))
    card.add(Recording("live.mp4", 500))
    card.resize("live.mp4", 900)
    dropped = card.make_room(0, keep="live.mp4")
    assert [r.name for r in dropped] == ["old.mp4"]
    assert [r.name for r in card.recordings] == ["live.mp4"]


def test_c4_3_a_clip_larger_than_the_card_is_refused() -> None:
    card = SdCard()
    card.insert(100, initialized=True)
    with pytest.raises(SdError):
        card.make_room(101)


def test_c6_every_setting_has_title_description_and_bounds() -> None:
    schema = CameraSettings.model_json_schema()
    for name, prop in schema["properties"].items():
        assert prop.get("title") and prop.get("description"), name
    assert schema["properties"]["detection_sensitivity"]["minimum"] == 1
    assert schema["properties"]["detection_sensitivity"]["maximum"] == 100
    assert schema["properties"]["device_version"]["readOnly"] is True


def test_c6_changes_are_validated() -> None:
    settings = CameraSettings()
    assert apply_changes(settings, {"time_zone": "Europe/Bucharest"}).time_zone == "Europe/Bucharest"
    assert apply_changes(settings, {"date_format": "DD.MM.YYYY"}).date_format == "DD.MM.YYYY"
    bad_changes = [
        {"time_zone": "Mars/Olympus"}, {"detection_sensitivity": 0}, {"detection_sensitivity": 101},
        {"date_format": "YY"}, {"nonsense": 1}, {"device_version": "V9"}, {"audio": "loud"},
    ]  # fmt: skip
    for bad in bad_changes:
        with pytest.raises(ValueError):
            apply_changes(settings, bad)
    assert settings == CameraSettings()  # nothing changed by the refused attempts


def test_c6_on_screen_time_follows_time_zone_and_date_format() -> None:
    moment = datetime(2026, 1, 31, 22, 30, 5, tzinfo=UTC)
    settings = CameraSettings(time_zone="Europe/Bucharest", date_format="DD.MM.YYYY")
    assert camera_time(moment, settings) == "01.02.2026 00:30:05"  # UTC+2 crosses midnight
    us = CameraSettings(time_zone="America/New_York", date_format="MM/DD/YYYY")
    assert camera_time(moment, us) == "01/31/2026 17:30:05"
