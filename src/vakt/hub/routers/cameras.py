"""Camera screens (C5, C6, V4): add an RTSP camera, details, settings, definition, snapshot, manual record.

Permissions (A5, ``vakt.hub.authz``): any access sees the camera; ``live_view`` the snapshot and the
definition (C5.1); ``settings`` manual recording (``Action.CONTROL``: it writes to the disk), the device
settings (C6) and the recording settings (mode, retention).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import av
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vakt.camera.settings import CameraSettings
from vakt.hub.api_types import DeviceName, printable
from vakt.hub.auth import CurrentUser
from vakt.hub.authz import Action, Need, device_rule, on_device
from vakt.hub.camera_supervisor import CameraSupervisor, password_context, split_credentials
from vakt.hub.db import DbSession
from vakt.hub.errors import errors
from vakt.hub.models.cameras import Camera, Definition, RecordingMode
from vakt.hub.models.devices import Device
from vakt.hub.mqtt import CommandError
from vakt.hub.outbound import RefusedDestination, check_camera_url
from vakt.hub.permissions import ALL_PERMISSIONS, DeviceAccess, Permission
from vakt.hub.quotas import ensure_camera_room
from vakt.hub.settings import HubSettings
from vakt.media.clips import NoFootage, decode_fragment_jpeg
from vakt.media.settings import MediaSettings

router = APIRouter(prefix="/api/cameras", tags=["cameras"])


@asynccontextmanager
async def service(app: FastAPI) -> AsyncIterator[None]:
    """Records every camera while the hub runs; emulated cameras announce their RTSP URLs by MQTT state."""
    settings: HubSettings = app.state.settings
    supervisor = CameraSupervisor(
        app.state.sessionmaker, app.state.broker_sync.box, app.state.bus, settings.media_dir, MediaSettings()
    )
    app.state.cameras = supervisor
    app.state.mqtt.on_state(supervisor.on_state)
    await supervisor.start()
    try:
        yield
    finally:
        await supervisor.stop()


def supervisor_of(request: Request) -> CameraSupervisor:
    supervisor: CameraSupervisor | None = getattr(request.app.state, "cameras", None)
    if supervisor is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "camera service is not running")
    return supervisor


def camera_access(action: Action | Permission | None = None) -> Any:
    """``Depends``: the camera in the path, once ``action`` is allowed (404 when it is not a camera).
    A Permission (or None: any access) is still taken, as before the authorization layer."""
    if isinstance(action, Action):
        return on_device(action, kind="camera")
    return device_rule(Need(action), kind="camera")


AnyAccess = Annotated[DeviceAccess, camera_access(Action.SEE)]
LiveAccess = Annotated[DeviceAccess, camera_access(Action.WATCH_LIVE)]
ControlAccess = Annotated[DeviceAccess, camera_access(Action.CONTROL)]
SettingsAccess = Annotated[DeviceAccess, camera_access(Action.CONFIGURE)]
Supervisor = Annotated[CameraSupervisor, Depends(supervisor_of)]


def _check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def _check_url(value: str | None) -> str | None:
    if value is not None:
        try:
            check_camera_url(value)
        except RefusedDestination as exc:
            raise ValueError(str(exc)) from None
    return value


MAX_RETENTION_MB = 1024 * 1024 * 1024  # a petabyte: anything larger is a typo


class CameraCreate(BaseModel):
    """A real RTSP/H.264 camera added by URL (V4); no MQTT."""

    name: DeviceName = Field(min_length=1)
    url: str = Field(
        pattern=r"^rtsps?://[^\s]+$", max_length=500, description="main stream, may carry user:pass@"
    )
    sub_url: str | None = Field(None, pattern=r"^rtsps?://[^\s]+$", max_length=500, description="sub-stream")
    time_zone: str = Field("UTC", description="IANA zone for the calendar (C6 Time Zone)")

    _zone = field_validator("time_zone")(_check_zone)
    _urls = field_validator("url", "sub_url")(_check_url)


class CameraSettingsIn(BaseModel):
    time_zone: str | None = None
    recording_mode: RecordingMode | None = None
    audio: bool | None = None
    retention_days: int | None = Field(None, ge=0, le=3650, description="0: no age limit")
    retention_max_mb: int | None = Field(None, ge=0, le=MAX_RETENTION_MB, description="0: no size limit")

    _zone = field_validator("time_zone")(_check_zone)


class DefinitionIn(BaseModel):
    definition: Definition


class RecordingIn(BaseModel):
    on: bool


class WifiIn(BaseModel):
    """C3.3: the network to join; the camera goes offline first, then joins it."""

    model_config = ConfigDict(extra="forbid")
    ssid: str = Field(min_length=1, max_length=32, description="the Wi-Fi network's name")
    band_ghz: float = Field(2.4, description="C3.1: only 2.4 GHz networks can be joined")


class CommandOut(BaseModel):
    """What the camera answered to a control command (its Ack's result); the state follows by push."""

    ok: bool
    result: dict[str, Any]


class CameraOut(BaseModel):
    device_id: int
    name: str
    serial: str
    emulated: bool
    online: bool
    main_url: str
    has_sub_stream: bool
    time_zone: str
    recording_mode: RecordingMode
    definition: Definition
    audio: bool
    retention_days: int
    retention_max_mb: int | None
    streaming: bool
    recording: bool
    manual_recording: bool
    recording_error: str | None
    storage_warning: str | None = None  # e.g. the free-space floor was capped (issue 10)
    stream_error: str | None = Field(
        description="why the hub stopped dialing the camera; POST .../reconnect to try again"
    )
    codec: str | None
    permissions: list[Permission]
    cloud_error: str | None = Field(
        None, description="why uploads to the cloud tier wait (C10.1); local recording goes on meanwhile"
    )
    image_encryption: bool = Field(False, description="Image Encryption (C6): footage needs the password")


async def _camera(session: DbSession, device_id: int) -> Camera:
    camera = await session.get(Camera, device_id)
    if camera is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the camera has not reported its stream address yet")
    return camera


def camera_out(access: DeviceAccess, camera: Camera, supervisor: CameraSupervisor) -> CameraOut:
    pipe = supervisor.pipelines.get(camera.device_id)
    streaming = bool(pipe and pipe.ingest.connected)
    return CameraOut(
        device_id=camera.device_id,
        name=access.device.name,
        serial=access.device.serial,
        emulated=camera.emulated,
        online=access.device.online if camera.emulated else streaming,
        main_url=camera.main_url,
        has_sub_stream=camera.sub_url is not None,
        time_zone=camera.time_zone,
        recording_mode=RecordingMode(camera.recording_mode),
        definition=Definition(camera.definition),
        audio=camera.audio,
        retention_days=camera.retention_days,
        retention_max_mb=camera.retention_max_mb,
        streaming=streaming,
        recording=bool(pipe and pipe.recorder.recording),
        manual_recording=bool(pipe and pipe.manual),
        recording_error=pipe.recorder.error if pipe else None,
        storage_warning=supervisor.storage_warning,
        stream_error=pipe.ingest.gave_up if pipe else None,
        codec=pipe.live.codec if pipe else None,
        permissions=sorted(access.permissions),
        cloud_error=supervisor.uploader.last_error if supervisor.uploader else None,
        image_encryption=camera.image_encryption,
    )


class ProbeIn(BaseModel):
    url: str = Field(pattern=r"^rtsps?://[^\s]+$", max_length=500, description="may carry user:pass@")


class ProbeOut(BaseModel):
    """V4 test connection: what the camera streams, or why it cannot be reached."""

    ok: bool
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    audio: str | None = None
    error: str | None = None


PROBE_TIMEOUT_S = 8.0


def _probe(url: str) -> ProbeOut:
    """Open the stream as the recorder would (RTSP over TCP) and read its format."""
    options = {"rtsp_transport": "tcp", "timeout": str(int(PROBE_TIMEOUT_S * 1_000_000))}
    try:
        with av.open(url, options=options, timeout=PROBE_TIMEOUT_S) as container:
            if not container.streams.video:
                return ProbeOut(ok=False, error="the stream has no video")
            ctx = container.streams.video[0].codec_context
            audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
            if ctx.name != "h264":
                why = f"the video is {ctx.name}; vakt records H.264"
                return ProbeOut(ok=False, codec=ctx.name, error=why)
            return ProbeOut(ok=True, codec=ctx.name, width=ctx.width, height=ctx.height, audio=audio)
    except av.HTTPUnauthorizedError:
        return ProbeOut(ok=False, error="the camera refused the user name or password")
    except (av.HTTPNotFoundError, av.HTTPBadRequestError):
        return ProbeOut(ok=False, error="the camera has no stream at that path")
    except (av.ConnectionRefusedError, av.TimeoutError, av.OSError) as exc:
        return ProbeOut(ok=False, error=f"nothing answered at that address ({exc.strerror or exc})")
    except av.FFmpegError as exc:
        return ProbeOut(ok=False, error=f"the stream could not be opened: {exc}")


@router.post("/probe", response_model=ProbeOut)
async def probe_camera(body: ProbeIn, user: CurrentUser) -> ProbeOut:
    """V4 test connection before adding: the stream's codec and size, or a clear reason it failed.
    The address is checked as for adding (issue 11: the hub dials no address a camera cannot have)."""
    try:
        check_camera_url(body.url)
    except RefusedDestination as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"url: {exc}") from None
    return await asyncio.to_thread(_probe, body.url)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CameraOut, responses=errors(503))
