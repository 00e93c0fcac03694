"""Ballots per second through the real server, each with its receipt checked, and the whole log
verified at the end.

    python3 -m uv run python benchmarks/ballots.py [--database-url postgresql://…/postgres]
        [--workers 2] [--voters 2000] [--processes 4] [--threads 8] [--batch 20]

1. Prepares a scratch database (PostgreSQL: ``herzstadt_ballot_bench`` on the given server, created
   and dropped again; without ``--database-url``: SQLite in a temporary directory):
   ``herzstadt migrate``, a hosted city, an open participatory budget (approval, up to 3 of 10
   proposals) and ``--voters`` electors with voting codes (stored as salted hashes, as the census
   import stores them).
2. Starts ``herzstadt serve --workers N`` (``HERZSTADT_DECISIONS_MIX_BATCH=--batch``).
3. ``--processes`` client processes (``--threads`` keep-alive connections each) vote with every code
   at once: per ballot ``POST …/abstimmen/`` (step "confirm": authorise the code, validate, cast,
   receipt page) and then ``POST …/quittung/`` with the receipt read from that page, which must
   answer "in the pool" or "in the log". Reported: ballots/s (both requests done and the receipt
   found), the status codes, and the share of wall time.
4. Closes the vote, downloads ``protokoll.json`` and checks: the chain verifies to the published
   head, every receipt is in it exactly once, the tally equals what the clients cast.

Figures and how to read them: docs/performance.md ("Ballots").
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "herzstadt_ballot_bench"
CSRF = "c" * 32
HERZSTADT = (sys.executable, "-m", "herzstadt")
RECEIPT = re.compile(r'class="receipt"><code>([0-9A-Z-]+)</code>')


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


def prepare(env: dict[str, str], voters: int) -> tuple[str, str, list[str]]:
    """Migrate; a city, an open budget with 10 proposals and ``voters`` codes (in this process)."""
    subprocess.run(
        [sys.executable, "-m", "herzstadt", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "herzstadt.settings"
    import datetime as dt

    import django

    django.setup()
    from django.db import connections
    from django.urls import reverse
    from django.utils import timezone, translation

    from herzstadt.core.models import City, CityRole
    from herzstadt.decisions import eligibility
    from herzstadt.decisions.models import Decision, Elector, Feasibility, Proposal

    city = City.objects.create(
        slug="kaiserslautern", name="Kaiserslautern", role=CityRole.HOSTED, lon=7.77, lat=49.44
    )
    now = timezone.now()
    decision = Decision.objects.create(
        city=city,
        kind="budget",
        slug="bench",
        title="Benchmark-Budget",
        budget_eur=100_000,
        ballot_style="approval",
        max_choices=3,
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=1),
        results_at=now + dt.timedelta(days=2),
        is_published=True,
    )
    for n in range(1, 11):
        Proposal.objects.create(
            city=city,
            decision=decision,
            number=n,
            title=f"Vorschlag {n}",
            cost_eur=5_000 * n,
            feasibility=Feasibility.FEASIBLE,
        )
    codes = [secrets.token_hex(10).upper() for _ in range(voters)]
    Elector.objects.bulk_create(
        [
            Elector(city=city, decision=decision, code_hash=eligibility.secret_hash(decision, c))
            for c in codes
        ],
        batch_size=1000,
    )
    with translation.override("de"):
        vote = reverse("decisions:vote", args=[decision.slug])
        receipt = reverse("decisions:receipt", args=[decision.slug])
    connections.close_all()
    return vote, receipt, codes


def _post(conn: http.client.HTTPConnection, path: str, data: dict) -> tuple[int, str]:
    body = urlencode({"csrfmiddlewaretoken": CSRF, **data}, doseq=True)
    conn.request(
        "POST",
        path,
        body=body,
        headers={
            "Host": "127.0.0.1",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={CSRF}",
        },
    )
    response = conn.getresponse()
    return response.status, response.read().decode("utf-8", "replace")


def client_process(args: tuple) -> dict:
    """One client process: ``threads`` connections vote with the given codes; returns the counts,
    the receipts and the choices cast."""
    import threading

    port, vote, receipt_path, codes, threads, start_at = args
    statuses: collections.Counter = collections.Counter()
    receipts: list[str] = []
    tally: collections.Counter = collections.Counter()
    lock = threading.Lock()
    chunks = [codes[i::threads] for i in range(threads)]

    def run(chunk: list[str]) -> None:
        rng = random.Random()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        local: collections.Counter = collections.Counter()
        mine: list[str] = []
        cast: collections.Counter = collections.Counter()
        for code in chunk:
            choice = [str(n) for n in rng.sample(range(1, 11), rng.randint(1, 3))]
            try:
                status, page = _post(
                    conn, vote, {"method": "code", "code": code, "step": "confirm", "p": choice}
                )
                local[f"vote {status}"] += 1
                found = RECEIPT.search(page)
                if status != 200 or not found:
                    continue
                status, page = _post(conn, receipt_path, {"receipt": found.group(1)})
                ok = status == 200 and ("Ihre Stimme ist im Pool" in page or "an Position" in page)
                local["verified" if ok else f"check {status}"] += 1
                if ok:
                    mine.append(found.group(1))
                    cast.update(choice)
            except (OSError, http.client.HTTPException):
                local["error"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.close()
        with lock:
            statuses.update(local)
            receipts.extend(mine)
            tally.update(cast)

    while time.time() < start_at:
        time.sleep(0.001)
    workers = [threading.Thread(target=run, args=(c,)) for c in chunks]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return {"statuses": dict(statuses), "receipts": receipts, "tally": dict(tally)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="herzstadt-ballot-bench-"))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HERZSTADT_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(
        HERZSTADT_DATA_DIR=str(tmp),
        HERZSTADT_SECRET_KEY=secrets.token_urlsafe(50),
        HERZSTADT_DECISIONS_MIX_BATCH=str(args.batch),
        HERZSTADT_EMBEDDED_WORKER="0",
    )
    if args.database_url:
        env["DATABASE_URL"] = scratch_database(args.database_url, create=True)
    server = None
    try:
        vote, receipt_path, codes = prepare(env, args.voters)
        port = free_port()
        server = subprocess.Popen(
            [*HERZSTADT, "serve", "--port", str(port), "--workers", str(args.workers)],
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
        print(
            f"{database}, {args.workers} server workers, {args.processes} client processes × "
            f"{args.threads} connections, {args.voters} voters, pool batch {args.batch}"
        )
        start_at = time.time() + 3
        parts = [codes[i :: args.processes] for i in range(args.processes)]
        with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
            pending = pool.map_async(
                client_process,
                [(port, vote, receipt_path, p, args.threads, start_at) for p in parts],
            )
            results = pending.get(timeout=3600)
        elapsed = time.time() - start_at
        statuses: collections.Counter = collections.Counter()
        tally: collections.Counter = collections.Counter()
        receipts: list[str] = []
        for r in results:
            statuses.update(r["statuses"])
            tally.update(r["tally"])
            receipts.extend(r["receipts"])
        print(
            f"{len(receipts)} ballots cast and their receipts checked in {elapsed:.1f} s: "
            f"{len(receipts) / elapsed:,.0f} ballots/s ({2 * len(receipts) / elapsed:,.0f} "
            f"requests/s); {dict(statuses)}"
        )

        # close, download the log, verify everything
        from django.utils import timezone

        from herzstadt.decisions import log
        from herzstadt.decisions.models import Decision

        Decision.objects.filter(slug="bench").update(closes_at=timezone.now())
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request(
            "GET", vote.replace("abstimmen/", "protokoll.json"), headers={"Host": "127.0.0.1"}
        )
        response = conn.getresponse()
        published = json.loads(response.read())
        fetched = time.monotonic() - started
        head = log.verify_chain(published["entries"])
        in_log = collections.Counter(e["receipt_hash"] for e in published["entries"])
        ok = (
            head == published["head"]
            and len(published["entries"]) == len(receipts)
            and all(in_log[log.receipt_hash(r)] == 1 for r in receipts)
            and log.tally(published["entries"])
            == {k: tally[k] for k in log.tally(published["entries"])}
            and sum(log.tally(published["entries"]).values()) == sum(tally.values())
        )
        print(
            f"log: {len(published['entries'])} entries fetched in {fetched:.2f} s (flushing the "
            f"rest of the pool included), chain, receipts and tally "
            f"{'verified' if ok else 'DO NOT MATCH'}"
        )
        return 0 if ok else 1
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


if __name__ == "__main__":
    sys.exit(main())
