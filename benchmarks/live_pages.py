"""The live district pages as the sensors grow: queries, size and time at 4 / 1,000 / 10,000 stations.

    flock /work/bench.lock python3 -m uv run python benchmarks/live_pages.py \
        [--sizes 4,1000,10000] [--workers 2] [--database-url postgresql://…/postgres] [--json FILE]

1. Prepares a scratch site (``herzstadt migrate``, the demo; PostgreSQL: ``herzstadt_pages_bench`` on the
   given server, created and dropped again; else SQLite in a temporary directory).
2. Starts the real server, ``herzstadt serve --workers N`` (production settings, its own process group).
3. For each size: adds air-quality stations inside the Pfaff-Areal up to that many (through the broker,
   in this process), then for the district page, the air-quality page and the air-quality measure's page:
   - cold (every per-worker cache emptied before the request, as after the 30 s TTL): the SQL queries of
     the site's database, the broker queries (calls of ``query_entities``) and the median time Django takes
     (Django's test client in this process: the server's own time, without network or queueing);
   - warm: the median time with the caches filled (what most visitors get);
   - the bytes of the response;
   - the median and p95 latency of 30 requests one after another through the real server (loopback).

Charts cost nothing here while the broker has no temporal API (``history.reader`` answers None).
Figures: docs/performance.md ("Live district pages").
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from site_pages import (
    HOST,
    ROOT,
    Server,
    free_port,
    latency,
    scratch_database,
)

CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
ENV_CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"


def prepare(env: dict[str, str]):
    run = [sys.executable, "-m", "herzstadt"]
    subprocess.run([*run, "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [*run, "loaddemo", "--no-migrate"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "herzstadt.settings"
    import django

    django.setup()
    from herzstadt.core.models import City

    return City.objects.get(slug="kaiserslautern")


def grow(city, total: int, have: int) -> None:
    """Air-quality stations up to ``total`` (the demo has 4), in batches through the broker."""
    from herzstadt.ngsi.auth import system_principal
    from herzstadt.ngsi.params import WriteOptions
    from herzstadt.ngsi.service import Req, batch_upsert
    from herzstadt.urbandata.broker import get_broker

    district = city.district_set.get(slug="pfaff-areal")
    lon, lat = district.centroid_lon, district.centroid_lat
    broker = get_broker()
    stations = [
        {
            "id": f"urn:ngsi-ld:AirQualityObserved:bench-{n}",
            "type": "AirQualityObserved",
            "name": {"type": "Property", "value": f"Messstelle {n}"},
            "no2": {
                "type": "Property",
                "value": 10 + n % 40,
                "unitCode": "GQ",
                "observedAt": "2026-11-21T09:30:00Z",
            },
            "pm10": {
                "type": "Property",
                "value": 5 + n % 30,
                "unitCode": "GQ",
                "observedAt": "2026-11-21T09:30:00Z",
            },
            "location": {
                "type": "GeoProperty",
                "value": {
                    "type": "Point",
                    "coordinates": [lon + (n % 50) / 1e5, lat + (n % 40) / 1e5],
                },
            },
            "@context": [ENV_CONTEXT, CORE],
        }
        for n in range(have, total)
    ]
    for start in range(0, len(stations), 1000):
        request = Req(
            principal=system_principal(city.ngsi_tenant, "bench"),
            tenant=city.ngsi_tenant,
            ctx=broker.resolver.get(None),
            body=stations[start : start + 1000],
            ld=True,
        )
        assert batch_upsert(broker, request, WriteOptions()).status in (201, 204)


def measure(path: str) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from herzstadt.core.ttlcache import clear_all
    from herzstadt.urbandata import live

    client = Client(HTTP_HOST=HOST)
    calls = [0]
    real = live.query_entities

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    live.query_entities = counting
    try:
        clear_all()
        client.get(path)  # connections, templates
        clear_all()
        calls[0] = 0
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        result = {"sql": len(queries), "broker": calls[0], "bytes": len(response.content)}
        cold, warm = [], []
        for _ in range(7):
            clear_all()
            started = time.perf_counter()
            client.get(path)
            cold.append((time.perf_counter() - started) * 1000)
        for _ in range(15):
            started = time.perf_counter()
            client.get(path)
            warm.append((time.perf_counter() - started) * 1000)
        result["cold_ms"] = round(statistics.median(cold), 1)
        result["warm_ms"] = round(statistics.median(warm), 1)
        return result
    finally:
        live.query_entities = real


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="4,1000,10000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument(
        "--cache-wait",
        type=float,
        default=31.0,
        help="seconds to wait after each size, for the workers' live caches (30 s) to expire",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="herzstadt-live-bench-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HERZSTADT_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(
        HERZSTADT_ENV="production",
        HERZSTADT_SECRET_KEY=secrets.token_urlsafe(50),
        HERZSTADT_ALLOWED_HOSTS=f"{HOST},localhost",
        HERZSTADT_DATA_DIR=str(tmp),
        HERZSTADT_LOG_LEVEL="WARNING",
        HERZSTADT_EMBEDDED_WORKER="0",
    )
    if args.database_url:
        env["DATABASE_URL"] = scratch_database(args.database_url, create=True)
    server = None
    results: dict = {"database": "PostgreSQL" if args.database_url else "SQLite", "sizes": {}}
    try:
        city = prepare(env)
        from django.urls import reverse
        from django.utils import translation

        with translation.override("de"):
            pages = {
                "district page": reverse("core:district", args=["pfaff-areal"]),
                "air-quality page": reverse(
                    "urbandata:type", args=["pfaff-areal", "AirQualityObserved"]
                ),
                "measure page": reverse(
                    "core:measure", args=["klima-und-luftmessnetz-pfaff-areal"]
                ),
            }
        port = free_port()
        argv = [sys.executable, "-m", "herzstadt", "serve", "--port", str(port)]
        server = Server([*argv, "--workers", str(args.workers)], env, port, tmp / "serve.log")
        have = 4
        for size in sizes:
            if size > have:
                grow(city, size, have)
                have = size
            found = {}
            for name, path in pages.items():
                row = measure(path)
                p50, p95 = latency(port, path)
                row["server_p50_ms"], row["server_p95_ms"] = round(p50, 1), round(p95, 1)
                found[name] = row
                print(f"{size:>6} stations  {name:<18} {row}", flush=True)
            results["sizes"][size] = found
            time.sleep(args.cache_wait)  # the workers' caches expire before the next size
    finally:
        if server is not None:
            server.stop()
        if args.database_url:
            from django.db import connections

            connections.close_all()
            from herzstadt.urbandata.broker import get_broker

            get_broker().close()
            scratch_database(args.database_url, create=False)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
