"""Remote @context fetching (issue 8, finding 2): allow-list, public addresses only (after DNS and
on every redirect), a total deadline, a size cap, one error text for every failure."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from herzstadt.ngsi import fetch
from herzstadt.ngsi.errors import LdContextNotAvailable
from herzstadt.ngsi.fetch import HostList, SafeFetcher, is_public
from herzstadt.ngsi.jsonld import ContextResolver

DOC = {"@context": {"speed": "https://example.org/vocab#speed"}}


class _Handler(BaseHTTPRequestHandler):
    routes: dict  # path -> callable(handler)

    def do_GET(self):
        route = self.server.routes.get(self.path)  # type: ignore[attr-defined]
        if route is None:
            self.send_error(404)
            return
        route(self)

    def log_message(self, *args):  # quiet
        pass


def _json(doc):
    def send(h):
        body = orjson.dumps(doc)
        h.send_response(200)
        h.send_header("Content-Type", "application/ld+json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return send


def _redirect(location):
    def send(h):
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return send


def _trickle(h):
    """One byte every 0.5 s: each read returns something, the whole never ends in time."""
    h.send_response(200)
    h.send_header("Content-Length", "1000")
    h.end_headers()
    try:
        for _ in range(40):
            h.wfile.write(b" ")
            h.wfile.flush()
            if h.server.stop.wait(0.5):  # type: ignore[attr-defined]
                return
    except OSError:
        pass


def _big_chunked(h):
    """2 MiB without a Content-Length (streamed; the cap must apply to the bytes read)."""
    h.protocol_version = "HTTP/1.1"
    h.send_response(200)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    piece = b"x" * 65536
    try:
        for _ in range(32):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        h.wfile.write(b"0\r\n\r\n")
    except OSError:
        pass


@contextmanager
def context_server(routes: dict) -> Iterator[int]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.routes = routes  # type: ignore[attr-defined]
    srv.stop = threading.Event()  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.stop.set()  # type: ignore[attr-defined]
        srv.shutdown()
        srv.server_close()
        t.join(5)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _error(fetcher: SafeFetcher, url: str) -> str:
    with pytest.raises(LdContextNotAvailable) as e:
        fetcher.fetch(url)
    return e.value.detail


def test_allow_listed_loopback_with_allow_private_is_fetched():
    with context_server({"/ctx.jsonld": _json(DOC)}) as port:
        f = SafeFetcher([f"127.0.0.1:{port}"], allow_private=True, deadline=5)
        assert orjson.loads(f.fetch(f"http://127.0.0.1:{port}/ctx.jsonld")) == DOC


def test_loopback_is_refused_without_allow_private():
    with context_server({"/ctx.jsonld": _json(DOC)}) as port:
        f = SafeFetcher([f"127.0.0.1:{port}", "localhost"], deadline=5)
        _error(f, f"http://127.0.0.1:{port}/ctx.jsonld")
        # a host name that resolves to loopback: checked after DNS resolution
        _error(f, f"http://localhost:{port}/ctx.jsonld")


def test_host_not_on_the_list_is_refused_without_a_connection():
    calls = []

    def resolve(host, port):
        calls.append(host)
        return ["127.0.0.1"]

    with context_server({"/ctx.jsonld": _json(DOC)}) as port:
        f = SafeFetcher(["contexts.example.org"], allow_private=True, resolve=resolve)
        _error(f, f"http://127.0.0.1:{port}/ctx.jsonld")
        _error(f, f"http://other.example.org:{port}/ctx.jsonld")
        # an empty list allows nothing
        _error(SafeFetcher([], allow_private=True), f"http://127.0.0.1:{port}/ctx.jsonld")
    assert calls == []  # refused before any DNS lookup


def test_redirects_are_checked_at_every_hop(monkeypatch):
    """ctx.test resolves to the test server (treated as public here); a redirect to the cloud
    metadata address, to a private network, to loopback or in a loop is refused."""
    real = fetch.is_public
    monkeypatch.setattr(fetch, "is_public", lambda a: a == "127.0.0.1" or real(a))
    names = {
        "ctx.test": "127.0.0.1",
        "meta.test": "169.254.169.254",
        "ten.test": "10.1.2.3",
        "v6.test": "::ffff:10.1.2.3",
        "localhost": "127.0.0.2",
    }
    routes: dict = {}
    with context_server(routes) as port:
        routes.update(
            {
                "/ok": _json(DOC),
                "/to-ok": _redirect(f"http://ctx.test:{port}/ok"),
                "/to-meta-ip": _redirect("http://169.254.169.254/latest/meta-data/"),
                "/to-meta": _redirect(f"http://meta.test:{port}/ok"),
                "/to-ten": _redirect(f"http://ten.test:{port}/ok"),
                "/to-v6": _redirect(f"http://v6.test:{port}/ok"),
                "/to-loopback": _redirect(f"http://localhost:{port}/ok"),
                "/to-unlisted": _redirect(f"http://127.0.0.1:{port}/ok"),
                "/loop": _redirect("/loop"),
            }
        )
        f = SafeFetcher(
            ["*.test", "169.254.169.254", "localhost"],
            resolve=lambda h, p: [names.get(h, h)],
            max_redirects=3,
        )
        connected: list[str] = []
        real_connect = f._connect

        def connect(addrs, port_, end):
            connected.extend(addrs)
            return real_connect(addrs, port_, end)

        f._connect = connect  # type: ignore[method-assign]
        assert orjson.loads(f.fetch(f"http://ctx.test:{port}/to-ok")) == DOC
        for path in (
            "/to-meta-ip",
            "/to-meta",
            "/to-ten",
            "/to-v6",
            "/to-loopback",
            "/to-unlisted",
            "/loop",
        ):
            url = f"http://ctx.test:{port}{path}"
            assert _error(f, url) == f"@context {url} could not be retrieved", path
        # refused before connecting: only the test server was ever connected to
        assert set(connected) == {"127.0.0.1"}


def test_trickling_server_is_cut_off_at_the_deadline():
    with context_server({"/slow": _trickle}) as port:
        f = SafeFetcher([f"127.0.0.1:{port}"], allow_private=True, deadline=1.0)
        started = time.monotonic()
        _error(f, f"http://127.0.0.1:{port}/slow")
        # the call returned (and failed); 20 s is the trickle's own length, far beyond 1 s
        assert time.monotonic() - started < 20


def test_trickling_tls_handshake_is_cut_off_at_the_deadline():
    """A 'TLS server' that sends one byte every 0.3 s: every read gets something in time,
    only the watchdog ends the handshake."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    stop = threading.Event()

    def serve():
        conn, _ = srv.accept()
        with conn:
            # a TLS record header promising a long handshake record, then a byte at a time
            for b in b"\x16\x03\x03\x40\x00" + b"\x02" * 200:
                if stop.wait(0.3):
                    return
                try:
                    conn.sendall(bytes([b]))
                except OSError:
                    return

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        f = SafeFetcher([f"127.0.0.1:{port}"], allow_private=True, deadline=1.0)
        _error(f, f"https://127.0.0.1:{port}/ctx.jsonld")
    finally:
        stop.set()
        srv.close()
        t.join(5)


