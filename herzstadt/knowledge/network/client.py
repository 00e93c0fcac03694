"""Requests to partner installations, and nothing else.

Only addresses a staff member chose as a partner are fetched (the harvester reads them from
``Partner``, the adoption from the partner's record, whose links must stay on the partner's
origin). Every request passes the checks of :mod:`herzstadt.ngsi.fetch`: http(s) only, no user
information, every resolved address public (unless ``HERZSTADT_NETWORK_ALLOW_PRIVATE=1``, or the
address is this installation's own ``HERZSTADT_NETWORK_SELF_URL``), the connection to the checked
address, one deadline for the whole exchange (``HERZSTADT_NETWORK_TIMEOUT``), a size cap on the
body, at most 3 redirects that pass the same checks. Failures raise :class:`NetworkError` with a
sentence for the back office.
"""

from __future__ import annotations

import contextlib
import http.client
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from herzstadt.knowledge.network import conf
from herzstadt.ngsi.fetch import REDIRECTS, SafeFetcher, _Conn, _shut, is_public

USER_AGENT = "herzstadt-network/1"


class NetworkError(Exception):
    """A request to a partner failed; the message says why in plain words."""


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def check_url(url: str) -> str:
    """``url`` if it may be used as a partner address (http(s), a host, no credentials), else
    raises NetworkError."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise NetworkError("The address is not valid.") from None
    if parts.scheme not in ("http", "https"):
        raise NetworkError("Only http and https addresses are allowed.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise NetworkError("The address must not contain a user name or password.")
    if not parts.hostname:
        raise NetworkError("The address has no host name.")
    return url


class _Fetcher(SafeFetcher):
    """SafeFetcher's address checks and deadline, with any method, headers and the answer's
    status and headers."""

    def exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, end: float
    ) -> Response:
        parts = urlsplit(url)
        https = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        try:
            addrs = self._resolve(host, port, end)
        except Exception as e:
            raise NetworkError(f"The host name {host} could not be resolved.") from e
        if not addrs:
            raise NetworkError(f"The host name {host} could not be resolved.")
        if not (self.allow_private or conf.is_self(url)) and any(not is_public(a) for a in addrs):
            raise NetworkError(
                f"{host} is a private or local address; such addresses are not fetched "
                "(HERZSTADT_NETWORK_ALLOW_PRIVATE=1 allows them)."
            )
        try:
            sock = self._connect(addrs, port, end)
        except ConnectionRefusedError as e:
            raise NetworkError(f"{host}:{port} refused the connection.") from e
        except (TimeoutError, OSError) as e:
            raise NetworkError(f"{host}:{port} could not be reached ({e}).") from e
        except Exception as e:
            raise NetworkError(f"{host}:{port} did not answer in time.") from e
        watchdog = threading.Timer(max(0.0, end - time.monotonic()), _shut, (sock,))
        watchdog.daemon = True
        watchdog.start()
        try:
            if https:
                ctx = self.ssl_context or ssl.create_default_context()
                sock.settimeout(max(0.001, end - time.monotonic()))
                sock = ctx.wrap_socket(sock, server_hostname=host)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}"]
            all_headers = {
                "User-Agent": USER_AGENT,
                "Accept-Encoding": "identity",
                "Connection": "close",
                **headers,
            }
            if body is not None:
                all_headers["Content-Length"] = str(len(body))
            lines += [f"{k}: {v}" for k, v in all_headers.items()]
            sock.settimeout(max(0.001, end - time.monotonic()))
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
            resp = http.client.HTTPResponse(_Conn(sock, end), method=method)  # type: ignore[arg-type]
            resp.begin()
            answer = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()})
            if resp.status in REDIRECTS or resp.status == 304 or method == "HEAD":
                return answer
            length = answer.headers.get("content-length", "")
            if length.strip().isdigit() and int(length) > self.max_bytes:
                raise NetworkError(f"The answer is too large (over {self.max_bytes} bytes).")
            chunks, total = [], 0
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > self.max_bytes:
                    raise NetworkError(f"The answer is too large (over {self.max_bytes} bytes).")
                chunks.append(chunk)
            if time.monotonic() >= end:
                raise NetworkError("The partner did not answer in time.")
            answer.body = b"".join(chunks)
            return answer
        except NetworkError:
            raise
        except (TimeoutError, ssl.SSLError, OSError, http.client.HTTPException) as e:
            if time.monotonic() >= end or isinstance(e, TimeoutError):
                raise NetworkError("The partner did not answer in time.") from e
            raise NetworkError(f"The connection to {host} failed ({e.__class__.__name__}).") from e
        finally:
            watchdog.cancel()
            with contextlib.suppress(OSError):
                sock.close()


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    max_bytes: int = conf.MAX_BODY,
    timeout: float | None = None,
) -> Response:
    """One request to a partner (GET follows up to 3 redirects that pass the same checks)."""
    fetcher = _Fetcher(
        [],
        allow_private=conf.allow_private(),
        deadline=timeout or conf.timeout(),
        max_bytes=max_bytes,
    )
    end = time.monotonic() + fetcher.deadline
    current = check_url(url)
    for _ in range(4):
        answer = fetcher.exchange(method, current, headers or {}, body, end)
        location = answer.headers.get("location")
        if answer.status in REDIRECTS and location and method in ("GET", "HEAD"):
            current = check_url(urljoin(current, location))
            continue
        return answer
    raise NetworkError("The partner redirected too often.")
