"""What an API key costs a GET, measured so that a busy machine cannot hide it.

    python3 -m uv run python benchmarks/ngsi_key_cost.py [--entities 2000] [--rounds 30] [--per-round 1000]

The HTTP benchmark (``benchmarks/ngsi_http.py``) compares ``GET /entities/{id}`` with and without an API key
in one run, but its rates move by ±30 % on a shared 2-core machine. This script measures the CPU time the
broker spends per GET, in one process through the ASGI app (routing, access control, the store, rendering),
**interleaving** rounds without credentials (open data) and with an API key, and reports the medians and
their ratio. CPU time (``time.process_time``: every thread of the process) is what the key adds; it does
not grow with other processes' load the way wall-clock rates do.

The key goes through ``CachingVerifier`` around a ``KeyFileVerifier``: after the first request of a key per
worker and TTL, the site's verifier (API clients in the database) takes the same cached path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from herzstadt.ngsi.asgi import make_app
from herzstadt.ngsi.auth import hash_key
from herzstadt.ngsi.bench import _call, parking
from herzstadt.ngsi.config import NgsiConfig

KEY = "bench-key-0123456789abcdef0123456789abcdef"
TYPE_IRI = "https://uri.etsi.org/ngsi-ld/default-context/OffStreetParking"
BASE = "/ngsi-ld/v1"


async def call(
    app: Any, method: str, path: str, body: bytes = b"", key: str | None = None
) -> tuple[int, bytes]:
    headers = ((b"x-api-key", key.encode()),) if key else ()
    return await _call(app, method, path, b"", body, headers=headers)


async def run(entities: int, rounds: int, per_round: int, folder: Path) -> dict[str, Any]:
    keys_file = folder / "keys.json"
    keys_file.write_text(
        json.dumps(
            {
                "tenants": {"": {"public_types": [TYPE_IRI]}},
                "keys": [
                    {
                        "sha256": hash_key(KEY),
                        "client_id": "bench",
                        "tenant": "",
                        "scopes": ["read", "write"],
                    }
                ],
            }
        )
    )
    config = NgsiConfig(
        database=str(folder / "ngsi.sqlite3"),
        allow_remote_contexts=False,
        max_batch_entities=10000,
        api_keys_file=str(keys_file),
    )
    app = make_app(config)
    for start in range(0, entities, 1000):
        batch = orjson.dumps([parking(i) for i in range(start, min(entities, start + 1000))])
        status, body = await call(app, "POST", BASE + "/entityOperations/upsert", batch, KEY)
        assert status in (201, 204), (status, body[:300])
    rnd = random.Random(1)

    async def one_round(key: str | None) -> float:
        t0 = time.process_time()
        for _ in range(per_round):
            eid = f"urn:ngsi-ld:OffStreetParking:bench-{rnd.randrange(entities)}"
            status, body = await call(app, "GET", f"{BASE}/entities/{eid}", key=key)
            assert status == 200, (status, body[:300])
        return (time.process_time() - t0) / per_round * 1e6

    await one_round(None)  # warm-up: caches, the verifier's first look-up
    await one_round(KEY)
    open_us: list[float] = []
    key_us: list[float] = []
    for i in range(rounds):
        order = (None, KEY) if i % 2 == 0 else (KEY, None)
        for key in order:
            (key_us if key else open_us).append(await one_round(key))
    app.close()
    o, k = statistics.median(open_us), statistics.median(key_us)
    return {
        "entities": entities,
        "rounds": rounds,
        "per_round": per_round,
        "open_cpu_us_median": round(o, 1),
        "key_cpu_us_median": round(k, 1),
        "key_over_open": round(k / o, 3),
        "open_cpu_us_quartiles": [round(q, 1) for q in statistics.quantiles(open_us, n=4)],
        "key_cpu_us_quartiles": [round(q, 1) for q in statistics.quantiles(key_us, n=4)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--per-round", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hz-keycost-") as folder:
        result = asyncio.run(run(args.entities, args.rounds, args.per_round, Path(folder)))
    print(json.dumps(result, indent=2))
    print(
        f"GET /entities/{{id}}: {result['open_cpu_us_median']} µs CPU without credentials, "
        f"{result['key_cpu_us_median']} µs with an API key "
        f"({(result['key_over_open'] - 1) * 100:+.1f} %)"
    )


if __name__ == "__main__":
    main()