def test_a_truncated_body_is_refused():
    def short(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b'{"@context": {}}')  # then the connection closes

    with context_server({"/short": short}) as port:
        f = SafeFetcher([f"127.0.0.1:{port}"], allow_private=True)
        _error(f, f"http://127.0.0.1:{port}/short")


def test_slow_dns_is_cut_off_at_the_deadline():
    release = threading.Event()

    def slow_resolve(host, port):
        release.wait(30)
        return ["93.184.216.34"]

    f = SafeFetcher(["slow-dns.example"], deadline=0.5, resolve=slow_resolve)
    try:
        _error(f, "http://slow-dns.example/ctx.jsonld")
    finally:
        release.set()


def test_size_cap_by_content_length_and_by_streamed_bytes():
    big = {"@context": {"x": "y" * 5000}}
    with context_server({"/big": _json(big), "/chunked": _big_chunked}) as port:
        f = SafeFetcher([f"127.0.0.1:{port}"], allow_private=True, max_bytes=4096)
        _error(f, f"http://127.0.0.1:{port}/big")
        _error(f, f"http://127.0.0.1:{port}/chunked")
        f2 = SafeFetcher([f"127.0.0.1:{port}"], allow_private=True, max_bytes=10_000)
        assert orjson.loads(f2.fetch(f"http://127.0.0.1:{port}/big")) == big


