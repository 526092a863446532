"""Where a webhook may point (SSRF protection, SPEC §20).

A URL must be ``https`` and every address its host resolves to must be public: no private,
loopback, link-local, multicast, reserved or unspecified address (IPv4-mapped IPv6 included).
The check runs at subscribe time and again before each attempt, AFTER resolution: the delivery
connects to the address that was checked (``resolve``), never resolving the name a second time,
so a name that changes its answer between check and connect (DNS rebinding) cannot slip through.
``WEBHOOK_ALLOW_PRIVATE=1`` (development, tests) admits ``http`` and non-public addresses.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from config.api.errors import WebhookUrlRefused


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (Host header, TLS server name)
    port: int
    path: str  # path and query
    address: str  # the checked IP to connect to


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) or 422 (10029)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused("The URL does not parse.") from exc
    scheme = parts.scheme.lower()
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise WebhookUrlRefused("Webhook URLs must use https.")
    if not parts.hostname:
        raise WebhookUrlRefused("The URL names no host.")
    if parts.username or parts.password:
        raise WebhookUrlRefused("The URL must not carry credentials.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def resolve(url: str) -> Target:
    """The URL's target with a checked address, or 422 (10029) naming why not."""
    scheme, host, port, path = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise WebhookUrlRefused(f"The host {host} does not resolve.") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise WebhookUrlRefused(f"The host {host} does not resolve.")
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise WebhookUrlRefused(
                f"The host {host} resolves to a private, loopback or link-local address "
                f"({refused[0]})."
            )
    return Target(scheme, host, port, path, addresses[0])
