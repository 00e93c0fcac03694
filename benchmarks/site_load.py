"""The Django site under a burst of writes and under steady load, served as a city serves it.

    python3 -m uv run python benchmarks/site_load.py [--database-url postgresql://…/postgres]
        [--workers 2] [--people 200] [--seconds 5] [--connections 16] [--no-pool]

1. Prepares a scratch database (PostgreSQL: ``herzstadt_site_bench`` on the given server, created and
   dropped again; without ``--database-url``: SQLite in a temporary directory): ``herzstadt migrate``,
   the demo city, a process in its ideas phase with one idea, and ``--people`` signed-in people.
2. Starts ``herzstadt serve --workers N`` (``--no-pool``: ``HERZSTADT_DB_POOL=0``, one database connection
   per request as before the pool).
3. ``/healthz`` (a JSON view with ``SELECT 1``) for ``--seconds`` over ``--connections`` keep-alive
   connections: requests/s and the status codes.
4. All ``--people`` support the idea at the same moment (one thread each): wall time, status codes, and
   whether the idea's counter equals the number of supports stored.

Figures and how to read them: docs/performance.md ("The site under load").
"""

from __future__ import annotations

import argparse
import collections
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "herzstadt_site_bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_database(url: str, create: bool) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB} WITH (FORCE)")
        if create:
            conn.execute(f"CREATE DATABASE {SCRATCH_DB}")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{SCRATCH_DB}"))


def prepare(env: dict[str, str], people: int) -> tuple[str, list[dict[str, str]], int]:
    """Migrate, load the demo, create a process with an idea and signed-in people (in this process)."""
    run = [sys.executable, "-m", "herzstadt"]
    subprocess.run([*run, "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
    subprocess.run([*run, "loaddemo", "--no-migrate"], env=env, cwd=ROOT, check=True)
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "herzstadt.settings"
    import datetime as dt

    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.urls import reverse
    from django.utils import timezone, translation

    from herzstadt.accounts.models import Profile
    from herzstadt.core.models import City, District
    from herzstadt.participation import services
    from herzstadt.participation.models import Phase, Process

    city = City.objects.get(slug="kaiserslautern")
    now = timezone.now()
    process = Process.objects.create(
        city=city,
        slug="bench-burst",
        title="Benchmark",
        summary="Benchmark",
        district=District.objects.filter(city=city).first(),
        is_published=True,
    )
    Phase.objects.create(
        city=city,
        process=process,
        kind="ideas",
        title="Ideen",
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=1),
    )

    def person(n: int) -> User:
        user = User.objects.create_user(username=f"bench{n}", email=f"bench{n}@example.org")
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        Profile.objects.update_or_create(user=user, defaults={"display_name": f"Bench {n}"})
        return user

    idea = services.post_idea(person(0), process, title="Mehr Bänke", body="Überall, bitte sehr.")
    browsers = []
    for n in range(1, people + 1):
        user = person(n)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        browsers.append({"sessionid": session.session_key, "csrftoken": "c" * 32})
    with translation.override("de"):
        path = reverse("participation:support", args=[process.slug, idea.pk])
    from django.db import connections

    connections.close_all()
    return path, browsers, idea.pk


def healthz_load(port: int, seconds: float, connections: int) -> tuple[float, collections.Counter]:
    statuses: collections.Counter = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: collections.Counter = collections.Counter()
        while time.monotonic() < deadline:
            try:
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                response = conn.getresponse()
                response.read()
                local[response.status] += 1
            except (OSError, http.client.HTTPException):
                local["error"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            statuses.update(local)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(statuses.values()) / (time.monotonic() - started), statuses


def burst(
    port: int, path: str, browsers: list[dict[str, str]]
) -> tuple[float, collections.Counter]:
    statuses: collections.Counter = collections.Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(browsers) + 1)

    def click(cookies):
        body = urlencode({"csrfmiddlewaretoken": cookies["csrftoken"]})
        barrier.wait()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.request(
                "POST",
                path,
                body=body,
                headers={
                    "Host": "127.0.0.1",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                },
            )
            status = conn.getresponse().status
        except (OSError, http.client.HTTPException):
            status = "error"
        finally:
            conn.close()
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=click, args=(c,)) for c in browsers]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.monotonic()
    for t in threads:
        t.join()
    return time.monotonic() - started, statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-pool", action="store_true", help="HERZSTADT_DB_POOL=0")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="herzstadt-site-bench-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HERZSTADT_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(
        HERZSTADT_DATA_DIR=str(tmp),
        HERZSTADT_SECRET_KEY=secrets.token_urlsafe(50),
        HERZSTADT_DB_POOL="0" if args.no_pool else "1",
    )
    if args.database_url:
        env["DATABASE_URL"] = scratch_database(args.database_url, create=True)
    server = None
    try:
        path, browsers, idea_pk = prepare(env, args.people)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "herzstadt",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "server.log").open("wb"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        database = "PostgreSQL" if args.database_url else "SQLite"
        pool = "without pool" if args.no_pool else "with pool"
        print(f"{database}, {args.workers} workers, {pool}")
        time.sleep(1)
        rate, statuses = healthz_load(port, args.seconds, args.connections)
        print(
            f"GET /healthz: {rate:,.0f} req/s over {args.connections} connections; {dict(statuses)}"
        )
        elapsed, statuses = burst(port, path, browsers)
        from herzstadt.participation.models import Idea, Support

        count = Idea.objects.get(pk=idea_pk).support_count
        stored = Support.objects.filter(idea_id=idea_pk).count()
        print(
            f"{args.people} simultaneous supports: {elapsed:.2f} s; {dict(statuses)}; "
            f"counter {count}, stored {stored}"
        )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if "django" in sys.modules and os.environ.get("DJANGO_SETTINGS_MODULE"):
            from django.db import connections

            connections.close_all()
        if args.database_url:
            scratch_database(args.database_url, create=False)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
