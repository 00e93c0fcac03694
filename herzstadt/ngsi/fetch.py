"""Fetching remote @context documents without becoming an SSRF tool.

``SafeFetcher.fetch(url)`` GETs a document only when

* the URL is ``http``/``https`` without user information, and its host is on the allow-list
  (``host``, ``host:port``, ``*.example.org`` for the subdomains of example.org; an empty list
  allows nothing);
* every address the host resolves to is a public one (no loopback, private, link-local,
  shared, multicast, reserved or unspecified address, IPv4-mapped IPv6 included), unless
  ``allow_private``; the connection goes to the checked address (no second DNS lookup, so DNS
  rebinding cannot swap it), https with SNI and certificate verification of the host name;
* the whole exchange (DNS, connect, TLS, headers, body, every redirect) ends before
  ``deadline`` seconds: every socket read waits at most for the time left, the DNS lookup runs
  in a helper thread the caller stops waiting for at the deadline;
* the body is at most ``max_bytes`` (Content-Length and the bytes actually read);
* redirects (at most ``max_redirects``) pass the same checks.

Every failure raises :class:`LdContextNotAvailable` with the same text, whatever went wrong
(refused host, private address, closed port, timeout, TLS, size, status), so error answers are
no port-scan oracle; the reason is logged at debug level.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import LdContextNotAvailable

log = logging.getLogger(__name__)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ACCEPT = "application/ld+json, application/json;q=0.9"
USER_AGENT = "herzstadt-ngsi-ld/1 (@context fetcher)"


class _Refused(Exception):
    """Internal: why a fetch failed (logged, never shown to the client)."""


def unavailable(url: str) -> LdContextNotAvailable:
    """The one error every failed @context retrieval raises."""
    return LdContextNotAvailable(f"@context {url} could not be retrieved")


def _split_host_port(entry: str) -> tuple[str, int | None]:
    entry = entry.strip().lower()
    if entry.startswith("["):  # [v6]:port
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:
        host, port = entry, ""
    return host.rstrip("."), (int(port) if port else None)


class HostList:
    """Allow-list entries: ``host`` (any port), ``host:port``, ``*.domain`` (subdomains)."""

    def __init__(self, entries: list[str]):
        self.rules: list[tuple[str, int | None, bool]] = []
        for e in entries:
            if not e.strip():
                continue
            host, port = _split_host_port(e)
            wildcard = host.startswith("*.")
            self.rules.append((host[2:] if wildcard else host, port, wildcard))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def allows(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        for name, p, wildcard in self.rules:
            if p is not None and p != port:
                continue
            if (wildcard and host.endswith("." + name)) or (not wildcard and host == name):
                return True
        return False


def is_public(addr: str) -> bool:
    """Whether an IP address is a public unicast one (the only kind fetched by default)."""
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
        elif ip.teredo is not None:
            ip = ip.teredo[1]
        elif ip.is_site_local:  # fec0::/10, deprecated but still routed inside some networks
            return False
    return bool(
        ip.is_global
        and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback)
        and not ip.is_link_local
        and not ip.is_private
    )


class _DeadlineRaw(io.RawIOBase):
    """A socket as a raw stream whose every read waits at most for the time left."""

    def __init__(self, sock: socket.socket, end: float):
        self.sock = sock
        self.end = end

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        left = self.end - time.monotonic()
        if left <= 0:
            raise _Refused("deadline passed")
        self.sock.settimeout(left)
        return self.sock.recv_into(b)


class _Conn:
    """What ``http.client.HTTPResponse`` needs of a socket: ``makefile``."""

    def __init__(self, sock: socket.socket, end: float):
        self.sock = sock
        self.end = end

    def makefile(self, mode: str = "rb", *args: Any, **kw: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineRaw(self.sock, self.end), 8192)


Resolver = Callable[[str, int], list[str]]


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class SafeFetcher:
    def __init__(
        self,
        allowed_hosts: list[str],
        *,
        allow_private: bool = False,
        deadline: float = 5.0,
        max_bytes: int = 1024 * 1024,
        max_redirects: int = 3,
        resolve: Resolver = _getaddrinfo,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.hosts = HostList(allowed_hosts)
        self.allow_private = allow_private
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.resolve = resolve
        self.ssl_context = ssl_context

    def allows(self, url: str) -> bool:
        """Whether ``url``'s host is on the allow-list (a cheap test before any fetching)."""
        try:
            parts = urlsplit(url)
            return parts.scheme in ("http", "https") and self.hosts.allows(
                parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
            )
        except ValueError:
            return False

    def fetch(self, url: str) -> bytes:
        """The body of a 200 answer to ``GET url`` (following allowed redirects)."""
        end = time.monotonic() + self.deadline
        current = url
        try:
            for _ in range(self.max_redirects + 1):
                status, location, body = self._get(current, end)
                if status in REDIRECTS and location:
                    current = urljoin(current, location)
                    continue
                if status != 200:
                    raise _Refused(f"HTTP status {status}")
                return body
            raise _Refused("too many redirects")
        except (_Refused, OSError, ValueError, http.client.HTTPException) as e:
            # OSError covers refused/reset connections, timeouts, DNS and TLS failures
            log.debug("@context %s not fetched (at %s): %s", url, current, e)
            raise unavailable(url) from None

    def _get(self, url: str, end: float) -> tuple[int, str | None, bytes]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise _Refused(f"scheme {parts.scheme!r} not allowed")
        if parts.username is not None or parts.password is not None:
            raise _Refused("user information in the URL")
        host = parts.hostname
        if not host:
            raise _Refused("no host")
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        if not self.hosts.allows(host, port):
            raise _Refused(f"host {host}:{port} is not on the allow-list")
        addrs = self._resolve(host, port, end)
        if not addrs:
            raise _Refused("no address")
        if not self.allow_private:
            bad = [a for a in addrs if not is_public(a)]
            if bad:
                raise _Refused(f"{host} resolves to a non-public address {bad[0]}")
        sock = self._connect(addrs, port, end)
        # a watchdog shuts the connection at the deadline: it ends what the per-read timeouts
        # cannot bound by themselves (a TLS handshake made of many slow reads)
        watchdog = threading.Timer(max(0.0, end - time.monotonic()), _shut, (sock,))
        watchdog.daemon = True
        watchdog.start()
        try:
            if https:
                ctx = self.ssl_context or ssl.create_default_context()
                sock.settimeout(max(0.001, end - time.monotonic()))
                sock = ctx.wrap_socket(sock, server_hostname=host)
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            hosthdr = parts.netloc.rsplit("@", 1)[-1]
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {hosthdr}\r\nAccept: {ACCEPT}\r\n"
                f"User-Agent: {USER_AGENT}\r\nAccept-Encoding: identity\r\n"
                "Connection: close\r\n\r\n"
            )
            sock.settimeout(max(0.001, end - time.monotonic()))
            sock.sendall(request.encode("ascii"))
            resp = http.client.HTTPResponse(_Conn(sock, end), method="GET")  # type: ignore[arg-type]
            resp.begin()
            if resp.status in REDIRECTS:
                return resp.status, resp.getheader("location"), b""
            if resp.status != 200:
                return resp.status, None, b""
            length = resp.getheader("content-length")
            if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
                raise _Refused(f"Content-Length {length} over {self.max_bytes}")
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > self.max_bytes:
                    raise _Refused(f"body over {self.max_bytes} bytes")
                chunks.append(chunk)
            if time.monotonic() >= end:
                raise _Refused("deadline passed")  # the watchdog shut the connection
            if length is not None and length.strip().isdigit() and total != int(length):
                raise _Refused(f"body of {total} bytes, Content-Length {length}")
            return 200, None, b"".join(chunks)
        finally:
            watchdog.cancel()
            sock.close()

    def _resolve(self, host: str, port: int, end: float) -> list[str]:
        """The addresses of ``host``; the lookup runs in a helper thread so that a slow DNS
        server cannot hold the caller past the deadline."""
        try:
            ipaddress.ip_address(host)
            return [host]  # a literal address: no lookup
        except ValueError:
            pass
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["addrs"] = self.resolve(host, port)
            except Exception as e:  # reported to the caller below
                box["error"] = e

        t = threading.Thread(target=run, name="context-dns", daemon=True)
        t.start()
        t.join(max(0.0, end - time.monotonic()))
        if t.is_alive():
            raise _Refused(f"DNS lookup of {host} past the deadline")
        if "error" in box:
            raise _Refused(f"DNS lookup of {host} failed: {box['error']}")
        addrs: list[str] = box["addrs"]
        return addrs

    def _connect(self, addrs: list[str], port: int, end: float) -> socket.socket:
        last: Exception = _Refused("no address")
        for addr in addrs:
            left = end - time.monotonic()
            if left <= 0:
                raise _Refused("deadline passed")
            family = socket.AF_INET6 if ":" in addr else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(left)
            try:
                sock.connect((addr, port))
                return sock
            except OSError as e:
                sock.close()
                last = e
        raise last
