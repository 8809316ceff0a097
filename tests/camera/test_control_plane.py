"""The camera's control plane over a real Mosquitto (with per-device accounts) and its HTTP side:
commands acked and applied, retained state, events, availability, malformed commands refused."""

from __future__ import annotations

import asyncio
import io
import json
import os
import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import av
import cv2
import httpx
import numpy as np
import pytest

from tests.broker.brokers import DEVICES, HUB_PASSWORD, RunningBroker, any_broker
from tests.camera.conftest import camera_config
from tests.camera.helpers import RawRtspClient
from vakt.camera.emulator import CameraEmulator
from vakt.camera.snapshot import snapshot_jpeg
from vakt.protocol import Ack, Command, Event, decode, encode

pytestmark = pytest.mark.timeout(60)
SERIAL = "CAM0001"
CODE = DEVICES[SERIAL]


class Hub:
    """What the hub sees of one camera on the broker."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.acks: dict[str, Ack] = {}
        self.events: list[Event] = []
        self.states: list[dict[str, Any]] = []
        self.availability: list[str] = []
        self.changed = asyncio.Condition()

    async def listen(self) -> None:
        async for message in self.client.messages:
            channel = message.topic.value.rsplit("/", 1)[1]
            payload = bytes(message.payload or b"")
            if channel == "ack":
                ack = decode(Ack, payload)
                self.acks[ack.id] = ack
            elif channel == "event":
                self.events.append(decode(Event, payload))
            elif channel == "state":
                self.states.append(json.loads(payload))
            elif channel == "availability":
                self.availability.append(json.loads(payload)["status"])
            async with self.changed:
                self.changed.notify_all()

    async def until(self, check: Callable[[], Any], timeout: float = 10) -> Any:
        async with self.changed:
            return await asyncio.wait_for(self.changed.wait_for(check), timeout)

    @property
    def state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    async def wait_state(
        self, check: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        await self.until(lambda: bool(self.states) and check(self.states[-1]), timeout)
        return self.state

    async def send(self, name: str, args: dict[str, Any] | None = None) -> Ack:
        command = Command(target=SERIAL, name=name, args=args or {})
        await self.client.publish(f"vakt/v1/{SERIAL}/cmd", encode(command), qos=1)
        await self.until(lambda: command.id in self.acks)
        return self.acks[command.id]

    async def event(self, type_: str, check: Callable[[Event], bool] = lambda e: True) -> Event:
        await self.until(lambda: any(e.type == type_ and check(e) for e in self.events))
        return next(e for e in self.events if e.type == type_ and check(e))


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[RunningBroker]:
    async with any_broker("mosquitto", tmp_path) as running:
        yield running


@pytest.fixture
async def hub(broker: RunningBroker) -> AsyncIterator[Hub]:
    async with aiomqtt.Client(broker.host, broker.port, username="hub", password=HUB_PASSWORD) as client:
        await client.subscribe(f"vakt/v1/{SERIAL}/#", qos=1)
        watcher = Hub(client)
        task = asyncio.create_task(watcher.listen())
        yield watcher
        task.cancel()


def make_camera(broker: RunningBroker, data: Path, cache: Path, **extra: Any) -> CameraEmulator:
    config = camera_config(data, cache, code=CODE, mqtt_host=broker.host, mqtt_port=broker.port, **extra)
    return CameraEmulator(config)


@pytest.fixture
async def camera(
    broker: RunningBroker, hub: Hub, tmp_path: Path, camera_cache: Path
) -> AsyncIterator[CameraEmulator]:
    async with make_camera(broker, tmp_path / "cam", camera_cache) as cam:
        await hub.wait_state(lambda s: s["led"] == "slow_blue")
        yield cam


def http(cam: CameraEmulator, auth: bool = True) -> httpx.AsyncClient:
    assert cam.http is not None
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{cam.http.port}",
        auth=httpx.DigestAuth("admin", CODE) if auth else None,
        timeout=20,
    )


async def test_retained_state_and_availability(camera: CameraEmulator, hub: Hub) -> None:
    state = hub.state
    assert hub.availability[-1] == "online"
    assert (state["kind"], state["emulated"], state["serial"], state["model"]) == (
        "camera",
        True,
        SERIAL,
        "VC-300",
    )
    assert state["firmware"].startswith("V5.3.") and " build 2106" in state["firmware"]
    assert state["rtsp"]["main_url"] == camera.rtsp_url("live") and state["rtsp"]["sub"] == "/sub"
    assert state["sd"]["status"] == "normal" and state["sd"]["capacity"] > 0
    assert state["settings"]["status_light"] is True and state["watching"] == 0
    assert state["speaker"] == {"last_file": None, "seconds": 0.0, "talking": False}


async def test_c9_2_active_defense_sounds_flashes_records_and_ends_by_itself(
    camera: CameraEmulator, hub: Hub
) -> None:
    ack = await hub.send("camera.active_defense", {"seconds": 2})
    assert ack.ok and ack.result["recording"] is True
    state = await hub.wait_state(lambda s: s["active_defense"]["on"])
    assert state["siren"]["on"] and state["spotlight"]["mode"] == "flash_fast" and state["recording"]["on"]
    await hub.wait_state(lambda s: not s["active_defense"]["on"] and not s["siren"]["on"], timeout=6)
    assert hub.state["spotlight"]["mode"] == "off"
    await hub.event("ActiveDefense", lambda e: e.data["on"] is False)
    recorded = await hub.event("Recording")
    assert recorded.data["reason"] == "active_defense"
    clip = camera.config.data_dir / "sd" / recorded.data["file"]
    with av.open(str(clip)) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 10  # ~2 s at 10 fps plus pre-roll


async def test_c9_2_active_defense_is_limited_to_one_minute_and_can_be_stopped(
    camera: CameraEmulator, hub: Hub
) -> None:
    refused = await hub.send("camera.active_defense", {"seconds": 61})
    assert not refused.ok and "seconds" in (refused.error or "")
    assert (await hub.send("camera.active_defense", {"seconds": 60})).ok
    await hub.wait_state(lambda s: s["active_defense"]["on"])
    stopped = await hub.send("camera.active_defense.stop")
    assert stopped.ok and stopped.result == {"stopped": True}
    state = await hub.wait_state(lambda s: not s["active_defense"]["on"])
    assert not state["siren"]["on"] and state["spotlight"]["mode"] == "off"


async def test_siren_and_spotlight(camera: CameraEmulator, hub: Hub) -> None:
    assert (await hub.send("camera.siren", {"on": True, "seconds": 1})).ok
    await hub.wait_state(lambda s: s["siren"]["on"])
    await hub.wait_state(lambda s: not s["siren"]["on"], timeout=5)  # stops after its time
    assert (await hub.send("camera.spotlight", {"mode": "on"})).ok
    await hub.wait_state(lambda s: s["spotlight"]["mode"] == "on")
    bad = await hub.send("camera.spotlight", {"mode": "disco"})
    assert not bad.ok and "mode" in (bad.error or "")


async def test_malformed_and_unknown_commands_get_error_acks(camera: CameraEmulator, hub: Hub) -> None:
    await hub.client.publish(f"vakt/v1/{SERIAL}/cmd", json.dumps({"id": "broken-cmd-1", "name": 5}), qos=1)
    await hub.until(lambda: "broken-cmd-1" in hub.acks)
    assert not hub.acks["broken-cmd-1"].ok
    unknown = await hub.send("camera.teleport")
    assert not unknown.ok and "unknown command" in (unknown.error or "")
    wrong = await hub.send("camera.siren", {"on": "maybe"})
    assert not wrong.ok and wrong.error and wrong.error.startswith("on:")
    extra = await hub.send("camera.sd.initialize", {"force": True})
    assert not extra.ok
    assert hub.state["sd"]["status"] == "normal"  # nothing happened


async def test_c6_settings_validated_applied_and_kept_across_restart(
    broker: RunningBroker, hub: Hub, tmp_path: Path, camera_cache: Path
) -> None:
    async with make_camera(broker, tmp_path / "cam", camera_cache) as cam:
        await hub.wait_state(lambda s: s["led"] == "slow_blue")
        ack = await hub.send("camera.settings", {"status_light": False, "time_zone": "Europe/Bucharest"})
        assert ack.ok
        state = await hub.wait_state(lambda s: s["led"] == "off")  # C1.1
        assert state["settings"]["time_zone"] == "Europe/Bucharest"
        refusals = [
            ({"time_zone": "Mars/Olympus"}, "time_zone"), ({"detection_sensitivity": 500}, "detection"),
            ({"device_version": "V9"}, "read-only"), ({"colour": "red"}, "unknown"),
        ]  # fmt: skip
        for bad, field in refusals:
            refused = await hub.send("camera.settings", bad)
            assert not refused.ok and field in (refused.error or ""), refused.error
        await hub.event("SettingsChanged")
        assert cam.device.settings.time_zone == "Europe/Bucharest"
    async with make_camera(broker, tmp_path / "cam", camera_cache) as again:
        assert again.device.settings.status_light is False and again.device.led.value == "off"


async def test_c4_sd_fault_turns_led_fast_red_and_initialize_brings_the_card_back(
    camera: CameraEmulator, hub: Hub
) -> None:
    ack = await hub.send("panel.input", {"input": "sd_fault"})
    assert ack.ok
    state = await hub.wait_state(lambda s: s["sd"]["status"] == "error")
    assert state["led"] == "fast_red"  # C4.4
    await hub.event("SdCardStatus", lambda e: e.data["status"] == "error")
    refused = await hub.send("camera.record", {"on": True})
    assert not refused.ok and "error" in (refused.error or "")
    assert (await hub.send("panel.input", {"input": "sd_remove"})).ok
    await hub.wait_state(lambda s: s["sd"]["status"] == "absent" and s["led"] == "slow_blue")
    assert (await hub.send("panel.input", {"input": "sd_insert", "capacity_mb": 8})).ok
    state = await hub.wait_state(lambda s: s["sd"]["status"] == "not_initialized")
    assert state["sd"]["capacity"] == 8 * 1024 * 1024
    assert not (await hub.send("camera.record", {"on": True})).ok  # C4.1: initialize first
    assert (await hub.send("camera.sd.initialize")).ok
    await hub.wait_state(lambda s: s["sd"]["status"] == "initializing")
    await hub.wait_state(lambda s: s["sd"]["status"] == "normal")
    assert (await hub.send("camera.record", {"on": True})).ok
    await asyncio.sleep(1)
    stopped = await hub.send("camera.record", {"on": False})
    assert stopped.ok and stopped.result["file"]
    state = await hub.wait_state(lambda s: s["sd"]["recordings"] == 1 and s["sd"]["used"] > 0)
    assert state["sd"]["free"] == state["sd"]["capacity"] - state["sd"]["used"]
    async with http(camera) as web:  # C7.1: the card's recordings can be listed and fetched
        listing = (await web.get("/sd/recordings")).json()
        assert [r["name"] for r in listing["recordings"]] == [stopped.result["file"]]
        assert listing["recordings"][0]["reason"] == "manual"
        clip = await web.get(f"/sd/recordings/{stopped.result['file']}")
        assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
        with av.open(io.BytesIO(clip.content)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
        for bad in ("nope.mp4", "..%2Fsettings.json", "%2E%2E%2F%2E%2E%2Fsettings.json"):
            assert (await web.get(f"/sd/recordings/{bad}")).status_code == 404


async def test_c4_3_full_card_overwrites_the_oldest_recording(
    broker: RunningBroker, hub: Hub, tmp_path: Path, camera_cache: Path
) -> None:
    sd = tmp_path / "cam" / "sd"
    sd.mkdir(parents=True)
    for index, name in enumerate(("20200101-old.mp4", "20200102-older-but-newer.mp4")):
        (sd / name).write_bytes(b"\0" * 524_000)
        stamp = 1_600_000_000 + index
        os.utime(sd / name, (stamp, stamp))
    async with make_camera(broker, tmp_path / "cam", camera_cache, sd_capacity_mb=1) as cam:
        assert cam.device.sd.card.used == 1_048_000  # 576 bytes free of 1 MiB
        await hub.wait_state(lambda s: s["led"] == "slow_blue")
        assert (await hub.send("camera.record", {"on": True})).ok
        await asyncio.sleep(2.5)
        assert (await hub.send("camera.record", {"on": False})).ok
        assert not (sd / "20200101-old.mp4").exists()  # the oldest went first
        assert (sd / "20200102-older-but-newer.mp4").exists()
        assert cam.device.sd.card.used <= cam.device.sd.card.capacity


async def test_c1_led_solid_blue_while_the_main_stream_is_watched(camera: CameraEmulator, hub: Hub) -> None:
    assert camera.rtsp is not None
    client = RawRtspClient(camera.rtsp.port, password=CODE)
    session = await asyncio.to_thread(client.play_tcp)
    state = await hub.wait_state(lambda s: s["watching"] == 1)
    assert state["led"] == "solid_blue"
    await asyncio.to_thread(client.request, "TEARDOWN", camera.rtsp_url("live"), {"Session": session[0]})
    await hub.wait_state(lambda s: s["watching"] == 0 and s["led"] == "slow_blue")
    client.close()


async def test_c1_the_hubs_recorder_is_no_viewer_but_its_app_viewers_are(
    camera: CameraEmulator, hub: Hub
) -> None:
    """C1 (issue 15 item 14): the hub's recorder plays /live all day and says so in its User-Agent: the LED
    stays slow blue; the hub reports the people watching in the app (camera.viewers), who light it blue."""
    assert camera.rtsp is not None
    client = RawRtspClient(camera.rtsp.port, password=CODE)
    base = camera.rtsp_url("live")
    agent = {"User-Agent": "vakt-hub-recorder/1"}

    def play_as_recorder() -> str:
        client.request("DESCRIBE", base, {"Accept": "application/sdp", **agent})
        setup = client.request(
            "SETUP", f"{base}/trackID=0", {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1", **agent}
        )
        session = setup.headers["session"].split(";")[0]
        assert client.request("PLAY", base, {"Session": session, **agent}).status == 200
        return session

    await asyncio.to_thread(play_as_recorder)
    await asyncio.sleep(0.5)
    assert camera.rtsp.sessions and hub.state["watching"] == 0 and hub.state["led"] == "slow_blue"
    assert (await hub.send("camera.viewers", {"count": 2})).ok
    await hub.wait_state(lambda s: s["watching"] == 2 and s["led"] == "solid_blue")
    assert (await hub.send("camera.viewers", {"count": 0})).ok
    await hub.wait_state(lambda s: s["watching"] == 0 and s["led"] == "slow_blue")
    assert not (await hub.send("camera.viewers", {"count": -1})).ok
    client.close()


async def test_c10_network_off_goes_offline_with_slow_red_and_comes_back(
    camera: CameraEmulator, hub: Hub
) -> None:
    ack = await hub.send("panel.input", {"input": "network", "value": "off", "seconds": 1.5})
    assert ack.ok
    await hub.until(lambda: hub.availability[-1] == "offline")
    assert camera.state()["led"] == "slow_red"
    assert camera.rtsp is not None and not camera.rtsp.running
    await hub.until(lambda: hub.availability[-1] == "online", timeout=10)
    await hub.wait_state(lambda s: s["led"] == "slow_blue" and s["network"] == "online")
    assert camera.rtsp.running


async def test_c2_reset_held_four_seconds_restores_defaults_into_setup_mode(
    camera: CameraEmulator, hub: Hub
) -> None:
    assert (await hub.send("camera.settings", {"name": "Porch", "detection_sensitivity": 90})).ok
    short = await hub.send("panel.input", {"input": "reset_hold", "seconds": 1})
    assert short.ok and short.result["reset"] is False
    assert (await hub.send("panel.input", {"input": "reset_hold", "seconds": 4})).ok
    await hub.event("Restart", lambda e: e.data["factory_reset"] is True)
    await hub.until(lambda: hub.availability[-1] == "offline")
    state = await hub.wait_state(lambda s: s["led"] == "fast_blue")
    assert state["settings"]["name"] == "Camera" and state["settings"]["detection_sensitivity"] == 50
    assert state["setup_mode"] is True
    five = await hub.send("camera.wifi.join", {"ssid": "home", "band_ghz": 5})
    assert not five.ok and "2.4 GHz" in (five.error or "")  # C3.1
    assert (await hub.send("camera.wifi.join", {"ssid": "home"})).ok
    await hub.wait_state(lambda s: s["led"] == "slow_blue" and not s["setup_mode"])


async def test_restart_goes_offline_then_back(camera: CameraEmulator, hub: Hub) -> None:
    seen = len(hub.states)
    assert (await hub.send("camera.restart")).ok
    await hub.until(lambda: hub.availability[-1] == "offline")
    await hub.until(lambda: hub.availability[-1] == "online")
    await hub.wait_state(lambda s: s["led"] == "slow_blue")
    assert "solid_red" in [s["led"] for s in hub.states[seen:]]  # C1: solid red while starting


async def test_c10_1_events_raised_while_offline_are_delivered_when_back(
    camera: CameraEmulator, hub: Hub
) -> None:
    assert (await hub.send("panel.input", {"input": "network", "value": "off", "seconds": 2})).ok
    await hub.until(lambda: hub.availability[-1] == "offline")
    async with http(camera) as web:  # someone at the camera: the card fails while it is offline
        assert (await web.post("/panel/input", json={"input": "sd_fault"})).status_code == 200
    assert not [e for e in hub.events if e.type == "SdCardStatus"]
    await hub.until(lambda: hub.availability[-1] == "online")
    event = await hub.event("SdCardStatus", lambda e: e.data["status"] == "error")
    assert event.source == SERIAL
    await hub.wait_state(lambda s: s["led"] == "fast_red")


async def test_c10_2_power_off_and_on_through_the_physical_panel(camera: CameraEmulator, hub: Hub) -> None:
    async with http(camera) as web:
        assert (await web.post("/panel/input", json={"input": "power", "value": "off"})).status_code == 200
        await hub.until(lambda: hub.availability[-1] == "offline")
        assert camera.state()["led"] == "off"
        refused = await web.post("/panel/input", json={"input": "sd_fault"})
        assert refused.status_code == 400 and "powered off" in refused.json()["error"]
        assert (await web.post("/panel/input", json={"input": "power", "value": "on"})).status_code == 200
        await hub.until(lambda: hub.availability[-1] == "online")
        await hub.wait_state(lambda s: s["led"] == "slow_blue" and s["power"] == "on")
        bad = await web.post("/panel/input", json={"input": "self_destruct"})
        assert bad.status_code == 400


async def test_snapshot_needs_auth_and_flip_image_turns_it_upside_down(
    camera: CameraEmulator, hub: Hub
) -> None:
    async with http(camera, auth=False) as anonymous:
        assert (await anonymous.get("/snapshot.jpg")).status_code == 401
    async with http(camera) as web:
        upright = cv2.imdecode(
            np.frombuffer((await web.get("/snapshot.jpg")).content, np.uint8), cv2.IMREAD_GRAYSCALE
        )
        assert upright.shape == (360, 640)
        assert (await hub.send("camera.settings", {"flip_image": True})).ok
        flipped = cv2.imdecode(
            np.frombuffer((await web.get("/snapshot.jpg")).content, np.uint8), cv2.IMREAD_GRAYSCALE
        )
    # the caption is written in white at the top left: flipped, it is at the bottom right
    caption = (slice(8, 30), slice(8, 200))
    assert (upright[caption] > 200).sum() > 50
    assert (upright[-25:-5, 8:200] > 200).sum() > 30  # the on-screen time (C6) at the bottom left
    assert (flipped[::-1, ::-1][caption] > 200).sum() > 50 and (flipped[caption] > 200).sum() < 10
    # C6: every stream follows, not only the snapshot: the flipped main and sub-streams are encoded once
    # and swapped in at a keyframe; the snapshot is then taken from the flipped main stream, not flipped twice
    async with asyncio.timeout(60):
        while not (camera.main_flipped and camera.streams["sub"].gop_clip.name.endswith("flipped-sub.mp4")):
            await asyncio.sleep(0.1)
    for name in ("live", "sub"):
        stream = camera.streams[name]
        jpeg = snapshot_jpeg(stream.gop_clip.video, list(stream.gop))
        frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
        third = frame.shape[0] // 3  # the generated scene: dark sky above, lighter grass in the lower third
        top, bottom = float(frame[:third].mean()), float(frame[-third:].mean())
        assert top > bottom + 8, f"{name} stream is not flipped (top {top:.0f}, bottom {bottom:.0f})"
    async with http(camera) as web:
        again = cv2.imdecode(
            np.frombuffer((await web.get("/snapshot.jpg")).content, np.uint8), cv2.IMREAD_GRAYSCALE
        )
    assert (again[::-1, ::-1][caption] > 200).sum() > 50 and (again[caption] > 200).sum() < 10
    # and back upright
    assert (await hub.send("camera.settings", {"flip_image": False})).ok
    async with asyncio.timeout(30):
        while camera.main_flipped:
            await asyncio.sleep(0.1)
    async with http(camera) as web:
        upright_again = cv2.imdecode(
            np.frombuffer((await web.get("/snapshot.jpg")).content, np.uint8), cv2.IMREAD_GRAYSCALE
        )
    assert (upright_again[caption] > 200).sum() > 50


async def test_c3_3_wifi_change_goes_offline_then_joins_the_new_network(
    camera: CameraEmulator, hub: Hub
) -> None:
    five = await hub.send("camera.wifi.change", {"ssid": "garden", "band_ghz": 5})
    assert not five.ok and "2.4 GHz" in (five.error or "")  # C3.1
    ack = await hub.send("camera.wifi.change", {"ssid": "garden"})
    assert ack.ok and ack.result == {"ssid": "garden", "offline_first": True}
    await hub.until(lambda: hub.availability[-1] == "offline")
    await hub.until(lambda: hub.availability[-1] == "online")
    await hub.event("NetworkJoined", lambda e: e.data.get("ssid") == "garden")
    await hub.wait_state(lambda s: s["wifi"]["ssid"] == "garden" and s["network"] == "online")


def pcm_tone(seconds: float, rate: int = 16000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()


async def test_c5_3_speaker_keeps_talk_audio_as_wav(camera: CameraEmulator, hub: Hub, assets: Path) -> None:
    async with http(camera) as web:
        for _ in range(4):
            assert (await web.post("/audio/speaker", content=pcm_tone(0.25))).status_code == 200
        state = await hub.wait_state(lambda s: s["speaker"]["seconds"] == 1.0)
        assert state["speaker"]["last_file"].startswith("talk-")
        wav = (await web.get("/audio/speaker/last.wav")).content
        with wave.open(io.BytesIO(wav)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (
                16000,
                1,
                2,
                16000,
            )
        speech = (assets / "audio" / "speech_16k_mono.wav").read_bytes()
        reply = await web.post("/audio/speaker?new=1", content=speech)
        assert reply.status_code == 200 and reply.json()["seconds"] == pytest.approx(11, abs=0.1)
        assert (await web.post("/audio/speaker", content=b"\x01\x02\x03")).status_code == 415
        eight_k = io.BytesIO()
        with wave.open(eight_k, "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000), w.writeframes(b"\0\0" * 800)
        refused = await web.post("/audio/speaker", content=eight_k.getvalue())
        assert refused.status_code == 415 and "16 kHz" in refused.json()["error"]
        assert (await hub.send("camera.settings", {"audio": False})).ok
        assert (await web.post("/audio/speaker", content=pcm_tone(0.1))).status_code == 409