async def add_camera(
    body: CameraCreate, request: Request, user: CurrentUser, session: DbSession, supervisor: Supervisor
) -> CameraOut:
    """V4: any RTSP/H.264 camera by URL; the credentials in the URL are stored encrypted."""
    await ensure_camera_room(session, request.app.state.settings, user.id)
    main_url, username, password = split_credentials(body.url)
    sub_url = split_credentials(body.sub_url)[0] if body.sub_url else None
    device = Device(
        serial=f"RTSP-{secrets.token_hex(5).upper()}", kind="camera", model="rtsp", name=body.name,
        owner_id=user.id, online=False, state={},
    )  # fmt: skip
    session.add(device)
    await session.flush()
    secret = supervisor.box.encrypt(password, password_context(device.serial)) if password else ""
    camera = Camera(
        device_id=device.id, main_url=main_url, sub_url=sub_url, username=username, password_encrypted=secret,
        time_zone=body.time_zone, emulated=False,
    )  # fmt: skip
    session.add(camera)
    await session.commit()
    await supervisor.reconcile()
    return camera_out(DeviceAccess(device, user, True, ALL_PERMISSIONS), camera, supervisor)


@router.get("/{device_id}", response_model=CameraOut, responses=errors(409, 503))
async def get_camera(access: AnyAccess, session: DbSession, supervisor: Supervisor) -> CameraOut:
    return camera_out(access, await _camera(session, access.device.id), supervisor)


