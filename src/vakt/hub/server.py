"""Serving the hub with uvicorn inside an asyncio program that owns the signals (demo, ``vakt hub``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator

import uvicorn
from fastapi import FastAPI


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the caller handles SIGINT/SIGTERM and asks us to exit


@contextlib.asynccontextmanager
async def serve(
    app: FastAPI, host: str, port: int, log_level: str = "warning"
) -> AsyncIterator[uvicorn.Server]:
    """Run ``app`` on host:port until the block ends; raises if it cannot start (port taken ...)."""
    server = _QuietServer(uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on"))
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
