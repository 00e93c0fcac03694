"""Benchmark of the temporal API of herzstadt's NGSI-LD broker, served the way it is served.

    python3 -m uv run python benchmarks/ngsi_temporal.py [--database-url postgresql://...]
        [--seconds 10] [--clients 2] [--concurrency 8] [--big 1000000] [--json out.json]

1. Starts the standalone broker (``python -m herzstadt.ngsi``, open access) on a fresh SQLite
   file in a temporary directory or, with ``--database-url``, in a scratch schema of that
   PostgreSQL database (dropped again at the end).
2. Ingest: ``--clients`` processes (``--concurrency`` keep-alive connections in all) send batch
   upserts (``POST /entityOperations/upsert?options=update``, 100 entities of 10 numeric
   attributes with observedAt per request) for ``--seconds``; every attribute of every entity is a
   new attribute instance: the figure is attribute instances per second.
3. 30-day query: one entity gets 2,880 instances of one attribute (every 15 minutes, one
   ``POST /temporal/entities/{id}/attrs``); then ``GET /temporal/entities/{id}?attrs=…&timerel=
   between…`` (all 2,880 instances) repeatedly: p50/p95.
4. Aggregation: ``--big`` instances (default 1,000,000) of one attribute of 100 entities over
   ~100 days, loaded through ``POST /temporal/entities/{id}/attrs`` (5,000 instances a request);
   then ``GET /temporal/entities?type=…&attrs=…&options=aggregatedValues&aggrMethods=avg&
   aggrPeriodDuration=P1D`` over the 100 entities: p50/p95.

The load generator runs on the same machine and takes CPU from the server.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import orjson

BASE = "/ngsi-ld/v1"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def iso(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


class Conn:
    def __init__(self, port: int):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def req(self, method: str, path: str, body: object = None) -> tuple[int, bytes, dict]:
        data = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.c.request(method, BASE + path, body=data, headers=headers)
        r = self.c.getresponse()
        return r.status, r.read(), dict(r.getheaders())


def wait_up(port: int) -> None:
    for _ in range(200):
        try:
            if Conn(port).req("GET", "/types")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("the broker did not start")


# ------------------------------------------------------------------------------- ingest
def _ingest_worker(port: int, wid: int, conns: int, seconds: float, q: mp.Queue) -> None:
    import threading

    done = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(n: int) -> None:
        c = Conn(port)
        k = 0
        while time.monotonic() < stop_at:
            t = iso(T0 + timedelta(seconds=k))
            batch = [
                {
                    "id": f"urn:ngsi-ld:Sensor:w{wid}c{n}e{e}",
                    "type": "Sensor",
                    **{
                        f"m{a}": {"type": "Property", "value": k + a + e * 0.5, "observedAt": t}
                        for a in range(10)
                    },
                }
                for e in range(100)
            ]
            st, body, _ = c.req("POST", "/entityOperations/upsert?options=update", batch)
            if st not in (201, 204):
                raise SystemExit(f"upsert: {st} {body[:200]!r}")
            k += 1
            with lock:
                done[0] += 1000

    ts = [threading.Thread(target=loop, args=(n,)) for n in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    q.put(done[0])


def ingest(port: int, clients: int, concurrency: int, seconds: float) -> float:
    q: mp.Queue = mp.Queue()
    per = max(1, concurrency // clients)
    # warm-up: create the entities (the first round is creation, not instances of updates)
    ps = [mp.Process(target=_ingest_worker, args=(port, w, per, 1.0, q)) for w in range(clients)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    for _ in ps:
        q.get()
    t0 = time.monotonic()
    ps = [
        mp.Process(target=_ingest_worker, args=(port, w, per, seconds, q)) for w in range(clients)
    ]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    total = sum(q.get() for _ in ps)
    return total / (time.monotonic() - t0)


# --------------------------------------------------------------------------------- queries
def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def timed(c: Conn, path: str, n: int) -> tuple[list[float], bytes, dict]:
    out = []
    body, hdr = b"", {}
    for _ in range(n):
        t = time.perf_counter()
        st, body, hdr = c.req("GET", path)
        out.append((time.perf_counter() - t) * 1000)
        if st not in (200, 206):
            raise SystemExit(f"GET {path}: {st} {body[:300]!r}")
    return out, body, hdr


def thirty_days(port: int, n: int) -> tuple[float, float, int]:
    c = Conn(port)
    eid = f"urn:ngsi-ld:Sensor:month-{uuid.uuid4().hex[:8]}"
    st, b, _ = c.req(
        "POST", "/temporal/entities", {"id": eid, "type": "Month", "no2": {"value": 0}}
    )
    assert st == 201, (st, b)
    start = T0
    inst = [
        {
            "type": "Property",
            "value": (k * 7) % 90,
            "observedAt": iso(start + timedelta(minutes=15 * k)),
        }
        for k in range(2880)
    ]
    st, b, _ = c.req("POST", f"/temporal/entities/{eid}/attrs", {"no2": inst})
    assert st == 204, (st, b)
    path = (
        f"/temporal/entities/{eid}?attrs=no2&timerel=between&timeAt={iso(start)}"
        f"&endTimeAt={iso(start + timedelta(days=30))}&options=temporalValues"
    )
    ms, body, _ = timed(c, path, n)
    got = len(orjson.loads(body)["no2"]["values"])
    return pct(ms, 50), pct(ms, 95), got


def _load_big(port: int, ids: list[str], per_entity: int, q: mp.Queue) -> None:
    c = Conn(port)
    for eid in ids:
        st, b, _ = c.req(
            "POST", "/temporal/entities", {"id": eid, "type": "BigSensor", "pm10": {"value": 0}}
        )
        assert st in (201, 204), (st, b)
        for off in range(0, per_entity, 5000):
            inst = [
                {
                    "type": "Property",
                    "value": (k * 13) % 100,
                    "observedAt": iso(T0 + timedelta(seconds=864 * k)),
                }
                for k in range(off, min(per_entity, off + 5000))
            ]
            st, b, _ = c.req("POST", f"/temporal/entities/{eid}/attrs", {"pm10": inst})
            assert st == 204, (st, b)
    q.put(len(ids))


def aggregation(port: int, big: int, clients: int, n: int) -> tuple[float, float, float, int]:
    ids = [f"urn:ngsi-ld:BigSensor:{k}" for k in range(100)]
    per = big // 100
    q: mp.Queue = mp.Queue()
    t0 = time.monotonic()
    ps = [
        mp.Process(target=_load_big, args=(port, ids[w::clients], per, q)) for w in range(clients)
    ]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    for _ in ps:
        q.get()
    load_rate = big / (time.monotonic() - t0)
    c = Conn(port)
    path = (
        "/temporal/entities?type=BigSensor&attrs=pm10&options=aggregatedValues&aggrMethods=avg"
        f"&aggrPeriodDuration=P1D&limit=100&timerel=between&timeAt={iso(T0)}"
        f"&endTimeAt={iso(T0 + timedelta(days=101))}"
    )
    ms, body, _ = timed(c, path, n)
    ents = orjson.loads(body)
    buckets = sum(len(e["pm10"]["avg"]) for e in ents)
    return pct(ms, 50), pct(ms, 95), load_rate, buckets


# ------------------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default="")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hz-temporal-bench-")
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    if args.database_url:
        sep = "&" if "?" in args.database_url else "?"
        db = f"{args.database_url}{sep}schema={schema}"
    else:
        db = os.path.join(tmp, "ngsi.sqlite3")
    port = free_port()
    env = dict(os.environ, HERZSTADT_NGSI_OPEN_ACCESS="1", HERZSTADT_NGSI_DATABASE=db)
    env["HERZSTADT_NGSI_MAX_BODY_BYTES"] = str(16 * 1024 * 1024)
    server = subprocess.Popen(
        [sys.executable, "-m", "herzstadt.ngsi", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, object] = {
        "database": "postgresql" if args.database_url else "sqlite",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
    }
    try:
        wait_up(port)
        rate = ingest(port, args.clients, args.concurrency, args.seconds)
        results["ingest_instances_per_s"] = round(rate)
        print(f"ingest (batch upsert): {rate:,.0f} attribute instances/s", flush=True)
        p50, p95, got = thirty_days(port, args.repeat)
        results["thirty_days_ms"] = {"p50": round(p50, 1), "p95": round(p95, 1), "instances": got}
        print(f"30-day query ({got} instances): p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)
        a50, a95, load, buckets = aggregation(port, args.big, args.clients, args.repeat)
        results["aggregation_ms"] = {"p50": round(a50, 1), "p95": round(a95, 1)}
        results["backfill_instances_per_s"] = round(load)
        print(
            f"backfill via temporal append: {load:,.0f} instances/s; daily avg over"
            f" {args.big:,} instances of 100 entities ({buckets} periods):"
            f" p50 {a50:.1f} ms, p95 {a95:.1f} ms",
            flush=True,
        )
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        if args.database_url:
            import psycopg

            with psycopg.connect(args.database_url, autocommit=True) as c:
                c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    if args.json:
        with open(args.json, "wb") as f:
            f.write(orjson.dumps(results, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