@router.patch("/{device_id}/recording-settings", response_model=CameraOut, responses=errors(409, 503))
async def update_recording_settings(
    body: CameraSettingsIn, access: SettingsAccess, session: DbSession, supervisor: Supervisor
) -> CameraOut:
    camera = await _camera(session, access.device.id)
    for field, value in body.model_dump(exclude_none=True).items():
        setattr(camera, field, value.value if isinstance(value, RecordingMode) else value)
    if body.retention_max_mb == 0:
        camera.retention_max_mb = None
    await session.commit()
    await supervisor.reconcile()
    return camera_out(access, camera, supervisor)


@router.post("/{device_id}/reconnect", response_model=CameraOut, responses=errors(409, 503))
async def reconnect(access: SettingsAccess, session: DbSession, supervisor: Supervisor) -> CameraOut:
    """Dial the camera again after the hub gave up on it (``stream_error``), or at once."""
    camera = await _camera(session, access.device.id)
    await supervisor.reconnect(access.device.id)
    return camera_out(access, camera, supervisor)


@router.put("/{device_id}/definition", response_model=CameraOut, responses=errors(409, 503))
async def set_definition(
    body: DefinitionIn, access: LiveAccess, session: DbSession, supervisor: Supervisor
) -> CameraOut:
    """C5.1: Ultra HD / Hi-Def play the main stream, Standard the sub-stream (main when there is none)."""
    camera = await _camera(session, access.device.id)
    camera.definition = body.definition.value
    await session.commit()
    return camera_out(access, camera, supervisor)


@router.get("/{device_id}/snapshot", response_class=Response, responses=errors(503))
async def snapshot(access: LiveAccess, supervisor: Supervisor) -> Response:
    """C5.1: the latest keyframe of the live stream as JPEG."""
    return await live_snapshot(supervisor, access.device.id)


async def live_snapshot(supervisor: CameraSupervisor | None, device_id: int) -> Response:
    """The latest keyframe of a camera's live stream as JPEG (503 while it is not streaming)."""
    pipe = None if supervisor is None else supervisor.pipelines.get(device_id)
    if pipe is None or pipe.live.init is None or pipe.live.latest_keyframe is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the camera is not streaming")
    try:
        jpeg = await asyncio.to_thread(decode_fragment_jpeg, pipe.live.init, pipe.live.latest_keyframe)
    except NoFootage as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/{device_id}/record", response_model=CameraOut, responses=errors(409, 503))
@router.post("/{device_id}/recording", response_model=CameraOut, responses=errors(409, 503))
async def manual_recording(
    body: RecordingIn, access: ControlAccess, session: DbSession, supervisor: Supervisor
) -> CameraOut:
    """C5.1 manual start/stop: records even with continuous recording off; its segments count as events."""
    camera = await _camera(session, access.device.id)
    pipe = supervisor.pipelines.get(access.device.id)
    if pipe is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the camera has no running pipeline")
    pipe.set_manual(body.on)
    return camera_out(access, camera, supervisor)


