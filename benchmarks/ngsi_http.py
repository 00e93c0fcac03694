"""HTTP load benchmark of herzstadt's NGSI-LD broker, served the way a user serves it.

    python3 -m uv run python benchmarks/ngsi_http.py [--entities 100000] [--seconds 10]
        [--workers 2] [--clients 2] [--concurrency 16] [--database-url postgresql://...]
        [--json out.json]

What it does (docs/performance.md has the figures and how to read them):

1. Generates ``--entities`` FIWARE Smart Data Model entities (OffStreetParking, ParkingSpot,
   AirQualityObserved; each with the SDM ``@context`` the site preloads; points around
   Kaiserslautern) and measures a plain ``sqlite3`` ``executemany`` of the same JSON documents
   into a two-column table: the storage ceiling.
2. Starts the whole site as in production: ``herzstadt migrate`` and ``herzstadt serve --workers N``
   with ``HERZSTADT_ENV=production`` (secret key, allowed hosts), a fresh temporary data directory
   (SQLite) or, with ``--database-url``, a scratch PostgreSQL database ``herzstadt_bench`` that is
   created and dropped again (the URL's own database is only used to connect).
3. Drives the server over loopback from ``--clients`` separate processes (asyncio, raw HTTP/1.1
   keep-alive, ``--concurrency`` connections in all): batch upsert of all entities (500 per
   request, new, then replacing), then ``--seconds`` each of GET entity by id, PATCH one attribute,
   query ``type`` + ``q`` (``limit=100``), GET entity by id with an API key, and two baselines: Django's ``/healthz`` (a bare JSON
   view through the whole Django middleware stack) and ``/ngsi-ld/v1/jsonldContexts?kind=Cached``
   (routing and JSON of the NGSI-LD ASGI app, no database).

Access (``--access``): ``keys-file`` (default) gives the server an API keys file
(``HERZSTADT_NGSI_API_KEYS_FILE``) with one key (read and write scopes) and the three entity types
as the default tenant's open data; ``site`` uses the site's own verifier instead, as a city runs
it: a hosted city on the default tenant publishes the three types as open data and has an API client
made as the back office makes one (key hashed in the database). Writes, the query and
"GET entity (API key)" send the key; "GET entity" reads the open data without credentials, so the
two GET figures of one run show what checking a credential costs.

The load generator runs on the same machine as the server and takes CPU from it. The server and
the temporary data are removed on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import multiprocessing as mp
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import orjson

CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"
PARKING_CTX = SDM.format("Parking")
ENVIRONMENT_CTX = SDM.format("Environment")
BASE = "/ngsi-ld/v1"
BATCH = 500  # ~600 kB of JSON: 1,000 of these entities exceed the default 1 MiB body limit
SCRATCH_DB = "herzstadt_bench"
#: the expanded types of the data set (the SDM contexts map the short names to these)
TYPE_IRIS = (
    "https://smartdatamodels.org/dataModel.Parking/OffStreetParking",
    "https://smartdatamodels.org/dataModel.Parking/ParkingSpot",
    "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved",
)
QUERY = "type=OffStreetParking&q=" + quote('availableSpotNumber>100;status=="open"', safe="=;")
TARGETS = {
    "upsert_new": ("entities/s", 30_000),
    "get": ("req/s", 5_000),
    "get_key": ("req/s", 5_000),
    "patch": ("req/s", 2_500),
    "query": ("req/s", 1_000),
}


# ------------------------------------------------------------------------------------ data set
def kind_of(i: int) -> str:
    """Every tenth entity a car park, six tenths parking spots, three tenths air quality."""
    k = i % 10
    return "OffStreetParking" if k == 0 else "ParkingSpot" if k <= 6 else "AirQualityObserved"


def entity_id(i: int) -> str:
    return f"urn:ngsi-ld:{kind_of(i)}:kaiserslautern:bench-{i}"


def context_of(kind: str) -> str:
    return ENVIRONMENT_CTX if kind == "AirQualityObserved" else PARKING_CTX


def _stamp(rnd: random.Random) -> str:
    return f"2026-11-21T{rnd.randrange(6, 22):02d}:{rnd.randrange(60):02d}:00Z"


def _address(rnd: random.Random, i: int) -> dict:
    return {
        "type": "Property",
        "value": {
            "streetAddress": f"{rnd.choice(STREETS)} {1 + i % 120}",
            "postalCode": "67655",
            "addressLocality": "Kaiserslautern",
            "addressRegion": "Rheinland-Pfalz",
            "addressCountry": "DE",
        },
    }


STREETS = ("Königstraße", "Pfaffstraße", "Albert-Schweitzer-Straße", "Mainzer Tor", "Marktstraße")


def entity(i: int) -> dict:
    """Entity ``i`` of the data set (deterministic), normalized, with its SDM @context."""
    rnd = random.Random(i)
    kind = kind_of(i)
    obs = _stamp(rnd)
    point = [round(7.70 + rnd.random() * 0.12, 6), round(49.40 + rnd.random() * 0.08, 6)]
    e: dict = {
        "id": entity_id(i),
        "type": kind,
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": point}},
        "address": _address(rnd, i),
        "dataProvider": {"type": "Property", "value": "herzstadt benchmark (synthetic)"},
    }
    if kind == "OffStreetParking":
        total = rnd.randrange(50, 600)
        free = rnd.randrange(0, total)
        e |= {
            "name": {"type": "Property", "value": f"Parkhaus {i}"},
            "category": {"type": "Property", "value": ["parkingGarage", "public", "feeCharged"]},
            "allowedVehicleType": {"type": "Property", "value": ["car"]},
            "totalSpotNumber": {"type": "Property", "value": total, "unitCode": "C62"},
            "availableSpotNumber": {
                "type": "Property",
                "value": free,
                "observedAt": obs,
                "unitCode": "C62",
            },
            "occupancy": {"type": "Property", "value": round(1 - free / total, 3)},
            "status": {
                "type": "Property",
                "value": ["open", "spacesAvailable"] if rnd.random() < 0.7 else ["closed"],
                "observedAt": obs,
            },
            "priceRatePerMinute": {"type": "Property", "value": 0.025},
            "openingHours": {"type": "Property", "value": "Mo-Su 06:00-24:00"},
        }
    elif kind == "ParkingSpot":
        site = i - i % 10
        e |= {
            "name": {"type": "Property", "value": f"Stellplatz {i % 10:02d}"},
            "category": {"type": "Property", "value": ["offStreet"]},
            "status": {
                "type": "Property",
                "value": rnd.choice(("free", "occupied", "occupied", "closed")),
                "observedAt": obs,
            },
            "width": {"type": "Property", "value": rnd.choice((2.3, 2.5, 3.5)), "unitCode": "MTR"},
            "length": {"type": "Property", "value": 5.0, "unitCode": "MTR"},
            "refParkingSite": {"type": "Relationship", "object": entity_id(site)},
        }
    else:
        e |= {
            "name": {"type": "Property", "value": f"Luftmessstelle {i}"},
            "dateObserved": {"type": "Property", "value": obs},
            "typeofLocation": {"type": "Property", "value": "outdoor"},
            "reliability": {"type": "Property", "value": round(rnd.uniform(0.6, 1.0), 2)},
        }
        for name, unit, lo, hi in (
            ("no2", "GQ", 5, 80),
            ("pm10", "GQ", 2, 60),
            ("pm25", "GQ", 1, 40),
            ("o3", "GQ", 5, 120),
            ("temperature", "CEL", -10, 35),
        ):
            e[name] = {
                "type": "Property",
                "value": round(rnd.uniform(lo, hi), 1),
                "observedAt": obs,
                "unitCode": unit,
            }
    e["@context"] = [context_of(kind), CORE]
    return e


PATCH_ATTR = {
    "OffStreetParking": "availableSpotNumber",
    "ParkingSpot": "status",
    "AirQualityObserved": "no2",
}


def patch_body(kind: str, rnd: random.Random) -> dict:
    if kind == "ParkingSpot":
        return {"value": rnd.choice(("free", "occupied")), "observedAt": "2026-11-21T12:00:00Z"}
    return {"value": rnd.randrange(500), "observedAt": "2026-11-21T12:00:00Z"}


# --------------------------------------------------------------------------------- HTTP client
def link(ctx: str) -> str:
    return f'<{ctx}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def request(
    method: str, path: str, host: str, body: bytes = b"", headers: dict | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body or method in ("POST", "PATCH", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; ``await conn.call(raw)`` -> (status, body)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.waiter: asyncio.Future | None = None
        self.transport: asyncio.Transport | None = None
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed by the server"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is not None:
            res = self._parse()
            if res is not None:
                w, self.waiter = self.waiter, None
                w.set_result(res)

    def _parse(self) -> tuple[int, bytes] | None:
        buf = self.buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(buf[:end]).lower()
        status = int(head[9:12])
        start = end + 4
        n = head.find(b"\ncontent-length:")
        if n >= 0:
            eol = head.find(b"\r", n + 1)
            length = int(head[n + 16 : eol if eol >= 0 else None])
            if len(buf) < start + length:
                return None
            body = bytes(buf[start : start + length])
            del buf[: start + length]
            return status, body
        if b"transfer-encoding: chunked" in head:
            chunks, pos = [], start
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
                if len(buf) < eol + 2 + size + 2:
                    return None
                chunks.append(bytes(buf[eol + 2 : eol + 2 + size]))
                pos = eol + 2 + size + 2
                if size == 0:
                    del buf[:pos]
                    return status, b"".join(chunks)
        del buf[:start]  # no body (204, 304)
        return status, b""

    async def call(self, raw: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


async def _call(c: Conn, raw: bytes, host: str, port: int) -> tuple[Conn, int, bytes]:
    """Send one request; a connection the server closed counts as status 599 and is replaced."""
    try:
        status, body = await c.call(raw)
    except ConnectionError as exc:
        if c.transport is not None:
            c.transport.close()
        (c,) = await _connect(host, port, 1)
        return c, 599, str(exc).encode()
    return c, status, body


async def _connect(host: str, port: int, n: int) -> list[Conn]:
    loop = asyncio.get_running_loop()
    out = []
    for _ in range(n):
        _, proto = await loop.create_connection(Conn, host, port)
        out.append(proto)
    return out


def _timed_loop(
    host: str, port: int, conns: int, warmup: float, seconds: float, make: Callable, seed: int
) -> dict:
    """Closed loop: ``conns`` connections send ``make(rnd)`` requests for warmup + seconds."""

    async def main() -> dict:
        cs = await _connect(host, port, conns)
        lat = array("d")
        bad: dict[int, int] = {}
        loop = asyncio.get_running_loop()
        t_start = loop.time() + warmup
        t_end = t_start + seconds
        now = time.perf_counter

        async def worker(c: Conn, rnd: random.Random) -> None:
            while True:
                t0 = loop.time()
                if t0 >= t_end:
                    return
                raw = make(rnd)
                a = now()
                c, status, _ = await _call(c, raw, host, port)
                b = now()
                if t0 >= t_start:
                    lat.append(b - a)
                    if status >= 300:
                        bad[status] = bad.get(status, 0) + 1

        await asyncio.gather(*(worker(c, random.Random(seed * 1000 + k)) for k, c in enumerate(cs)))
        for c in cs:
            c.transport.close()
        return {"count": len(lat), "seconds": seconds, "latencies": lat.tobytes(), "bad": bad}

    return asyncio.run(main())


def _send_all(host: str, port: int, conns: int, requests: list[tuple[int, bytes]]) -> dict:
    """Send pre-built (entities, request) pairs over ``conns`` connections until none are left."""

    async def main() -> dict:
        cs = await _connect(host, port, conns)
        it = iter(requests)
        done = 0
        bad: dict[int, int] = {}
        lat = array("d")
        t0 = time.monotonic()

        async def worker(c: Conn) -> None:
            nonlocal done
            for n, raw in it:
                a = time.perf_counter()
                c, status, body = await _call(c, raw, host, port)
                lat.append(time.perf_counter() - a)
                if status >= 300:
                    bad[status] = bad.get(status, 0) + 1
                    if len(bad) == 1 and bad[status] == 1:
                        print(f"batch failed: {status} {body[:300]!r}", file=sys.stderr)
                else:
                    done += n

        await asyncio.gather(*(worker(c) for c in cs))
        t1 = time.monotonic()
        for c in cs:
            c.transport.close()
        return {"count": done, "start": t0, "end": t1, "latencies": lat.tobytes(), "bad": bad}

    return asyncio.run(main())


# ---------------------------------------------------------------------------- client processes
def client_main(
    conn, index: int, nclients: int, host: str, port: int, n: int, conns: int, api_key: str
):
    """A load-generating process: builds its share of the requests, then runs the phases it is
    sent over ``conn`` (``(phase, warmup, seconds)``; ``None`` ends it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    hostport = f"{host}:{port}"
    key = {"X-API-Key": api_key}
    batches: list[tuple[int, bytes]] = []
    for b, start in enumerate(range(0, n, BATCH)):
        if b % nclients != index:
            continue
        items = [entity(i) for i in range(start, min(n, start + BATCH))]
        body = orjson.dumps(items)
        hdrs = {"Content-Type": "application/ld+json", **key}
        raw = request("POST", BASE + "/entityOperations/upsert", hostport, body, hdrs)
        batches.append((len(items), raw))
    links = {k: {"Link": link(context_of(k))} for k in PATCH_ATTR}
    jh = "application/json"

    def get(rnd: random.Random) -> bytes:
        i = rnd.randrange(n)
        return request("GET", f"{BASE}/entities/{entity_id(i)}", hostport, b"", links[kind_of(i)])

    def get_key(rnd: random.Random) -> bytes:
        i = rnd.randrange(n)
        path = f"{BASE}/entities/{entity_id(i)}"
        return request("GET", path, hostport, b"", {**links[kind_of(i)], **key})

    def patch(rnd: random.Random) -> bytes:
        i = rnd.randrange(n)
        kind = kind_of(i)
        body = orjson.dumps(patch_body(kind, rnd))
        path = f"{BASE}/entities/{entity_id(i)}/attrs/{PATCH_ATTR[kind]}"
        return request("PATCH", path, hostport, body, {**links[kind], "Content-Type": jh, **key})

    fixed = {
        "query": request(
            "GET",
            f"{BASE}/entities?{QUERY}&limit=100",
            hostport,
            b"",
            {"Link": link(PARKING_CTX), **key},
        ),
        "healthz": request("GET", "/healthz", hostport),
        "ngsi_bare": request("GET", f"{BASE}/jsonldContexts?kind=Cached", hostport),
    }
    conn.send("ready")
    while True:
        msg = conn.recv()
        if msg is None:
            return
        phase, warmup, seconds = msg
        if phase == "upsert":
            res = _send_all(host, port, conns, batches)
        elif phase in fixed:
            res = _timed_loop(
                host, port, conns, warmup, seconds, lambda rnd, raw=fixed[phase]: raw, index
            )
        else:
            make = {"get": get, "get_key": get_key, "patch": patch}[phase]
            res = _timed_loop(host, port, conns, warmup, seconds, make, index)
        conn.send(res)


class Clients:
    def __init__(self, n: int, host: str, port: int, entities: int, concurrency: int, api_key: str):
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for k in range(n):
            conns = concurrency // n + (1 if k < concurrency % n else 0)
            a, b = ctx.Pipe()
            p = ctx.Process(
                target=client_main,
                args=(b, k, n, host, port, entities, max(1, conns), api_key),
                daemon=True,
            )
            p.start()
            self.pipes.append(a)
            self.procs.append(p)
        for a in self.pipes:
            if a.recv() != "ready":
                raise RuntimeError("a client process failed to start")

    def run(self, phase: str, warmup: float = 0.0, seconds: float = 0.0) -> list[dict]:
        for a in self.pipes:
            a.send((phase, warmup, seconds))
        return [a.recv() for a in self.pipes]

    def close(self) -> None:
        for a in self.pipes:
            with contextlib.suppress(OSError):
                a.send(None)
        for p in self.procs:
            p.join(2)
            if p.is_alive():
                p.terminate()
                p.join(2)


# --------------------------------------------------------------------------------- the server
def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def herzstadt_command() -> list[str]:
    exe = Path(sys.executable).with_name("herzstadt")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "herzstadt.cli"]


