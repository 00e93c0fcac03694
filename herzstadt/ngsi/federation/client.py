"""The outgoing HTTP client of distributed operations.

It reuses the SSRF protections of the @context fetcher (``fetch.SafeFetcher``): the endpoint's
host must be on the allow-list, every address it resolves to must be public unless private
addresses are allowed, the connection goes to the checked address, one deadline covers the whole
exchange, the answer is bounded in size. Redirects are never followed (a context source answers
itself). Any failure is a :class:`SourceFailed` whose text names no internal detail beyond the
registration's endpoint; the reason is logged at debug level.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..fetch import SafeFetcher, _Conn, _Refused, _shut

log = logging.getLogger(__name__)

USER_AGENT = "herzstadt-ngsi-ld/1 (distributed operations)"


class SourceFailed(Exception):
    """A forwarded request got no usable answer (refused host, network, timeout, size)."""


@dataclass(slots=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""


class SourceClient(SafeFetcher):
    """``request(method, url, headers, body)`` under the fetcher's checks."""

    def __init__(
        self,
        allowed_hosts: list[str],
        *,
        allow_private: bool = False,
        deadline: float = 5.0,
        max_bytes: int = 4 * 1024 * 1024,
        ssl_context: ssl.SSLContext | None = None,
    ):
        super().__init__(
            allowed_hosts,
            allow_private=allow_private,
            deadline=deadline,
            max_bytes=max_bytes,
            max_redirects=0,
            ssl_context=ssl_context,
        )

    def request(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        end = time.monotonic() + self.deadline
        try:
            return self._exchange(method, url, headers or [], body, end)
        except (_Refused, OSError, ValueError, http.client.HTTPException) as e:
            log.info("context source %s %s failed: %s", method, url, e)
            raise SourceFailed(f"context source {url} did not answer") from None

    def _exchange(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        end: float,
    ) -> Answer:
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
            from ..fetch import is_public

            bad = [a for a in addrs if not is_public(a)]
            if bad:
                raise _Refused(f"{host} resolves to a non-public address {bad[0]}")
        sock = self._connect(addrs, port, end)
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
            lines = [f"{method} {path} HTTP/1.1", f"Host: {hosthdr}"]
            names = {k.lower() for k, _ in headers}
            for k, v in headers:
                if "\r" in k or "\n" in k or "\r" in v or "\n" in v:
                    raise _Refused("a header with a line break")
                lines.append(f"{k}: {v}")
            if "user-agent" not in names:
                lines.append(f"User-Agent: {USER_AGENT}")
            lines.append("Accept-Encoding: identity")
            lines.append("Connection: close")
            if body is not None or method in ("POST", "PUT", "PATCH"):
                lines.append(f"Content-Length: {len(body or b'')}")
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
            sock.settimeout(max(0.001, end - time.monotonic()))
            sock.sendall(head + (body or b""))
            resp = http.client.HTTPResponse(_Conn(sock, end), method=method)  # type: ignore[arg-type]
            resp.begin()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            length = hdrs.get("content-length")
            if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
                raise _Refused(f"Content-Length {length} over {self.max_bytes}")
            chunks: list[bytes] = []
            total = 0
            while method != "HEAD" and resp.status not in (204, 304):
                chunk = resp.read1(65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > self.max_bytes:
                    raise _Refused(f"body over {self.max_bytes} bytes")
                chunks.append(chunk)
            if time.monotonic() >= end:
                raise _Refused("deadline passed")
            return Answer(resp.status, hdrs, b"".join(chunks))
        finally:
            watchdog.cancel()
            sock.close()
