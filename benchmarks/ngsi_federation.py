"""Federation benchmark: what a query costs when one city's broker includes a partner's broker.

    python3 -m uv run python benchmarks/ngsi_federation.py [--seconds 5] [--entities 1000]
        [--clients 2] [--concurrency 8] [--limit 20] [--json FILE]

What it does (figures and how to read them: docs/performance.md, "Federated queries"):

1. Starts two standalone brokers (``python -m herzstadt.ngsi``, open access, fresh SQLite files)
   on loopback: the partner B and the home broker A, which may forward to B
   (``HERZSTADT_NGSI_CSOURCE_HOSTS`` names B, ``…_ALLOW_PRIVATE=1`` because B is on loopback).
2. Creates ``--entities`` ``Vehicle`` entities on each broker (other ids), and at A an inclusive
   context source registration for ``Vehicle`` at B.
3. Drives ``GET /entities?type=Vehicle&limit=N`` for ``--seconds`` per scenario from
   ``--clients`` processes (``--concurrency`` keep-alive connections in all): at B directly, at A
   with ``local=true`` (A's own data only), at A federated (A's data merged with B's), and the same with
   ``count=true`` (a count needs every local match, not only the page's). Reports
   requests/s and latency p50/p95 per scenario, and checks that a federated answer holds the partner's
   entities and a local one does not.

Everything runs on one machine: the load generator and both brokers share the CPU.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
QUERY = "/ngsi-ld/v1/entities?type=Vehicle&limit={limit}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(port: int, db: Path, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERZSTADT_", "DATABASE_URL"))}
    env.update(
        HERZSTADT_NGSI_OPEN_ACCESS="1",
        HERZSTADT_NGSI_DATABASE=str(db),
        HERZSTADT_NGSI_NOTIFIER="0",
        HERZSTADT_LOG_LEVEL="WARNING",
        **extra,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "herzstadt.ngsi", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(port, "GET", "/ngsi-ld/v1/types")
            if status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"broker on port {port} did not start")


def request(
    port: int, method: str, path: str, body: object = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def create(port: int, prefix: str, n: int) -> None:
    for start in range(0, n, 500):
        batch = [
            {
                "id": f"urn:ngsi-ld:Vehicle:{prefix}-{i:06d}",
                "type": "Vehicle",
                "speed": {"type": "Property", "value": i % 120},
                "brandName": {"type": "Property", "value": prefix},
            }
            for i in range(start, min(n, start + 500))
        ]
        status, _, body = request(port, "POST", "/ngsi-ld/v1/entityOperations/create", batch)
        assert status in (201, 204), (status, body[:300])


def _load(port: int, path: str, conns: int, seconds: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Accept": "application/json"})
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t0)
            bad += r.status != 200
        conn.close()
        with lock:
            lat.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=run) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((lat, errors[0]))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))] * 1000 if xs else 0.0


def drive(port: int, path: str, clients: int, concurrency: int, seconds: float) -> dict:
    out: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    per = max(1, concurrency // clients)
    procs = [mp.Process(target=_load, args=(port, path, per, seconds, out)) for _ in range(clients)]
    for p in procs:
        p.start()
    lat: list[float] = []
    errors = 0
    for _ in procs:
        part, bad = out.get()
        lat.extend(part)
        errors += bad
    for p in procs:
        p.join()
    return {
        "requests_per_s": round(len(lat) / seconds, 1),
        "p50_ms": round(pct(lat, 50), 1),
        "p95_ms": round(pct(lat, 95), 1),
        "requests": len(lat),
        "errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--entities", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="herzstadt-federation-bench-"))
    pb, pa = free_port(), free_port()
    procs = []
    try:
        procs.append(start_broker(pb, tmp / "b.sqlite3", {}))
        procs.append(
            start_broker(
                pa,
                tmp / "a.sqlite3",
                {
                    "HERZSTADT_NGSI_CSOURCE_HOSTS": f"127.0.0.1:{pb}",
                    "HERZSTADT_NGSI_CSOURCE_ALLOW_PRIVATE": "1",
                },
            )
        )
        create(pb, "B", args.entities)
        create(pa, "A", args.entities)
        registration = {
            "id": "urn:ngsi-ld:ContextSourceRegistration:partner-b",
            "type": "ContextSourceRegistration",
            "information": [{"entities": [{"type": "Vehicle"}]}],
            "endpoint": f"http://127.0.0.1:{pb}",
            "mode": "inclusive",
        }
        status, _, body = request(pa, "POST", "/ngsi-ld/v1/csourceRegistrations", registration)
        assert status == 201, (status, body[:300])

        q = QUERY.format(limit=args.limit)
        # a federated answer holds B's entities, a local one does not
        only_b = "/ngsi-ld/v1/entities?type=Vehicle&limit=5&q=" + quote('brandName=="B"')
        status, _, body = request(pa, "GET", only_b)
        assert status == 200 and len(json.loads(body)) == min(5, args.entities), body[:300]
        status, _, body = request(pa, "GET", only_b + "&local=true")
        assert status == 200 and json.loads(body) == [], body[:300]
        results = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "entities_per_broker": args.entities,
            "limit": args.limit,
            "scenarios": {},
        }
        for name, port, path in (
            ("partner B directly", pb, q),
            ("home A, local=true", pa, q + "&local=true"),
            ("home A, federated with B", pa, q),
            ("home A, federated, count=true", pa, q + "&count=true"),
        ):
            request(port, "GET", path)  # warm up
            results["scenarios"][name] = drive(
                port, path, args.clients, args.concurrency, args.seconds
            )
            row = results["scenarios"][name]
            print(
                f"{name:28s} {row['requests_per_s']:8.1f} req/s  p50 {row['p50_ms']:6.1f} ms"
                f"  p95 {row['p95_ms']:6.1f} ms  errors {row['errors']}"
            )
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