def test_one_error_text_for_every_failure():
    """Port-scan oracle regression: a closed port, a refused host, a private address, a
    timeout, a 404 and a non-http scheme all give the same text for the same URL."""
    closed = _closed_port()
    with context_server({"/slow": _trickle}) as port:
        # every failure for one URL shape: the path is the same, so the texts must be equal
        url = "http://127.0.0.1:{}/slow"
        texts = {
            "closed port": _error(
                SafeFetcher([f"127.0.0.1:{closed}"], allow_private=True), url.format(closed)
            ),
            "not listed": _error(SafeFetcher(["example.org"]), url.format(closed)),
            "private": _error(SafeFetcher([f"127.0.0.1:{closed}"]), url.format(closed)),
        }
        slow = _error(
            SafeFetcher([f"127.0.0.1:{port}"], allow_private=True, deadline=0.5), url.format(port)
        )
        nf = _error(SafeFetcher([f"127.0.0.1:{port}"], allow_private=True), url.format(port)[:-4])
    assert len(set(texts.values())) == 1, texts
    assert slow == texts["closed port"].replace(str(closed), str(port))
    assert nf == f"@context http://127.0.0.1:{port}/ could not be retrieved"
    assert texts["closed port"] == f"@context {url.format(closed)} could not be retrieved"


def test_unsupported_urls_are_refused():
    f = SafeFetcher(["example.org", "127.0.0.1"], allow_private=True)
    for url in (
        "ftp://example.org/c.jsonld",
        "file:///etc/passwd",
        "http://user:pw@example.org/c.jsonld",
        "http://[::1/c.jsonld",
    ):
        _error(f, url)


def test_address_classification():
    for a in ("127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0"):
        assert not is_public(a), a
    for a in ("::1", "fe80::1", "fc00::1", "fec0::1", "::ffff:127.0.0.1", "::", "ff02::1"):
        assert not is_public(a), a
    assert not is_public("224.0.0.1") and not is_public("2002:7f00:1::")  # 6to4 of 127.0.0.1
    assert not is_public("100.64.0.1") and not is_public("64:ff9b::7f00:1")  # CGNAT, NAT64
    for a in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"):
        assert is_public(a), a


def test_host_list_rules():
    hl = HostList(["contexts.example.org", "127.0.0.1:8087", "*.smartdatamodels.org", "[::1]:9"])
    assert hl.allows("contexts.example.org", 443) and hl.allows("Contexts.Example.org.", 80)
    assert hl.allows("127.0.0.1", 8087) and not hl.allows("127.0.0.1", 8086)
    assert hl.allows("a.smartdatamodels.org", 443) and not hl.allows("smartdatamodels.org", 443)
    assert not hl.allows("evilsmartdatamodels.org", 443)
    assert hl.allows("::1", 9) and not hl.allows("::1", 10)
    assert not HostList([])


def test_resolver_fetches_through_the_safe_fetcher():
    with context_server({"/ctx.jsonld": _json(DOC), "/nojson": _json([1])}) as port:
        url = f"http://127.0.0.1:{port}/ctx.jsonld"
        r = ContextResolver(context_hosts=[f"127.0.0.1:{port}"], allow_private=True)
        assert r.get(url).expand("speed") == "https://example.org/vocab#speed"
        with pytest.raises(LdContextNotAvailable, match="could not be retrieved"):
            r.get(f"http://127.0.0.1:{port}/nojson")
        # a failed URL is not tried again for a while (a dead server cannot hold every request)
        calls = []
        real_fetch = r.fetcher.fetch

        def counting(u):
            calls.append(u)
            return real_fetch(u)

        r.fetcher.fetch = counting  # type: ignore[method-assign]
        for _ in range(3):
            with pytest.raises(LdContextNotAvailable):
                r.get(f"http://127.0.0.1:{port}/missing")
        assert len(calls) == 1
        # the default: no host is allowed, so nothing is fetched
        with pytest.raises(LdContextNotAvailable, match="could not be retrieved"):
            ContextResolver().get(url)
        # remote fetching switched off wins over the list
        off = ContextResolver(
            context_hosts=[f"127.0.0.1:{port}"], allow_private=True, allow_remote=False
        )
        with pytest.raises(LdContextNotAvailable, match="could not be retrieved"):
            off.get(url)


def test_own_hosted_urls_are_never_fetched():
    """A Link to the broker's own /jsonldContexts/ is looked up locally, never fetched (the
    old code fetched it from itself and blocked a worker for the timeout)."""
    with context_server({}) as port:
        prefix = f"http://127.0.0.1:{port}/ngsi-ld/v1/jsonldContexts/"
        r = ContextResolver(
            context_hosts=[f"127.0.0.1:{port}"], allow_private=True, own_prefix=prefix
        )
        r.fetcher = None  # type: ignore[assignment]  # any fetch attempt would fail loudly
        with pytest.raises(LdContextNotAvailable):
            r.get(prefix + "urn:ngsi-ld:Context:unknown")
