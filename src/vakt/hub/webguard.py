"""Web hardening in front of every route: foreign web pages may not change state or open WebSockets
(Origin / Sec-Fetch-Site), request bodies are bounded, and every response carries security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vakt.hub.errors import error_response
from vakt.hub.settings import HubSettings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The web app is plain ES modules, styles and workers from the hub itself; media comes from MediaSource
# blobs; the app is never framed. Inline style attributes only (a skeleton in index.html).
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; "
    "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from their CDN with an inline script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com; "
    "worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"microphone=(self), camera=(self), geolocation=(), payment=(), usb=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000")


def _origin_of(url: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) of an Origin value, lower-cased; None when it is not a web origin."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
        return None
    return parts.scheme.replace("ws", "http", 1), parts.netloc.lower()


def foreign_origin(headers: Headers, allowed: list[str]) -> str | None:
    """Why a request comes from a web page that is not the hub's (None when it does not).

    The hub's own origin is the Host it is reached at (so it works on any name or address, behind a
    proxy too); ``allowed`` adds others. Requests without Origin and Sec-Fetch-Site are not from a
    browser page (curl, devices, the tests) and pass: a browser always sends one of them cross-site."""
    origin = headers.get("origin")
    if origin is None:
        site = headers.get("sec-fetch-site")
        if site in ("cross-site", "same-site"):
            return f"the request comes from another site (Sec-Fetch-Site: {site})"
        return None
    parsed = _origin_of(origin)
    if parsed is None:
        return f"the request comes from an opaque origin ({origin[:60]!r})"
    host = headers.get("host", "").lower()
    if parsed[1] == host:
        return None
    if any(_origin_of(a) == parsed for a in allowed):
        return None
    return f"the request comes from another web origin ({origin[:100]!r}), not from the hub's"


class _BodyTooLarge(HTTPException):
    """Raised while a route reads its body; an HTTPException so FastAPI answers it as it is (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes", {"Connection": "close"})


class WebGuard:
    """ASGI middleware: origin check, body size limit and security headers for the whole hub."""

    def __init__(self, app: ASGIApp, settings: HubSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        why = foreign_origin(Headers(scope=scope), self.settings.allowed_origins)
        if why is None:
            await self.app(scope, receive, send)
            return
        message = await receive()
        if message["type"] == "websocket.connect":
            # Closing before accepting makes the server answer the handshake with HTTP 403.
            await send({"type": "websocket.close", "code": 1008, "reason": f"refused: {why}"[:120]})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        extra = self._headers(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in extra if h[0] not in present
                ]
            await send(message)

        if scope["method"] not in SAFE_METHODS:
            why = foreign_origin(headers, self.settings.allowed_origins)
            if why is not None:
                detail = f"{why}; only the hub's own web app may change things (CSRF protection)"
                await error_response(403, detail)(scope, receive, send_with_headers)
                return
        limit = self.settings.max_body_bytes
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._too_large(scope, receive, send_with_headers)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._too_large(scope, receive, send_with_headers)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is larger than {self.settings.max_body_bytes} bytes"
        response = error_response(413, detail, headers={"Connection": "close"})
        await response(scope, receive, send)

    def _headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        path: str = scope.get("path", "")
        csp = DOCS_CSP if path.startswith(DOCS_PATHS) else APP_CSP
        headers = [(b"content-security-policy", csp.encode()), *SECURITY_HEADERS]
        if scope.get("scheme") == "https":
            headers.append(HSTS)
        return headers
