"""Notification benchmark: throughput and change-to-receipt latency on loopback.

    python3 -m uv run python benchmarks/ngsi_notify.py [--seconds 10] [--entities 200]
        [--subscriptions 1] [--clients 2] [--concurrency 8] [--database-url postgresql://...]

What it does (figures and how to read them: docs/performance.md, "Notifications"):

1. Starts the standalone broker (``python -m herzstadt.ngsi``, notifier thread off) and one
   notifier process (``python -m herzstadt.ngsi notify``) on a fresh SQLite file or a scratch
   PostgreSQL schema; an HTTP receiver process (keep-alive, answers 204) on loopback.
2. Creates ``--entities`` entities and ``--subscriptions`` subscriptions on their type, all to
   the receiver (each change notifies every subscription).
3. Drives ``PATCH /entities/{id}/attrs`` for ``--seconds`` from ``--clients`` processes
   (``--concurrency`` keep-alive connections in all); every PATCH writes the wall-clock time of
   its sending as the attribute value.
4. The receiver records, for every notified entity, receipt time minus the value: the latency
   from the change request to the receipt. It reports notifications (HTTP requests) and notified
   entities per second, latency p50/p95/p99, and how many changes arrived (at-least-once: all).

Everything runs on one machine: the load generator, the receiver and the notifier take CPU from
the broker.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import http.server
import json
import multiprocessing as mp
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------ receiver
def receiver_main(port: int, out: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    lat: list[float] = []
    seen: set[tuple[str, str, float]] = set()
    counts = {"requests": 0, "entities": 0}
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            now = time.time()
            data = json.loads(body)["data"]
            with lock:
                counts["requests"] += 1
                for e in data:
                    v = e.get("sent", {}).get("value")
                    if isinstance(v, (int, float)):
                        counts["entities"] += 1
                        lat.append(now - v)
                        seen.add((self.path, e["id"], v))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 256  # the notifier opens up to 4 connections per endpoint at once

    srv = Server(("127.0.0.1", port), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    stop.wait()
    with lock:
        out.put({"lat": lat, "seen": len(seen), **counts})
    srv.shutdown()


# ------------------------------------------------------------------------------ load
def load_main(
    port: int,
    ids: list[str],
    seconds: float,
    conns: int,
    out: mp.Queue,  # type: ignore[type-arg]
) -> None:
    sent = 0
    end = time.time() + seconds
    lock = threading.Lock()

    def run(k: int) -> None:
        nonlocal sent
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = k
        n = 0
        while time.time() < end:
            eid = ids[i % len(ids)]
            i += conns
            body = json.dumps({"sent": {"type": "Property", "value": time.time()}})
            c.request(
                "PATCH",
                f"/ngsi-ld/v1/entities/{eid}/attrs",
                body=body,
                headers={"Content-Type": "application/json"},
            )
            r = c.getresponse()
            r.read()
            if r.status == 204:
                n += 1
        with lock:
            sent += n

    ts = [threading.Thread(target=run, args=(k,)) for k in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put(sent)


def post(port: int, path: str, body: object) -> int:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--entities", type=int, default=200)
    ap.add_argument("--subscriptions", type=int, default=1)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="hz-notify-bench-")
    schema = f"bench_notify_{uuid.uuid4().hex[:8]}"
    if args.database_url:
        sep = "&" if "?" in args.database_url else "?"
        db = f"{args.database_url}{sep}schema={schema}"
    else:
        db = str(Path(tmp) / "ngsi.sqlite3")
    port, rport = free_port(), free_port()
    env = {
        **os.environ,
        "HERZSTADT_NGSI_DATABASE": db,
        "HERZSTADT_NGSI_OPEN_ACCESS": "1",
        "HERZSTADT_NGSI_NOTIFY_HOSTS": f"127.0.0.1:{rport}",
        "HERZSTADT_NGSI_NOTIFY_ALLOW_PRIVATE": "1",
        "HERZSTADT_NGSI_ETSI_PRELOAD": "0",
        "HERZSTADT_NGSI_REMOTE_CONTEXTS": "0",
    }
    procs: list[subprocess.Popen[bytes]] = []
    stop = mp.Event()
    q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    recv = mp.Process(target=receiver_main, args=(rport, q, stop))
    recv.start()
    try:
        server = subprocess.Popen(
            [sys.executable, "-m", "herzstadt.ngsi", "--port", str(port)],
            env={**env, "HERZSTADT_NGSI_NOTIFIER": "0"},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        procs.append(server)
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/ngsi-ld/v1/types")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        ids = [f"urn:ngsi-ld:Meter:m{i}" for i in range(args.entities)]
        for eid in ids:
            assert post(port, "/ngsi-ld/v1/entities", {"id": eid, "type": "Meter"}) == 201
        for k in range(args.subscriptions):
            sub = {
                "id": f"urn:ngsi-ld:Subscription:bench{k}",
                "type": "Subscription",
                "entities": [{"type": "Meter"}],
                "watchedAttributes": ["sent"],
                "notification": {"endpoint": {"uri": f"http://127.0.0.1:{rport}/n{k}"}},
            }
            assert post(port, "/ngsi-ld/v1/subscriptions", sub) == 201
        notifier = subprocess.Popen(
            [sys.executable, "-m", "herzstadt.ngsi", "notify"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        procs.append(notifier)
        time.sleep(3)  # the notifier starts
        lq: mp.Queue = mp.Queue()  # type: ignore[type-arg]
        per = max(1, args.concurrency // args.clients)
        loaders = [
            mp.Process(target=load_main, args=(port, ids[k :: args.clients], args.seconds, per, lq))
            for k in range(args.clients)
        ]
        t0 = time.time()
        for lp in loaders:
            lp.start()
        changes = sum(lq.get() for _ in loaders)
        for lp in loaders:
            lp.join()
        load_s = time.time() - t0
        time.sleep(3)  # the tail of the deliveries
        stop.set()
        res = q.get(timeout=30)
        recv.join()
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        if recv.is_alive():
            recv.terminate()
        if args.database_url:
            subprocess.run(
                ["psql", args.database_url, "-qc", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'],
                check=False,
                capture_output=True,
            )
    lat = [x * 1000 for x in res["lat"]]
    expected = changes * args.subscriptions
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, {platform.python_version()}")
    print(f"database: {'postgresql' if args.database_url else 'sqlite'}")
    print(f"changes (PATCH 204): {changes} in {load_s:.1f} s = {changes / load_s:.0f}/s")
    print(
        f"notifications (HTTP requests): {res['requests']} ="
        f" {res['requests'] / load_s:.0f}/s; notified entities: {res['entities']}"
        f" = {res['entities'] / load_s:.0f}/s"
    )
    print(f"distinct changes received: {res['seen']} of {expected} expected")
    print(
        f"latency change->receipt ms: p50 {pct(lat, 50):.1f}  p95 {pct(lat, 95):.1f}"
        f"  p99 {pct(lat, 99):.1f}  max {max(lat) if lat else float('nan'):.1f}"
    )


if __name__ == "__main__":
    main()
