"""The hub's FastAPI app: one router per area, services started in the lifespan, migrations at start-up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI

from vakt import __version__
from vakt.broker.accounts import BrokerAccounts
from vakt.files import private_folder
from vakt.hub import device_proof, maintenance, migrate
from vakt.hub.alerts import service as alerts_service
from vakt.hub.api_types import refuse_nul
from vakt.hub.auth import configure_hashing
from vakt.hub.broker_sync import BrokerSync
from vakt.hub.bus import EventBus
from vakt.hub.db import make_engine, make_sessionmaker
from vakt.hub.errors import install_error_handlers
from vakt.hub.integrations import homeassistant_bridge
from vakt.hub.mqtt import HubMqtt
from vakt.hub.ratelimit import AttemptThrottle
from vakt.hub.routers import (
    alexa,
    auth,
    cameras,
    dead_letters,
    defense,
    devices,
    encryption,
    google,
    health,
    history,
    homeassistant,
    live,
    locks,
    notifications,
    oauth,
    panels,
    shares,
    talk,
    web,
    ws,
)
from vakt.hub.secretbox import SecretBox
from vakt.hub.settings import HubSettings
from vakt.hub.webguard import WebGuard

log = logging.getLogger(__name__)

# One line per area: its router (each router carries its own /api/... prefix).
ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    devices.router,
    shares.router,
    locks.router,
    ws.router,
    panels.router,
    talk.router,
    notifications.router,
    defense.router,
    cameras.router,
    history.router,
    encryption.router,
    live.router,
    dead_letters.router,
    oauth.router,
    alexa.router,
    google.router,
    homeassistant.router,
    web.router,
]

# A service is started after the database, bus and MQTT are up, and stopped (in reverse) before them.
# Signature: service(app) -> async context manager; it finds settings, sessionmaker, bus, mqtt on app.state.
Service = Callable[[FastAPI], AbstractAsyncContextManager[None]]
SERVICES: list[Service] = [
    device_proof.service,
    maintenance.service,
    locks.service,
    alerts_service.service,
    cameras.service,
    alexa.service,
    google.service,
    homeassistant_bridge.service,
]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: HubSettings = app.state.settings
    private_folder(settings.data_dir)
    engine = make_engine(settings.database_url)
    await migrate.upgrade(engine)
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.bus = EventBus(app.state.sessionmaker)
    app.state.broker_sync = _broker_sync(app)
    async with app.state.sessionmaker() as session:
        await app.state.broker_sync.sync(session)
    app.state.mqtt = HubMqtt(settings, app.state.sessionmaker, app.state.bus)
    if settings.mqtt_enabled:
        await app.state.mqtt.start()
    try:
        async with AsyncExitStack() as stack:
            for service in app.state.services:
                await stack.enter_async_context(service(app))
            log.info("hub ready (database %s)", engine.url.render_as_string(hide_password=True))
            yield
    finally:
        await app.state.mqtt.stop()
        await engine.dispose()


def _broker_sync(app: FastAPI) -> BrokerSync:
    settings: HubSettings = app.state.settings
    accounts: BrokerAccounts | None = app.state.broker_accounts
    if (
        accounts is None
        and settings.broker_accounts_file is not None
        and settings.broker_accounts_file.exists()
    ):
        accounts = BrokerAccounts.load(settings.broker_accounts_file)
    return BrokerSync(
        accounts,
        SecretBox.from_key_file(settings.data_dir / "hub.key"),
        accounts_file=settings.broker_accounts_file,
        mosquitto_dir=settings.mosquitto_dir,
        mosquitto_port=settings.mqtt_port,
        mosquitto_pid_file=settings.mosquitto_pid_file,
    )


def create_app(
    settings: HubSettings | None = None,
    services: list[Service] | None = None,
    broker_accounts: BrokerAccounts | None = None,
) -> FastAPI:
    """The hub app. ``services`` replaces the default SERVICES list (tests); ``broker_accounts`` is the
    live account list of an embedded broker, kept in sync with the hub's devices."""
    app = FastAPI(
        title="vakt hub", version=__version__, lifespan=_lifespan, dependencies=[Depends(refuse_nul)]
    )
    app.state.settings = settings or HubSettings()
    app.state.broker_accounts = broker_accounts
    app.state.services = list(SERVICES if services is None else services)
    app.state.attempt_throttle = AttemptThrottle()
    app.state.registration_lock = asyncio.Lock()
    app.add_middleware(WebGuard, settings=app.state.settings)
    configure_hashing(app.state.settings.argon2_time_cost, app.state.settings.argon2_memory_kib)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
