"""Citizen pages as the data grows: queries, size, latency and rate at 100 / 1,000 / 10,000 ideas.

    flock /work/bench.lock python3 -m uv run python benchmarks/site_pages.py \
        [--sizes 100,1000,10000] [--workers 2] [--seconds 5] [--connections 8] \
        [--database-url postgresql://…/postgres] [--json FILE]

1. Prepares a scratch database (PostgreSQL: ``herzstadt_pages_bench`` on the given server, created and
   dropped again; else SQLite in a temporary directory): ``herzstadt migrate``, the demo city and a
   published process on the Pfaff-Areal in its ideas phase.
2. Starts the real server, ``herzstadt serve --workers N`` (production settings, its own process group).
3. For each size: adds ideas up to that many (every other one with a point on the map, a tenth hidden),
   then for each page measures, from this process (the load comes from here, not from the server):
   - the SQL queries of one request and the median time Django takes for it (Django's test client in
     this process, same database and settings: the server's own time, without network or queueing),
   - the bytes of the response,
   - the median and p95 latency of 30 requests one after another on one keep-alive connection
     (what one visitor waits, server time plus loopback),
   - the rate over ``--seconds`` with ``--connections`` keep-alive connections (threads).
4. The fixed cost of a request: ``/healthz`` (a JSON view with ``SELECT 1``) and the process page through
   the same server; then through ``herzstadt serve`` with Django's own ASGI handler
   (``HERZSTADT_DJANGO_HANDLER=asgi``, as before issue 10), and through Django's WSGI handler served by
   granian's WSGI interface (same workers; without the broker, which needs ASGI) for comparison.

Figures and how to read them: docs/performance.md ("Citizen pages as the data grows").
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "herzstadt_pages_bench"
HOST = "127.0.0.1"

GRANIAN = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herzstadt.settings")
import django
django.setup()
from granian import Granian
from granian.constants import Interfaces
port, workers, interface = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
target = "herzstadt.wsgi:application" if interface == "wsgi" else "herzstadt.asgi:application"
Granian(target, address="127.0.0.1", port=port, interface=Interfaces(interface), workers=workers,
        log_access=False, respawn_failed_workers=True).serve()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def scratch_database(url: str, create: bool) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
        if create:
            conn.execute(f"CREATE DATABASE {SCRATCH_DB}")
    return urlunsplit(urlsplit(url)._replace(path=f"/{SCRATCH_DB}"))


def prepare(env: dict[str, str]):
    run = [sys.executable, "-m", "herzstadt"]
    subprocess.run([*run, "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [*run, "loaddemo", "--no-migrate"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "herzstadt.settings"
    import datetime as dt

    import django

    django.setup()
    from django.utils import timezone

    from herzstadt.core.models import City, District
    from herzstadt.participation.models import Category, Phase, Process

    city = City.objects.get(slug="kaiserslautern")
    now = timezone.now()
    process = Process.objects.create(
        city=city,
        slug="bench-pages",
        title="Benchmark",
        summary="Wie wächst die Seite mit den Ideen?",
        district=District.objects.get(city=city, slug="pfaff-areal"),
        is_published=True,
    )
    Phase.objects.create(
        city=city,
        process=process,
        kind="ideas",
        title="Ideen",
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=30),
    )
    for name in ("Mobilität", "Grün", "Wohnen"):
        Category.objects.create(city=city, process=process, name=name)
    return process


def grow(process, total: int) -> None:
    """Ideas up to ``total`` (bulk insert: fast, and the counters are part of the rows)."""
    from django.contrib.auth.models import User
    from django.db import connections

    from herzstadt.participation.models import Category, Idea

    author = User.objects.filter(is_active=True).order_by("id").first()
    categories = list(Category.objects.filter(process=process))
    have = Idea.objects.filter(process=process).count()
    district = process.district
    lon, lat = district.centroid_lon, district.centroid_lat
    ideas = []
    for n in range(have, total):
        point = n % 2 == 1
        ideas.append(
            Idea(
                city=process.city,
                process=process,
                author=author,
                title=f"Idee Nummer {n}",
                body="Mehr Bäume, Bänke und Schatten im Quartier, damit es im Sommer auszuhalten ist. "
                * 3,
                lon=lon + (n % 97) / 1e5 if point else None,
                lat=lat + (n % 89) / 1e5 if point else None,
                category=categories[n % len(categories)] if n % 3 else None,
                hidden_at=process.created_at if n % 10 == 9 else None,
                support_count=n % 13,
                comment_count=n % 5,
            )
        )
    Idea.objects.bulk_create(ideas, batch_size=1000)
    connections.close_all()


def count_queries(path: str) -> tuple[int, int, float]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from herzstadt.core.ttlcache import clear_all

    client = Client(HTTP_HOST=HOST)
    clear_all()
    client.get(path)  # fill this process's caches, as a running worker has them
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    count = len(queries)  # now: the next request's request_started signal empties the query log
    times = []
    for _ in range(15):  # Django's own time for the page, in this process: no network, no queue
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return count, len(response.content), statistics.median(times)


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, int]:
    conn.request("GET", path, headers={"Host": HOST, "Accept-Language": "de"})
    response = conn.getresponse()
    return response.status, len(response.read())


def latency(port: int, path: str, n: int = 30) -> tuple[float, float]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    get(conn, path)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        status, _size = get(conn, path)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200, (path, status)
    conn.close()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def rate(port: int, path: str, seconds: float, connections: int) -> tuple[float, int]:
    done, errors = [0], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        ok = bad = 0
        while time.monotonic() < deadline:
            try:
                status, _size = get(conn, path)
                ok += status == 200
                bad += status != 200
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
        conn.close()
        with lock:
            done[0] += ok
            errors[0] += bad

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done[0] / (time.monotonic() - started), errors[0]


def fixed_cost(results: dict, port: int, page: str, args, name: str) -> None:
    """``/healthz`` (Django's fixed cost per request) and the process page, under load."""
    healthz, errors = rate(port, "/healthz", args.seconds, args.connections * 2)
    p50, _p95 = latency(port, "/healthz")
    page_rate, page_errors = rate(port, page, args.seconds, args.connections)
    results["fixed_cost"][name] = {
        "healthz_rps": round(healthz, 1),
        "healthz_p50_ms": round(p50, 2),
        "process_page_rps": round(page_rate, 1),
        "errors": errors + page_errors,
    }
    print(
        f"{name}: /healthz {healthz:,.0f} req/s (p50 {p50:.2f} ms), process page {page_rate:,.0f} "
        f"req/s" + (f" ({errors + page_errors} errors)" if errors + page_errors else "")
    )


class Server:
    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path):
        self.port = port
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                argv, env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped; see {log}")
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=2)
                if get(conn, "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the server did not answer; see {log}")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument(
        "--cache-wait",
        type=float,
        default=16.0,
        help="seconds to wait after adding ideas, for the workers' GeoJSON caches (15 s) to expire",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="herzstadt-pages-bench-"))
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
    )
    if args.database_url:
        env["DATABASE_URL"] = scratch_database(args.database_url, create=True)
    servers: list[Server] = []
    results: dict = {"sizes": {}, "fixed_cost": {}}
    try:
        process = prepare(env)
        from django.urls import reverse
        from django.utils import translation

        with translation.override("de"):
            pages = {
                "process page": process.get_absolute_url(),
                "process page, page 2": process.get_absolute_url() + "?page=2",
                "process page, filtered": process.get_absolute_url()
                + "?status=received&sort=supports",
                "process list": reverse("participation:processes"),
                "district page": process.district.get_absolute_url(),
                "ideas GeoJSON": reverse("api:ideas-geojson", kwargs={"slug": process.slug}),
            }
        port = free_port()
        serve = [sys.executable, "-m", "herzstadt", "serve", "--port", str(port)]
        servers.append(
            Server([*serve, "--workers", str(args.workers)], env, port, tmp / "serve.log")
        )
        database = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"{database}, herzstadt serve --workers {args.workers}, {args.connections} connections"
        )
        print(
            f"{'ideas':>6} {'page':<24} {'queries':>7} {'bytes':>9} {'server':>7} {'p50 ms':>7} {'p95 ms':>7} {'req/s':>7}"
        )
        for size in sizes:
            grow(process, size)
            time.sleep(
                16
            )  # the workers' GeoJSON caches (15 s) expire: every size is measured fresh
            rows = {}
            for name, path in pages.items():
                queries, size_bytes, server_ms = count_queries(path)
                p50, p95 = latency(port, path)
                per_second, errors = rate(port, path, args.seconds, args.connections)
                rows[name] = {
                    "path": path,
                    "queries": queries,
                    "bytes": size_bytes,
                    "server_ms": round(server_ms, 1),
                    "p50_ms": round(p50, 1),
                    "p95_ms": round(p95, 1),
                    "rps": round(per_second, 1),
                    "errors": errors,
                }
                print(
                    f"{size:>6} {name:<24} {queries:>7} {size_bytes:>9,} {server_ms:>7.1f} {p50:>7.1f} {p95:>7.1f} "
                    f"{per_second:>7.0f}" + (f"  ({errors} errors)" if errors else "")
                )
            results["sizes"][size] = rows
        fixed_cost(results, port, pages["process page"], args, "herzstadt serve (default)")
        servers.pop().stop()
        variants = [
            (
                "herzstadt serve, HERZSTADT_DJANGO_HANDLER=asgi",
                [*serve, "--workers", str(args.workers)],
                {**env, "HERZSTADT_DJANGO_HANDLER": "asgi"},
            ),
            (
                "granian WSGI interface (no broker)",
                [sys.executable, "-c", GRANIAN, "PORT", str(args.workers), "wsgi"],
                env,
            ),
        ]
        for name, argv, variant_env in variants:
            port = free_port()
            argv = [str(port) if a == "PORT" else a for a in argv]
            if "--port" in argv:
                argv[argv.index("--port") + 1] = str(port)
            servers.append(Server(argv, variant_env, port, tmp / "variant.log"))
            fixed_cost(results, port, pages["process page"], args, name)
            servers.pop().stop()
    finally:
        for server in servers:
            server.stop()
        if "django" in sys.modules and os.environ.get("DJANGO_SETTINGS_MODULE"):
            from django.db import connections

            connections.close_all()
        if args.database_url:
            scratch_database(args.database_url, create=False)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
