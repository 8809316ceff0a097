"""Serving the hub with uvicorn inside an asyncio program that owns the signals (demo, ``vakt hub``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Generator

import uvicorn
from fastapi import FastAPI

from vakt.hub.settings import HubSettings

_TOKEN = re.compile(r"(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Session tokens in query strings (``/api/ws?token=...``) never reach the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _TOKEN.sub(r"\1***", record.msg)
        return True


def redact_tokens_in_logs() -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the caller handles SIGINT/SIGTERM and asks us to exit


@contextlib.asynccontextmanager
async def serve(
    app: FastAPI, host: str, port: int, log_level: str = "warning"
) -> AsyncIterator[uvicorn.Server]:
    """Run ``app`` on host:port until the block ends; raises if it cannot start (port taken ...). HTTPS
    when the app's settings name a TLS certificate and key."""
    redact_tokens_in_logs()
    settings: HubSettings = app.state.settings
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(), name=f"uvicorn-{port}")
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError(f"the hub could not start on {host}:{port}")
            await asyncio.sleep(0.02)
        yield server
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 20)
