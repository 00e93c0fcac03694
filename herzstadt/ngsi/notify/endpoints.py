"""Which notification endpoints the broker connects to (no SSRF through subscriptions).

An endpoint is connected to only when its host (and port) is on the allow-list
``HERZSTADT_NGSI_NOTIFY_HOSTS`` (``host``, ``host:port``, ``*.example.org``; ``*`` = any host;
empty = none) and every address the host resolves to is public (the checks of
``herzstadt.ngsi.fetch``), unless ``HERZSTADT_NGSI_NOTIFY_ALLOW_PRIVATE``. The connection goes to
the checked address (no second DNS lookup). Subscriptions are checked when created or updated
(the allow-list and literal addresses: 400 when refused); every delivery checks again.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..fetch import HostList, is_public

DEFAULT_PORTS = {"http": 80, "https": 443, "mqtt": 1883, "mqtts": 8883}


class EndpointRefused(Exception):
    """The endpoint may not be connected to (the message says why)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    path: str  # HTTP: path + query; MQTT: the topic
    user: str | None = None
    password: str | None = None

    @property
    def key(self) -> str:
        """What deliveries are grouped (and concurrency-limited) by."""
        return f"{self.scheme}://{self.host}:{self.port}"


def parse(uri: str) -> Endpoint:
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as e:
        raise EndpointRefused(f"endpoint {uri!r} is not a valid URL: {e}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise EndpointRefused(
            f"endpoint scheme {parts.scheme!r} is not supported (http, https, mqtt, mqtts)"
        )
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise EndpointRefused(f"endpoint {uri!r} has no host")
    if scheme.startswith("http") and (parts.username or parts.password):
        raise EndpointRefused("HTTP endpoints must not carry user information in the URL")
    if scheme.startswith("mqtt"):
        path = unquote(parts.path.lstrip("/"))
        if not path:
            raise EndpointRefused("an MQTT endpoint needs a topic (mqtt://host:port/topic)")
    else:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Endpoint(
        scheme,
        host,
        port or DEFAULT_PORTS[scheme],
        path,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


class EndpointPolicy:
    """The allow-list and the address checks of notification endpoints."""

    def __init__(self, hosts: list[str], *, allow_private: bool = False):
        entries = [h.strip() for h in hosts if h.strip()]
        self.any_host = "*" in entries
        self.hosts = HostList([h for h in entries if h != "*"])
        self.allow_private = allow_private

    def check(self, uri: str) -> Endpoint:
        """The parsed endpoint, or ``EndpointRefused`` (allow-list, literal private address)."""
        ep = parse(uri)
        if not (self.any_host or self.hosts.allows(ep.host, ep.port)):
            raise EndpointRefused(
                f"notification endpoint host {ep.host}:{ep.port} is not allowed"
                " (HERZSTADT_NGSI_NOTIFY_HOSTS)"
            )
        lit = _literal(ep.host)
        if lit is not None and not self.allow_private and not is_public(lit):
            raise EndpointRefused(
                f"notification endpoint address {lit} is not a public address"
                " (HERZSTADT_NGSI_NOTIFY_ALLOW_PRIVATE)"
            )
        return ep

    def addresses(self, ep: Endpoint) -> list[str]:
        """The checked addresses to connect to (resolved now; all must be public)."""
        if not (self.any_host or self.hosts.allows(ep.host, ep.port)):
            raise EndpointRefused(f"host {ep.host}:{ep.port} is not allowed")
        lit = _literal(ep.host)
        if lit is not None:
            addrs = [lit]
        else:
            try:
                infos = socket.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM)
            except OSError as e:
                raise EndpointRefused(f"{ep.host} does not resolve: {e}") from None
            addrs = list(dict.fromkeys(str(i[4][0]) for i in infos))
        if not addrs:
            raise EndpointRefused(f"{ep.host} has no address")
        if not self.allow_private:
            bad = [a for a in addrs if not is_public(a)]
            if bad:
                raise EndpointRefused(f"{ep.host} resolves to the non-public address {bad[0]}")
        return addrs