# -- C6 device settings: an emulated camera applies them itself (command camera.settings); the hub
# -- mirrors the two it needs (Audio for recording, Time Zone for the calendar). A real RTSP camera has
# -- only those two, kept by the hub.
LOCAL_SETTINGS = ("time_zone", "audio")


def _settings_name(value: Any) -> str:
    name = str(value).strip()
    try:
        printable(name)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"name: {exc}") from None
    if not 1 <= len(name) <= 100:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "name: 1-100 characters")
    return name


@router.get("/{device_id}/settings", responses=errors(409))
async def get_device_settings(access: SettingsAccess, session: DbSession) -> dict[str, Any]:
    camera = await _camera(session, access.device.id)
    if camera.emulated:
        values = dict((access.device.state or {}).get("settings") or {})
        values["name"] = access.device.name  # one name: the device's, shown everywhere
        return {"schema": CameraSettings.model_json_schema(), "values": values}
    schema = CameraSettings.model_json_schema()
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k in (*LOCAL_SETTINGS, "name")}
    return {"schema": schema, "values": {"name": access.device.name, "time_zone": camera.time_zone,
                                         "audio": camera.audio}}  # fmt: skip


@router.patch("/{device_id}/settings", responses=errors(409, 503, 504))
async def update_device_settings(
    body: dict[str, Any], access: SettingsAccess, session: DbSession, request: Request, supervisor: Supervisor
) -> dict[str, Any]:
    camera = await _camera(session, access.device.id)
    if "time_zone" in body:
        try:
            _check_zone(str(body["time_zone"]))
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if camera.emulated:
        try:
            ack = await request.app.state.mqtt.send_command(access.device.serial, "camera.settings", body)
        except CommandError as exc:
            raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"the camera did not answer: {exc}") from exc
        if not ack.ok:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, ack.error or "the camera refused")
        values = dict(ack.result.get("settings") or {})
        if "name" in body:
            access.device.name = str(body["name"])  # renaming in settings renames the device
    else:
        unknown = set(body) - {*LOCAL_SETTINGS, "name"}
        if unknown:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"not a setting of this camera: {sorted(unknown)}"
            )
        if "name" in body:
            access.device.name = _settings_name(body["name"])
        values = {}
    if "time_zone" in body:
        camera.time_zone = str(body["time_zone"])
    if "audio" in body:
        camera.audio = bool(body["audio"])
    await session.commit()
    await supervisor.reconcile()
    if "name" in body:  # voice assistants must learn the new name (C11.2)
        message = {"type": "device.renamed", "device_id": access.device.id, "name": access.device.name}
        await request.app.state.bus.publish(message, access.device.id)
    values.update({"name": access.device.name, "time_zone": camera.time_zone, "audio": camera.audio})
    return {"values": values}


# -- C3.3, C4.1, C6 Restart: device controls carried to an emulated camera as MQTT commands; the camera's
# -- state (network, SD card, LED) comes back in its retained state and reaches the app by push.
async def _control(request: Request, access: DeviceAccess, session: DbSession, name: str,
                   args: dict[str, Any] | None = None) -> CommandOut:  # fmt: skip
    camera = await _camera(session, access.device.id)
    if not camera.emulated:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "this camera was added by its RTSP address and has no control channel; use the camera's own app",
        )
    if not access.device.online:
        raise HTTPException(status.HTTP_409_CONFLICT, f"{access.device.name} is offline")
    try:
        ack = await request.app.state.mqtt.send_command(access.device.serial, name, args or {})
    except CommandError as exc:
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"the camera did not answer: {exc}") from exc
    if not ack.ok:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, ack.error or "the camera refused")
    return CommandOut(ok=True, result=dict(ack.result or {}))


@router.post("/{device_id}/restart", response_model=CommandOut, responses=errors(409, 504))
async def restart(access: SettingsAccess, session: DbSession, request: Request) -> CommandOut:
    """C6 Restart: the camera goes offline, starts up (LED solid red, C1) and comes back."""
    return await _control(request, access, session, "camera.restart")


@router.post("/{device_id}/storage/initialize", response_model=CommandOut, responses=errors(409, 504))
async def initialize_storage(access: SettingsAccess, session: DbSession, request: Request) -> CommandOut:
    """C4.1: format the micro SD card (-> initializing -> normal); the files on it are erased."""
    return await _control(request, access, session, "camera.sd.initialize")


@router.post("/{device_id}/wifi", response_model=CommandOut, responses=errors(409, 504))
async def change_wifi(
    body: WifiIn, access: SettingsAccess, session: DbSession, request: Request
) -> CommandOut:
    """C3.3: the camera goes offline first, then joins ``ssid`` (2.4 GHz only, C3.1) and comes back."""
    return await _control(request, access, session, "camera.wifi.change", body.model_dump())
