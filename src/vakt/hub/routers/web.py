"""The web app: static files (plain ES modules and CSS, no build step) and the single-page index."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from vakt.hub.api_types import WebPath

WEB_DIR = Path(__file__).resolve().parents[2] / "web"

router = APIRouter(tags=["web"], include_in_schema=False)

# The app's own pages; each answers with index.html and the client-side router draws the screen.
SPA_PATHS = ("/", "/signin", "/register", "/live", "/notifications", "/account")
_NO_CACHE = {"Cache-Control": "no-cache"}


def _index() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers=_NO_CACHE)


def _spa_page() -> FileResponse:
    return _index()


for _path in SPA_PATHS:
    router.add_api_route(_path, _spa_page, methods=["GET"])


@router.get("/devices/{rest:path}")
async def device_pages(rest: str) -> FileResponse:
    return _index()


@router.get("/sw.js")
async def service_worker() -> FileResponse:
    """The Web Push service worker, served from the root so its scope is the whole app."""
    headers = {**_NO_CACHE, "Service-Worker-Allowed": "/"}
    return FileResponse(WEB_DIR / "sw.js", media_type="text/javascript", headers=headers)


@router.get("/manifest.webmanifest")
async def manifest() -> FileResponse:
    return FileResponse(WEB_DIR / "manifest.webmanifest", media_type="application/manifest+json")


_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".html": "text/html"}


@router.get("/static/{path:path}")
async def static_file(path: WebPath) -> FileResponse:
    """A file of the web app; nothing outside the web folder is reachable."""
    target = (WEB_DIR / path).resolve()
    if not target.is_relative_to(WEB_DIR) or not target.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such file: {path}")
    return FileResponse(target, media_type=_TYPES.get(target.suffix), headers=_NO_CACHE)
