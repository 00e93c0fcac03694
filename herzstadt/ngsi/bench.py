"""In-process micro-benchmark of the broker core (no HTTP server, no network).

    python -m herzstadt.ngsi.bench [--n 100000] [--db /tmp/bench.sqlite3] [--seconds 3]

Loads ``n`` Smart-Data-Model-like OffStreetParking entities through batch upsert (1000 per request)
and measures single-process rates of: GET entity, PATCH attribute, query ``type + q`` (limit 100),
all through the ASGI app (routing, JSON, @context, rendering included). The HTTP benchmark with
granian and several workers is ``benchmarks/ngsi_http.py`` (docs/performance.md); this one finds
regressions in the core.
"""

# ruff: noqa: S311, S108 - benchmark data, not security
from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from .asgi import make_app
from .config import NgsiConfig


def parking(i: int) -> dict[str, Any]:
    rnd = random.Random(i)
    return {
        "id": f"urn:ngsi-ld:OffStreetParking:bench-{i}",
        "type": "OffStreetParking",
        "name": {"type": "Property", "value": f"Parking {i}"},
        "availableSpotNumber": {
            "type": "Property",
            "value": rnd.randint(0, 500),
            "observedAt": "2026-11-21T10:00:00Z",
        },
        "totalSpotNumber": {"type": "Property", "value": 500},
        "category": {"type": "Property", "value": ["underground", "public", "feeCharged"]},
        "address": {
            "type": "Property",
            "value": {"addressLocality": "Kaiserslautern", "streetAddress": f"Street {i}"},
        },
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "Point",
                "coordinates": [7.7 + rnd.random() / 10, 49.4 + rnd.random() / 10],
            },
        },
        "refParkingSpot": {"type": "Relationship", "object": f"urn:ngsi-ld:ParkingSpot:{i}"},
        "status": {"type": "Property", "value": rnd.choice(["open", "closed"])},
    }


async def _call(
    app: Any,
    method: str,
    path: str,
    query: bytes = b"",
    body: bytes = b"",
    ctype: bytes = b"application/json",
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [
            (b"content-type", ctype),
            (b"accept", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
        "scheme": "http",
        "server": ("bench", 80),
    }
    sent = False
    status = 0
    out: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(m: dict[str, Any]) -> None:
        nonlocal status
        if m["type"] == "http.response.start":
            status = m["status"]
        else:
            out.append(m.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(out)


async def run(n: int, db: str, seconds: float) -> None:
    # the core in-process, without access control (benchmarks/ngsi_http.py measures it)
    config = NgsiConfig(
        database=db, allow_remote_contexts=False, max_batch_entities=10000, open_access=True
    )
    app = make_app(config)
    base = "/ngsi-ld/v1"
    t0 = time.perf_counter()
    for start in range(0, n, 1000):
        batch = orjson.dumps([parking(i) for i in range(start, min(n, start + 1000))])
        st, body = await _call(app, "POST", base + "/entityOperations/upsert", b"", batch)
        assert st in (201, 204), (st, body[:300])
    dt = time.perf_counter() - t0
    print(f"batch upsert: {n} entities in {dt:.1f} s = {n / dt:,.0f} entities/s")

    async def rate(name: str, make: Callable[[int], Awaitable[tuple[int, bytes]]]) -> None:
        count = 0
        lat: list[float] = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            a = time.perf_counter()
            st, body = await make(count)
            lat.append(time.perf_counter() - a)
            assert st < 300, (name, st, body[:300])
            count += 1
        lat.sort()
        p95 = lat[int(len(lat) * 0.95)] * 1000
        print(f"{name}: {count / seconds:,.0f} req/s (1 process), p95 {p95:.2f} ms")

    rnd = random.Random(1)
    await rate(
        "GET entity",
        lambda k: _call(
            app, "GET", f"{base}/entities/urn:ngsi-ld:OffStreetParking:bench-{rnd.randrange(n)}"
        ),
    )
    await rate(
        "PATCH attribute",
        lambda k: _call(
            app,
            "PATCH",
            f"{base}/entities/urn:ngsi-ld:OffStreetParking:bench-{rnd.randrange(n)}"
            "/attrs/availableSpotNumber",
            b"",
            orjson.dumps({"value": rnd.randrange(500)}),
        ),
    )
    await rate(
        "query type+q (limit 100)",
        lambda k: _call(
            app,
            "GET",
            f"{base}/entities",
            b"type=OffStreetParking&q=availableSpotNumber%3E100;status==%22open%22&limit=100",
        ),
    )
    app.close()


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m herzstadt.ngsi.bench")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--db", default="/tmp/herzstadt-ngsi-bench.sqlite3")
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    if not a.db.startswith("postgres"):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(a.db + suffix):
                os.remove(a.db + suffix)
    asyncio.run(run(a.n, a.db, a.seconds))


if __name__ == "__main__":
    main()
