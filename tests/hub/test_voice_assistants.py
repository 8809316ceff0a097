"""Issue 13 items 2-4 (C11, V1-V2): the Alexa Smart Home API v3 endpoint and Google Smart Home fulfillment
end to end, with a real hub, Mosquitto, gateway and lock emulator, accounts linked through the hub's
OAuth server, and a local receiver in place of Alexa's event gateway, Login with Amazon and Google's
Home Graph. Every Alexa message the hub sends is validated against Amazon's published schema
(../shared/assets/schemas, draft 4)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import jsonschema
import pytest
from sqlalchemy import select

from tests.hub.assistants import Client, Receiver, link, register_client
from tests.hub.conftest import Hub, Mosquitto, hub_settings, label, running_hub
from vakt.gateway.config import GatewayConfig
from vakt.gateway.service import Gateway
from vakt.hub.camera_supervisor import password_context
from vakt.hub.models.cameras import Camera
from vakt.hub.models.devices import Device, DeviceEvent
from vakt.protocol import DeviceCredentials, DeviceLabel
from vakt.protocol.topics import Channel, topic

SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "assets" / "schemas"
SCHEMA_FILE = SCHEMA / "alexa_smart_home_message_schema.json"
PIN = "4711"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def alexa_schema() -> jsonschema.Draft4Validator:
    if not SCHEMA_FILE.exists():
        pytest.skip(f"Amazon's Alexa message schema is absent ({SCHEMA_FILE}); see shared/assets/README.md")
    return jsonschema.Draft4Validator(json.loads(SCHEMA_FILE.read_text()))


@dataclass
class AlexaHome:
    hub: Hub
    user_id: int
    token: str  # the account's sign-in token
    client: Client
    access_token: str
    google_token: str
    lock_id: int
    lock: DeviceLabel
    camera_id: int
    camera: DeviceLabel
    secret_camera_id: int
    receiver: Receiver
    schema: jsonschema.Draft4Validator

    async def send(self, namespace: str, name: str, **parts: Any) -> dict[str, Any]:
        directive = {
            "header": {
                "namespace": namespace,
                "name": name,
                "payloadVersion": "3",
                "messageId": str(uuid.uuid4()),
                "correlationToken": "corr-" + uuid.uuid4().hex,
            },
            **parts,
        }
        async with self.hub.client() as c:
            r = await c.post("/api/alexa/v3", json={"directive": directive})
        assert r.status_code == 200, r.text
        message = dict(r.json())
        self.valid(message)
        return message

    def valid(self, message: dict[str, Any]) -> None:
        errors = sorted(self.schema.iter_errors(message), key=lambda e: e.path)
        assert not errors, f"not a valid Alexa message: {errors[0].message}\n{json.dumps(message)[:2000]}"

    def endpoint(self, device_id: int, token: str | None = None) -> dict[str, Any]:
        return {
            "scope": {"type": "BearerToken", "token": token or self.access_token},
            "endpointId": f"vakt-{device_id}",
            "cookie": {},
        }


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()):
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)
    return result


@pytest.fixture
async def home(
    tmp_path: Path, mosquitto: Mosquitto, alexa_schema: jsonschema.Draft4Validator
) -> AsyncIterator[AlexaHome]:
    receiver = Receiver()
    await receiver.start()
    receiver.answers["/auth/o2/token"] = (
        200,
        {"access_token": "lwa-access", "refresh_token": "lwa-refresh", "expires_in": 3600},
    )
    settings = hub_settings(
        tmp_path,
        mosquitto,
        alexa_event_gateway_url=f"{receiver.url}/v3/events",
        alexa_lwa_token_url=f"{receiver.url}/auth/o2/token",
        alexa_client_id="amzn1.application-oa2-client.test",
        alexa_client_secret="skill-secret",
        google_report_state_url=f"{receiver.url}/google/report",
        google_request_sync_url=f"{receiver.url}/google/sync",
        google_api_token="graph-token",
        outbound_allowed_hosts=["127.0.0.1"],
        pin_max_failures=3,
    )
    async with running_hub(settings, mosquitto) as hub:
        user_id, token = await hub.user("alice", PASSWORD)
        async with hub.client(token) as c:
            r = await c.put("/api/auth/unlock-pin", json={"password": PASSWORD, "pin": PIN})
            assert r.status_code == 204, r.text
        gateway_label, lock_label = label("gateway"), label("lock")
        gateway = await hub.add_device(token, gateway_label)
        lock = await hub.add_device(token, lock_label, gateway_id=gateway["id"], name="Front door")
        camera_label = label("camera")
        camera = await hub.add_device(token, camera_label, name="Porch")
        secret = await hub.add_device(token, label("camera"), name="Bedroom")
        async with hub.app.state.sessionmaker() as s:  # the cameras as they report themselves
            for device_id, encrypted in ((camera["id"], False), (secret["id"], True)):
                row = await s.get(Device, device_id)
                assert row is not None
                row.online = True
                row.state = {"settings": {"image_encryption": encrypted, "audio": True}}
                sealed = hub.app.state.broker_sync.box.encrypt("cam-pass", password_context(row.serial))
                s.add(
                    Camera(
                        device_id=device_id,
                        main_url="rtsp://192.168.1.20:554/live",
                        username="admin",
                        password_encrypted=sealed,
                    )
                )
            await s.commit()
        client = await register_client(hub, token, "alexa")
        tokens = await link(hub, token, client)
        google_tokens = await link(hub, token, await register_client(hub, token, "google"))
        config = GatewayConfig(
            serial=gateway_label.serial,
            code=gateway_label.code,
            mqtt_port=mosquitto.port,
            data_dir=tmp_path / "gateway",
            lock_serial=lock_label.serial,
            lock_code=lock_label.code,
            tick_interval=0.05,
        )
        async with Gateway(config):

            async def online() -> bool:
                async with hub.client(token) as c:
                    row = (await c.get(f"/api/locks/{lock['id']}")).json()
                return bool(row["online"] and row["lock_state"])

            await eventually(online)
            yield AlexaHome(
                hub,
                user_id,
                token,
                client,
                tokens["access_token"],
                google_tokens["access_token"],
                lock["id"],
                lock_label,
                camera["id"],
                camera_label,
                secret["id"],
                receiver,
                alexa_schema,
            )
    await receiver.stop()


async def camera_reports(home: AlexaHome, **settings: bool) -> None:
    """The camera publishes its retained state with these settings (C6), over its own MQTT account."""
    creds = DeviceCredentials.from_label(home.camera)
    state = {"kind": "camera", "settings": {"image_encryption": False, "audio": True, **settings}}
    async with aiomqtt.Client(
        "127.0.0.1", home.hub.mosquitto.port, username=creds.username, password=creds.password
    ) as c:
        await c.publish(
            topic(home.camera.serial, Channel.STATE), json.dumps(state).encode(), qos=1, retain=True
        )

    async def stored() -> bool:  # one state at a time: the hub keeps only the newest of a batch
        async with home.hub.app.state.sessionmaker() as session:
            row = await session.get(Device, home.camera_id)
            return row is not None and row.state == state

    await eventually(stored)


async def _lock_state(home: AlexaHome) -> str:
    async with home.hub.client(home.token) as c:
        return str((await c.get(f"/api/locks/{home.lock_id}")).json()["lock_state"])


async def test_v1_alexa_discovery_state_lock_unlock_with_pin_and_events(home: AlexaHome) -> None:
    # AcceptGrant: the hub exchanges the grant code with Login with Amazon for event-gateway tokens
    r = await home.send(
        "Alexa.Authorization",
        "AcceptGrant",
        payload={
            "grant": {"type": "OAuth2.AuthorizationCode", "code": "grant-code-1"},
            "grantee": {"type": "BearerToken", "token": home.access_token},
        },
    )
    assert r["event"]["header"]["name"] == "AcceptGrant.Response"
    _, _, form = await home.receiver.wait_for(lambda m: m[0] == "/auth/o2/token")
    assert "code=grant-code-1" in form and "grant_type=authorization_code" in form

    # Discovery: the lock (with its doorbell) and the camera; never the camera with Image Encryption on
    r = await home.send(
        "Alexa.Discovery", "Discover", payload={"scope": {"type": "BearerToken", "token": home.access_token}}
    )
    endpoints = {e["endpointId"]: e for e in r["event"]["payload"]["endpoints"]}
    assert set(endpoints) == {f"vakt-{home.lock_id}", f"vakt-{home.camera_id}"}
    lock_caps = {c["interface"] for c in endpoints[f"vakt-{home.lock_id}"]["capabilities"]}
    assert {"Alexa.LockController", "Alexa.DoorbellEventSource", "Alexa.EndpointHealth"} <= lock_caps
    assert endpoints[f"vakt-{home.lock_id}"]["friendlyName"] == "Front door"
    camera = endpoints[f"vakt-{home.camera_id}"]
    assert camera["displayCategories"] == ["CAMERA"]

    # ReportState
    r = await home.send("Alexa", "ReportState", endpoint=home.endpoint(home.lock_id))
    assert r["event"]["header"]["name"] == "StateReport"
    state = {p["name"]: p["value"] for p in r["context"]["properties"]}
    assert state["lockState"] == (await _lock_state(home)).upper()
    assert state["connectivity"] == {"value": "OK"}

    # Unlock needs the account's PIN (A7): none, then a wrong one, are refused and the door stays locked
    for payload in ({}, {"pin": "0000"}):
        r = await home.send(
            "Alexa.LockController", "Unlock", endpoint=home.endpoint(home.lock_id), payload=payload
        )
        assert r["event"]["header"]["name"] == "ErrorResponse"
        assert r["event"]["payload"]["type"] == "INVALID_VALUE"
    assert await _lock_state(home) == "locked"
    r = await home.send(
        "Alexa.LockController", "Unlock", endpoint=home.endpoint(home.lock_id), payload={"pin": PIN}
    )
    assert r["event"]["header"]["name"] == "Response", r
    assert {p["name"]: p["value"] for p in r["context"]["properties"]}["lockState"] == "UNLOCKED"
    await eventually(lambda: _is(home, "unlocked"))
    # the operation log names the assistant (same audit as the app)
    async with home.hub.app.state.sessionmaker() as s:
        remote = (await s.scalars(select(DeviceEvent).where(DeviceEvent.type == "RemoteCommand"))).all()
        assert [(e.data["command"], e.data["via"], e.data["user"]) for e in remote] == [
            ("lock.unlock", "alexa", "alice")
        ]
    # the change went to the event gateway, with the Login-with-Amazon token
    _, headers, report = await home.receiver.wait_for(
        lambda m: m[0] == "/v3/events" and _changed(m[2]) == "UNLOCKED"
    )
    home.valid(report)
    assert headers["authorization"] == "Bearer lwa-access"
    assert report["event"]["endpoint"]["scope"]["token"] == "lwa-access"

    r = await home.send("Alexa.LockController", "Lock", endpoint=home.endpoint(home.lock_id))
    assert r["event"]["header"]["name"] == "Response"
    await eventually(lambda: _is(home, "locked"))
    _, _, report = await home.receiver.wait_for(lambda m: m[0] == "/v3/events" and _changed(m[2]) == "LOCKED")
    home.valid(report)

    # the doorbell on the lock (L13.1) rings on Alexa devices: DoorbellPress
    ack = await home.hub.app.state.mqtt.send_command(home.lock.serial, "panel.input", {"input": "bell"})
    assert ack.ok, ack.error
    _, _, press = await home.receiver.wait_for(
        lambda m: m[0] == "/v3/events" and m[2]["event"]["header"]["name"] == "DoorbellPress"
    )
    home.valid(press)

    # a renamed device must be discovered again (C11.2): AddOrUpdateReport with the new name
    async with home.hub.client(home.token) as c:
        r = await c.patch(f"/api/devices/{home.lock_id}", json={"name": "Back door"})
        assert r.status_code == 200, r.text
    _, _, update = await home.receiver.wait_for(
        lambda m: m[0] == "/v3/events" and m[2]["event"]["header"]["name"] == "AddOrUpdateReport"
    )
    home.valid(update)
    assert [e["friendlyName"] for e in update["event"]["payload"]["endpoints"]] == ["Back door"]

    # camera: an RTSP stream (H.264 + AAC); the encrypted camera is no endpoint at all
    r = await home.send(
        "Alexa.CameraStreamController",
        "InitializeCameraStreams",
        endpoint=home.endpoint(home.camera_id),
        payload={
            "cameraStreams": [
                {
                    "protocol": "RTSP",
                    "resolution": {"width": 1920, "height": 1080},
                    "authorizationType": "BASIC",
                    "videoCodec": "H264",
                    "audioCodec": "AAC",
                }
            ]
        },
    )
    stream = r["event"]["payload"]["cameraStreams"][0]
    assert stream["uri"] == "rtsp://admin:cam-pass@192.168.1.20:554/live"
    async with home.hub.client() as c:  # the still image's link works without sign-in, for a while
        r = await c.get(r["event"]["payload"]["imageUri"])
        assert r.status_code == 503 and "not streaming" in r.json()["message"]  # (no RTSP server here)
        r = await c.get("/api/alexa/image/forged-token")
        assert r.status_code == 404
    assert (stream["videoCodec"], stream["audioCodec"]) == ("H264", "AAC")
    r = await home.send(
        "Alexa.CameraStreamController",
        "InitializeCameraStreams",
        endpoint=home.endpoint(home.secret_camera_id),
        payload={},
    )
    assert r["event"]["payload"]["type"] == "NO_SUCH_ENDPOINT"

    # Image Encryption switched on at the camera (C11.1): Alexa is told to forget it, then to learn it again
    await camera_reports(home)
    await camera_reports(home, image_encryption=True)
    _, _, gone = await home.receiver.wait_for(
        lambda m: m[0] == "/v3/events" and m[2]["event"]["header"]["name"] == "DeleteReport"
    )
    # (Amazon's published schema has no DeleteReport: its documented shape is checked here instead)
    assert gone["event"]["header"]["namespace"] == "Alexa.Discovery"
    assert gone["event"]["payload"]["endpoints"] == [{"endpointId": f"vakt-{home.camera_id}"}]
    assert gone["event"]["payload"]["scope"] == {"type": "BearerToken", "token": "lwa-access"}
    r = await home.send(
        "Alexa.Discovery", "Discover", payload={"scope": {"type": "BearerToken", "token": home.access_token}}
    )
    assert {e["endpointId"] for e in r["event"]["payload"]["endpoints"]} == {f"vakt-{home.lock_id}"}
    await camera_reports(home, image_encryption=False)
    _, _, back = await home.receiver.wait_for(
        lambda m: (
            m[0] == "/v3/events"
            and m[2]["event"]["header"]["name"] == "AddOrUpdateReport"
            and m[2]["event"]["payload"]["endpoints"][0]["endpointId"] == f"vakt-{home.camera_id}"
        )
    )
    home.valid(back)

    # wrong PINs are counted with the remote-unlock limits: after 3, Alexa is told to wait
    kinds = []
    for _ in range(4):
        r = await home.send(
            "Alexa.LockController", "Unlock", endpoint=home.endpoint(home.lock_id), payload={"pin": "9999"}
        )
        kinds.append(r["event"]["payload"]["type"])
    assert kinds[:2] == ["INVALID_VALUE", "INVALID_VALUE"] and kinds[-1] == "RATE_LIMIT_EXCEEDED", kinds
    assert await _lock_state(home) == "locked"

    # unlinked from the account screen: every directive is refused
    async with home.hub.client(home.token) as c:
        assert (await c.delete(f"/api/oauth/links/{home.client.client_id}")).status_code == 204
    r = await home.send(
        "Alexa.Discovery", "Discover", payload={"scope": {"type": "BearerToken", "token": home.access_token}}
    )
    assert r["event"]["payload"]["type"] == "INVALID_AUTHORIZATION_CREDENTIAL"
    r = await home.send("Alexa.LockController", "Lock", endpoint=home.endpoint(home.lock_id))
    assert r["event"]["payload"]["type"] == "INVALID_AUTHORIZATION_CREDENTIAL"


async def _is(home: AlexaHome, state: str) -> bool:
    return await _lock_state(home) == state


def _changed(message: Any) -> str | None:
    if not isinstance(message, dict) or message["event"]["header"]["name"] != "ChangeReport":
        return None
    for prop in message["event"]["payload"]["change"]["properties"]:
        if prop["name"] == "lockState":
            return str(prop["value"])
    return None


async def _google(home: AlexaHome, intent: str, payload: Any = None, token: str | None = None) -> Any:
    body: dict[str, Any] = {"requestId": uuid.uuid4().hex, "inputs": [{"intent": intent}]}
    if payload is not None:
        body["inputs"][0]["payload"] = payload
    async with home.hub.client(token or home.google_token) as c:
        r = await c.post("/api/google/fulfillment", json=body)
    return r


def _unlock(device_id: int, pin: str | None, lock: bool = False) -> dict[str, Any]:
    execution: dict[str, Any] = {"command": "action.devices.commands.LockUnlock", "params": {"lock": lock}}
    if pin is not None:
        execution["challenge"] = {"pin": pin}
    return {"commands": [{"devices": [{"id": f"vakt-{device_id}"}], "execution": [execution]}]}


async def test_v2_google_sync_query_execute_with_pin_challenge(home: AlexaHome) -> None:
    lock = f"vakt-{home.lock_id}"
    # SYNC: the lock and the camera with its audio on; never the encrypted camera (C11.1, C11.2)
    r = await _google(home, "action.devices.SYNC")
    assert r.status_code == 200, r.text
    devices = {d["id"]: d for d in r.json()["payload"]["devices"]}
    assert set(devices) == {lock, f"vakt-{home.camera_id}"}
    assert devices[lock]["type"] == "action.devices.types.LOCK"
    assert devices[lock]["traits"] == ["action.devices.traits.LockUnlock"]
    assert devices[f"vakt-{home.camera_id}"]["traits"] == ["action.devices.traits.CameraStream"]
    # Google also needs the camera's audio on (C11.2): with it off, the camera is gone
    await camera_reports(home)
    await camera_reports(home, audio=False)
    _, headers, sync = await home.receiver.wait_for(lambda m: m[0] == "/google/sync")  # SYNC again
    assert sync == {"agentUserId": str(home.user_id)} and headers["authorization"] == "Bearer graph-token"
    home.receiver.received.clear()
    r = await _google(home, "action.devices.SYNC")
    assert {d["id"] for d in r.json()["payload"]["devices"]} == {lock}

    # QUERY
    r = await _google(home, "action.devices.QUERY", {"devices": [{"id": lock}, {"id": "vakt-999999"}]})
    states = r.json()["payload"]["devices"]
    assert states[lock] == {"online": True, "status": "SUCCESS", "isLocked": True, "isJammed": False}
    assert states["vakt-999999"]["errorCode"] == "deviceNotFound"

    # EXECUTE unlock: Google is asked for the PIN, a wrong one is refused, the right one opens
    r = await _google(home, "action.devices.EXECUTE", _unlock(home.lock_id, None))
    [result] = r.json()["payload"]["commands"]
    assert result == {
        "ids": [lock],
        "status": "ERROR",
        "errorCode": "challengeNeeded",
        "challengeNeeded": {"type": "pinNeeded"},
    }
    r = await _google(home, "action.devices.EXECUTE", _unlock(home.lock_id, "0000"))
    [result] = r.json()["payload"]["commands"]
    assert result["challengeNeeded"] == {"type": "challengeFailedPinNeeded"}
    assert await _lock_state(home) == "locked"
    r = await _google(home, "action.devices.EXECUTE", _unlock(home.lock_id, PIN))
    [result] = r.json()["payload"]["commands"]
    assert result["status"] == "SUCCESS" and result["states"]["isLocked"] is False, result
    await eventually(lambda: _is(home, "unlocked"))
    # the change is reported to Home Graph for this account
    _, headers, report = await home.receiver.wait_for(
        lambda m: (
            m[0] == "/google/report"
            and m[2]["payload"]["devices"]["states"].get(lock, {}).get("isLocked") is False
        )
    )
    assert headers["authorization"] == "Bearer graph-token"
    assert report["agentUserId"] == str(home.user_id)
    # locking needs no PIN
    r = await _google(home, "action.devices.EXECUTE", _unlock(home.lock_id, None, lock=True))
    assert r.json()["payload"]["commands"][0]["status"] == "SUCCESS"
    await eventually(lambda: _is(home, "locked"))

    # wrong PINs count against the same remote-unlock limits as the app (3 here)
    codes = []
    for _ in range(4):
        r = await _google(home, "action.devices.EXECUTE", _unlock(home.lock_id, "9999"))
        codes.append(r.json()["payload"]["commands"][0]["errorCode"])
    assert codes[-1] == "tooManyFailedAttempts" and codes[0] == "challengeNeeded", codes
    async with home.hub.client(home.token) as c:  # the app's own remote unlock is held back as well
        r = await c.post(f"/api/locks/{home.lock_id}/unlock", json={"pin": PIN})
        assert r.status_code == 429, r.text

    # a rename asks Google to SYNC again (C11.2)
    async with home.hub.client(home.token) as c:
        assert (await c.patch(f"/api/devices/{home.lock_id}", json={"name": "Side door"})).status_code == 200
    _, _, sync = await home.receiver.wait_for(lambda m: m[0] == "/google/sync")
    assert sync == {"agentUserId": str(home.user_id)}

    # an Alexa token is no Google token; DISCONNECT ends the link
    assert (await _google(home, "action.devices.SYNC", token=home.access_token)).status_code == 401
    assert (await _google(home, "action.devices.DISCONNECT")).json() == {}
    r = await _google(home, "action.devices.SYNC")
    assert r.status_code == 401 and "link" in r.json()["message"]
