"""Where the hub may connect on an account's behalf: webhook and Web Push URLs, RTSP camera addresses.

Any account can type a URL, so a URL must not turn the hub into a probe of its own network: webhooks
and push go over https to public addresses, unless the hub's owner allows a host (or private addresses)
in the settings; cameras may sit on the LAN, but never at an address no camera can have.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9-]{1,63})*\.?$"
)


class RefusedDestination(ValueError):
    """A URL the hub will not connect to; the message says why, for the 422 and the delivery log."""


def _address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_private(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _host(url: str, schemes: tuple[str, ...]) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port outside 0-65535
    except ValueError as exc:
        raise RefusedDestination(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise RefusedDestination(f"the URL must start with {' or '.join(s + '://' for s in schemes)}")
    host = (parts.hostname or "").lower()
    if not host or (_address(host) is None and not _HOSTNAME.match(host)):
        raise RefusedDestination("the URL has no valid host name")
    if parts.port == 0:
        raise RefusedDestination("port 0 is not a port anything listens on")
    return scheme, host


def check_web_url(url: str, allowed_hosts: frozenset[str], private_ok: bool) -> None:
    """A webhook or push endpoint: https to a public host, or a host the hub's owner allowed."""
    scheme, host = _host(url, ("https", "http"))
    if host in allowed_hosts:
        return
    if scheme != "https":
        raise RefusedDestination(
            f"only https:// is allowed; plain http only to hosts the hub's owner allows ({host} is not)"
        )
    address = _address(host)
    local_name = host in ("localhost", "localhost.") or host.endswith((".localhost", ".local", ".internal"))
    if not private_ok and (local_name or (address is not None and _is_private(address))):
        raise RefusedDestination(
            f"{host} is a loopback, link-local or private address; the hub's owner can allow it"
        )


async def check_resolved(
    url: str, allowed_hosts: frozenset[str], private_ok: bool, unresolvable_ok: bool = False
) -> None:
    """The name must not resolve to a private address (unless allowed); ``unresolvable_ok`` when a name
    that does not resolve yet may be kept (set now, delivered later)."""
    check_web_url(url, allowed_hosts, private_ok)
    host = (urlsplit(url).hostname or "").lower()
    if private_ok or host in allowed_hosts or _address(host) is not None:
        return
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM), 5
        )
    except (OSError, TimeoutError) as exc:
        if unresolvable_ok:
            return
        raise RefusedDestination(f"cannot resolve {host}: {exc}") from None
    for info in infos:
        address = _address(str(info[4][0]))
        if address is not None and _is_private(address):
            raise RefusedDestination(f"{host} resolves to the private address {address}; refused")


def check_camera_url(url: str) -> None:
    """An RTSP camera: on the LAN or anywhere, but not at an address no camera can answer from."""
    _, host = _host(url, ("rtsp", "rtsps"))
    address = _address(host)
    if address is None:
        return
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        raise RefusedDestination(
            f"{host} is not the address of a camera (unspecified, multicast or reserved)"
        )
    if address.is_link_local:
        raise RefusedDestination(f"{host} is a link-local address (cloud metadata services live there)")


@dataclass(frozen=True, slots=True)
class Destinations:
    """The hub owner's allowances, checked again right before each delivery (a name may resolve to a
    private address later than when it was set: DNS rebinding)."""

    allowed_hosts: frozenset[str] = frozenset()
    webhook_private_ok: bool = False

    async def check_webhook(self, url: str) -> None:
        await check_resolved(url, self.allowed_hosts, self.webhook_private_ok)

    async def check_push(self, url: str) -> None:
        await check_resolved(url, self.allowed_hosts, False)
