"""A federated query with count=true counts every match, not only the page fetched: the sources
are asked with count=true and up to max_limit entities, and what they and the local store
report beyond what was read is added (ETSI GS CIM 009 6.3.13, NGSILD-Results-Count)."""

from __future__ import annotations

import http.server
import json
import threading
import uuid

import pytest

from herzstadt.ngsi.asgi import make_app
from tests.ngsi.conftest import Client, make_config

REG = "urn:ngsi-ld:ContextSourceRegistration:count"


class _Source(http.server.BaseHTTPRequestHandler):
    """A context source holding five vehicles that returns at most two of them per page."""

    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        ents = [{"id": f"urn:ngsi-ld:Vehicle:c{n}", "type": "Vehicle"} for n in (1, 2)]
        out = json.dumps(ents).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("NGSILD-Results-Count", "5")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a) -> None:
        pass


@pytest.fixture
def source():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Source)
    _Source.seen = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()


@pytest.fixture
def client(backend, tmp_path, source):
    app = make_app(
        make_config(
            backend,
            tmp_path,
            max_limit=3,
            csource_hosts=[f"127.0.0.1:{source}"],
            csource_allow_private=True,
        )
    )
    tenant = f"t{uuid.uuid4().hex[:12]}" if backend == "postgresql" else ""
    c = Client(app, tenant)
    yield c
    c.close()
    if backend == "postgresql":
        from tests.ngsi.pgutil import drop_tenant

        drop_tenant(app.broker.store, tenant)
    app.close()


def test_count_covers_the_sources_and_the_local_store_beyond_the_page(client, source):
    for n in range(1, 5):  # four here, one more than max_limit
        eid = f"urn:ngsi-ld:Vehicle:a{n}"
        r = client.post("entities", json={"id": eid, "type": "Vehicle"}, params={"local": "true"})
        assert r.status_code == 201, r.text
    reg = {
        "id": REG,
        "type": "ContextSourceRegistration",
        "information": [{"entities": [{"type": "Vehicle"}]}],
        "endpoint": f"http://127.0.0.1:{source}",
    }
    assert client.post("csourceRegistrations", json=reg).status_code == 201

    r = client.get("entities", params={"type": "Vehicle", "count": "true", "limit": "1"})
    assert r.status_code == 200, r.text
    assert len(r.json()) == 1
    # 4 here + 5 at the source (of which 3 here and 2 there were read and merged)
    assert r.headers["ngsild-results-count"] == "9"
    asked = _Source.seen[-1]
    assert "count=true" in asked and "limit=3" in asked

    # without count the source is asked for the page only, and no count is reported
    r = client.get("entities", params={"type": "Vehicle", "limit": "1"})
    assert r.status_code == 200 and "ngsild-results-count" not in r.headers
    assert "count=" not in _Source.seen[-1]

    # local=true: the local store's count alone
    r = client.get(
        "entities",
        params={"type": "Vehicle", "count": "true", "local": "true", "limit": "1"},
    )
    assert r.headers["ngsild-results-count"] == "4"