def api_keys_file(directory: Path, api_key: str) -> Path:
    """A keys file (``HERZSTADT_NGSI_API_KEYS_FILE``): the key may read and write the default
    tenant, whose open data are the data set's three types."""
    path = directory / "api-keys.json"
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    path.write_bytes(
        orjson.dumps(
            {
                "tenants": {"": {"public_types": list(TYPE_IRIS)}},
                "keys": [{"sha256": digest, "client_id": "bench", "scopes": ["read", "write"]}],
            }
        )
    )
    return path


#: ``--access site``: a hosted city on the default tenant, its open data and an API client made
#: the way the back office makes one; prints the client's key
SITE_ACCESS_SETUP = """
import os, sys, json
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herzstadt.settings")
import django
django.setup()
from herzstadt.core.models import City, CityRole
from herzstadt.urbandata import access
from herzstadt.urbandata.models import ApiClient
city, _ = City.objects.get_or_create(
    slug="bench", defaults={"name": "Bench", "role": CityRole.HOSTED, "ngsi_tenant": ""}
)
access.save_settings(city, json.loads(sys.argv[1]), [])
client = ApiClient(name="bench", scopes=["read", "write"])
print(access.create_client(city, None, client)[1])
"""


def site_api_key(env: dict) -> str:
    """``--access site``: set up the city and its client in the server's database; the key."""
    run = subprocess.run(
        [sys.executable, "-c", SITE_ACCESS_SETUP, orjson.dumps(list(TYPE_IRIS)).decode()],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return run.stdout.strip().splitlines()[-1]


def server_env(
    data_dir: Path, database_url: str | None, host: str, keys_file: Path | None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERZSTADT_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env |= {
        "HERZSTADT_ENV": "production",
        "HERZSTADT_SECRET_KEY": secrets.token_urlsafe(50),
        "HERZSTADT_ALLOWED_HOSTS": f"{host},localhost",
        "HERZSTADT_DATA_DIR": str(data_dir),
        "HERZSTADT_LOG_LEVEL": "WARNING",
    }
    if keys_file is not None:
        env["HERZSTADT_NGSI_API_KEYS_FILE"] = str(keys_file)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


#: what ``herzstadt serve`` runs after collectstatic (herzstadt/cli.py ``_serve``)
GRANIAN_LIKE_SERVE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "herzstadt.settings")
import django
django.setup()
from granian import Granian
from granian.constants import Interfaces
host, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
Granian("herzstadt.asgi:application", address=host, port=port, interface=Interfaces.ASGI,
        workers=workers, log_access=False, respawn_failed_workers=True).serve()
"""


class Server:
    """``herzstadt migrate`` + ``herzstadt serve`` in their own process group.

    When ``herzstadt serve`` cannot start because its collectstatic step fails (static files are not
    part of this benchmark), the same granian server is started without that step and ``how``
    says so.
    """

    def __init__(self, env: dict, host: str, port: int, workers: int, log: Path):
        self.host, self.port, self.log, self.env = host, port, log, env
        cmd = herzstadt_command()
        with open(log, "ab") as out:
            subprocess.run(
                [*cmd, "migrate", "-v", "0"], env=env, check=True, stdout=out, stderr=out
            )
        self.how = f"herzstadt serve --workers {workers}"
        self._start([*cmd, "serve", "--host", host, "--port", str(port), "--workers", str(workers)])
        try:
            self.wait_ready()
        except RuntimeError:
            if self.proc.poll() is None or "collectstatic" not in log.read_text(errors="replace"):
                raise
            self.how = (
                f"granian, as herzstadt serve --workers {workers} runs it (its collectstatic step"
                " failed; see the server log)"
            )
            print(f"warning: herzstadt serve failed in collectstatic; running {self.how}")
            self._start([sys.executable, "-c", GRANIAN_LIKE_SERVE, host, str(port), str(workers)])
            self.wait_ready()

    def _start(self, argv: list[str]) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                argv,
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,  # its own process group: stopped as a whole
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}")
            try:
                status, _ = http_get(self.host, self.port, "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not answer /healthz in time")

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        except ProcessLookupError:
            pass


def http_get(host: str, port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    async def main():
        (c,) = await _connect(host, port, 1)
        try:
            return await c.call(request("GET", path, f"{host}:{port}", b"", headers))
        finally:
            c.transport.close()

    return asyncio.run(main())


# ------------------------------------------------------------------------------ PostgreSQL db
def scratch_database(url: str) -> tuple[str, str]:
    """(admin URL, scratch URL): the scratch database lives on the server of ``url``."""
    parts = urlsplit(url)
    admin_db = parts.path.lstrip("/") or "postgres"
    if admin_db == SCRATCH_DB:
        admin_db = "postgres"
    admin = urlunsplit(parts._replace(path="/" + admin_db))
    return admin, urlunsplit(parts._replace(path="/" + SCRATCH_DB))


def pg_exec(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(sql)


def pg_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as c:
        return c.execute("SHOW server_version").fetchone()[0]


# ------------------------------------------------------------------------------- measurements
def raw_sqlite_insert(n: int, directory: Path) -> float:
    """Rows/s of a plain executemany of the same JSON documents (one transaction per batch)."""
    docs = [(entity_id(i), orjson.dumps(entity(i)).decode()) for i in range(n)]
    db = sqlite3.connect(directory / "raw.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE doc (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        db.execute("BEGIN")
        db.executemany("INSERT INTO doc(id, doc) VALUES (?, ?)", docs[start : start + BATCH])
        db.execute("COMMIT")
    dt = time.perf_counter() - t0
    db.close()
    return n / dt


def percentiles(blobs: list[bytes]) -> dict[str, float]:
    lat = array("d")
    for b in blobs:
        lat.frombytes(b)
    xs = sorted(lat)
    if not xs:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}

    def at(q: float) -> float:
        return round(xs[min(len(xs) - 1, int(len(xs) * q))] * 1000, 2)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def merge_bad(parts: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in parts:
        for k, v in p["bad"].items():
            out[str(k)] = out.get(str(k), 0) + v
    return out


def timed(clients: Clients, phase: str, seconds: float) -> dict:
    warmup = min(1.0, seconds / 5)
    parts = clients.run(phase, warmup, seconds)
    count = sum(p["count"] for p in parts)
    return {
        "rate": round(count / seconds, 1),
        "unit": "req/s",
        "requests": count,
        **percentiles([p["latencies"] for p in parts]),
        "errors": merge_bad(parts),
    }


def upsert(clients: Clients) -> dict:
    parts = clients.run("upsert")
    count = sum(p["count"] for p in parts)
    dt = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    return {
        "rate": round(count / dt, 1) if dt > 0 else 0.0,
        "unit": "entities/s",
        "entities": count,
        "seconds": round(dt, 3),
        **percentiles([p["latencies"] for p in parts]),
        "errors": merge_bad(parts),
    }


LABELS = {
    "upsert_new": "batch upsert, new (500/request)",
    "upsert_replace": "batch upsert, replacing (500/req)",
    "get": "GET /entities/{id} (open data)",
    "get_key": "GET /entities/{id} (API key)",
    "patch": "PATCH /entities/{id}/attrs/{attr}",
    "query": "GET /entities?type=…&q=…&limit=100",
    "ngsi_bare": "NGSI-LD app: GET /jsonldContexts",
    "healthz": "Django: GET /healthz (bare JSON)",
    "raw_sqlite_insert": "raw sqlite3 executemany (no server)",
}


def table(results: dict) -> str:
    rows = [
        f"{'operation':<38} {'result':>20} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f"  {'errors':<8} target"
    ]
    for key, label in LABELS.items():
        r = results.get(key)
        if r is None:
            continue
        unit = r["unit"]
        target = TARGETS.get(key)
        tgt = f"≥ {target[1]:,} {target[0]}" if target else ""
        if key == "query":
            tgt += ", p95 ≤ 50 ms"
        lat = [f"{r[k]:>8.2f}" if k in r else f"{'':>8}" for k in ("p50_ms", "p95_ms", "p99_ms")]
        errs = sum(r.get("errors", {}).values())
        rows.append(f"{label:<38} {r['rate']:>9,.0f} {unit:<10} {' '.join(lat)}  {errs:<8} {tgt}")
    return "\n".join(rows)


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


# ------------------------------------------------------------------------------------ main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="benchmarks/ngsi_http.py",
        description="HTTP load benchmark of the NGSI-LD broker (herzstadt serve, production "
        "settings, load from separate client processes over loopback).",
    )
    ap.add_argument("--entities", type=int, default=100_000, help="data set size (%(default)s)")
    ap.add_argument("--seconds", type=float, default=10.0, help="per timed phase (%(default)s)")
    ap.add_argument("--workers", type=int, default=2, help="server workers (%(default)s)")
    ap.add_argument("--clients", type=int, default=2, help="client processes (%(default)s)")
    ap.add_argument(
        "--concurrency", type=int, default=16, help="connections in all clients (%(default)s)"
    )
    ap.add_argument(
        "--database-url",
        help="PostgreSQL server to use, e.g. postgresql://postgres@127.0.0.1:5432/postgres; a "
        f"scratch database {SCRATCH_DB!r} is created there and dropped (default: SQLite)",
    )
    ap.add_argument(
        "--access",
        choices=("keys-file", "site"),
        default="keys-file",
        help="who checks the API key: a keys file (%(default)s) or the site's verifier (API "
        "clients of a city's back office, in the database)",
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    a = ap.parse_args(argv)
    if a.entities < 10 or a.seconds <= 0 or a.workers < 1 or a.clients < 1:
        ap.error("need --entities >= 10, --seconds > 0, --workers >= 1, --clients >= 1")
    a.concurrency = max(a.concurrency, a.clients)
    return a


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in background
    tmp = Path(tempfile.mkdtemp(prefix="herzstadt-bench-"))
    server: Server | None = None
    clients: Clients | None = None
    admin_url = db_url = None
    results: dict = {}
    info = machine()
    try:
        print(f"data directory: {tmp}", flush=True)
        print(f"raw sqlite3 insert of {a.entities:,} documents …", flush=True)
        results["raw_sqlite_insert"] = {
            "rate": round(raw_sqlite_insert(a.entities, tmp), 1),
            "unit": "rows/s",
        }
        (tmp / "raw.sqlite3").unlink()
        if a.database_url:
            admin_url, db_url = scratch_database(a.database_url)
            pg_exec(admin_url, f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
            pg_exec(admin_url, f'CREATE DATABASE "{SCRATCH_DB}"')
            info["postgresql"] = pg_version(db_url)
        port = a.port or free_port(a.host)
        api_key = secrets.token_urlsafe(32)
        keys_file = api_keys_file(tmp, api_key) if a.access == "keys-file" else None
        env = server_env(tmp / "data", db_url, a.host, keys_file)
        print(
            f"starting herzstadt serve --workers {a.workers} on {a.host}:{port}"
            f" ({'PostgreSQL' if db_url else 'SQLite'}) …",
            flush=True,
        )
        server = Server(env, a.host, port, a.workers, tmp / "server.log")
        info["server"] = server.how
        if a.access == "site":
            # before any NGSI-LD request: the verifier's answers are cached for 30 s
            api_key = site_api_key(env)
        info["access"] = a.access
        print(f"starting {a.clients} client processes, {a.concurrency} connections …", flush=True)
        clients = Clients(a.clients, a.host, port, a.entities, a.concurrency, api_key)
        print("batch upsert (new entities) …", flush=True)
        results["upsert_new"] = upsert(clients)
        print("batch upsert (replacing) …", flush=True)
        results["upsert_replace"] = upsert(clients)
        status, body = http_get(
            a.host,
            port,
            f"{BASE}/entities?{QUERY}&limit=100",
            {"Link": link(PARKING_CTX), "X-API-Key": api_key},
        )
        if status != 200:
            raise RuntimeError(f"the benchmark query failed: {status} {body[:300]!r}")
        matches = len(orjson.loads(body))
        for phase in ("get", "get_key", "patch", "query", "ngsi_bare", "healthz"):
            print(f"{LABELS[phase]} for {a.seconds:g} s …", flush=True)
            results[phase] = timed(clients, phase, a.seconds)
        results["query"]["entities_per_response"] = matches
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the server", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        log = tmp / "server.log"
        if log.exists():
            print("--- server log (tail) ---", file=sys.stderr)
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # finish the clean-up
        if clients is not None:
            clients.close()
        if server is not None:
            server.stop()
        if admin_url is not None:
            try:
                pg_exec(admin_url, f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
            except Exception as exc:  # report, but still remove the files
                print(f"could not drop {SCRATCH_DB}: {exc}", file=sys.stderr)
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print()
    print(
        f"{a.entities:,} entities, {a.workers} server workers, {a.clients} client processes,"
        f" {a.concurrency} connections, {a.seconds:g} s per phase,"
        f" {'PostgreSQL ' + info.get('postgresql', '') if db_url else 'SQLite ' + info['sqlite']}"
    )
    print(f"{info['cpu']}, {info['cores']} cores, {info['memory']}, Python {info['python']}")
    print(f"server: {info['server']}; API key checked by: {info['access']}")
    print(f"query returns {results['query']['entities_per_response']} entities per response")
    print(table(results))
    if a.json:
        out = {
            "machine": info,
            "options": {
                k: getattr(a, k)
                for k in ("entities", "seconds", "workers", "clients", "concurrency", "access")
            },
            "database": "postgresql" if db_url else "sqlite",
            "server": info["server"],
            "results": results,
        }
        Path(a.json).write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
