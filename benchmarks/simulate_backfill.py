"""Cost of the living Pfaff-Areal: the 30-day backfill and a live tick, on a broker of its own.

    python3 -m uv run python benchmarks/simulate_backfill.py [--database-url postgresql://...]
        [--days 30] [--ticks 50] [--json out.json]

What it does (docs/performance.md, section "Simulation", has the figures):

1. Opens a broker on a fresh temporary SQLite file (or, with ``--database-url``, a scratch schema
   ``simulate_bench`` of that PostgreSQL database, dropped again) with the Smart Data Models
   @contexts the site preloads, and loads the demo snapshot (41 entities) by batch upsert.
2. Generates ``--days`` of history at 15-minute resolution (``temporal_fragments``: 2,880 times,
   about 363,000 attribute instances for 30 days) and reports the time.
3. Runs the backfill as ``herzstadt demo`` does (in-process through the broker's route table:
   ``POST /temporal/entities/{id}/attrs`` per entity), then a second time (idempotent: it must
   write nothing). A broker without a temporal API answers 501; the backfill reports that and the
   benchmark prints it instead of a figure.
4. Measures ``--ticks`` live ticks (all 39 simulated entities: the values computed and written
   with one batch upsert, ``options=update``), p50 and p95.

Everything runs in this one process (the backfill runs in-process in ``herzstadt demo`` too); the
figures include computing the values.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from herzstadt.ngsi import Broker, NgsiConfig  # noqa: E402
from herzstadt.ngsi.auth import system_principal  # noqa: E402
from herzstadt.ngsi.params import WriteOptions  # noqa: E402
from herzstadt.ngsi.service import Req, batch_upsert  # noqa: E402
from herzstadt.urbandata.simulation import backfill, district  # noqa: E402
from herzstadt.urbandata.simulation.publish import CHUNK  # noqa: E402

SNAPSHOT = ROOT / "herzstadt/urbandata/demo/pfaff-areal.jsonld"
PRELOAD = ROOT / "herzstadt/urbandata/demo/contexts/preload.json"


def upsert(broker: Broker, entities: list[dict], update: bool) -> None:
    for i in range(0, len(entities), CHUNK):
        req = Req(
            principal=system_principal("", "bench"),
            ctx=broker.resolver.get(None),
            body=entities[i : i + CHUNK],
            ld=True,
        )
        result = batch_upsert(broker, req, WriteOptions(update=update))
        if result.status not in (201, 204):
            raise SystemExit(f"upsert failed: {result.status} {result.body}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--ticks", type=int, default=50)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="hz-sim-bench-")
    if args.database_url:
        sep = "&" if "?" in args.database_url else "?"
        database = f"{args.database_url}{sep}schema=simulate_bench"
    else:
        database = str(Path(tmp.name) / "ngsi.sqlite3")
    config = NgsiConfig(
        database=database,
        preload_files=[str(PRELOAD)],
        allow_remote_contexts=False,
        max_batch_entities=10000,
        open_access=True,
    )
    broker = Broker(config)
    figures: dict[str, object] = {"database": "postgresql" if args.database_url else "sqlite"}
    try:
        entities = district.load_snapshot(SNAPSHOT)
        upsert(broker, entities, update=False)
        now = dt.datetime.now(dt.UTC)
        times = district.quarter_hours(now, args.days)

        started = time.perf_counter()
        frags = district.temporal_fragments(entities, times)
        generate = time.perf_counter() - started
        instances = sum(
            len(v) for f in frags for k, v in f.items() if k != "@context" and isinstance(v, list)
        )
        figures |= {"instances": instances, "generate_s": round(generate, 2)}
        print(f"generate {args.days} days: {instances} instances in {generate:.2f} s")

        first = backfill.backfill(broker, "", entities, now, args.days)
        second = backfill.backfill(broker, "", entities, now, args.days)
        if first.unavailable:
            print(f"backfill: {first.unavailable}")
            figures["backfill"] = first.unavailable
        else:
            rate = first.instances / first.seconds if first.seconds else 0
            print(
                f"backfill: {first.instances} instances of {first.entities} entities in "
                f"{first.seconds:.2f} s ({rate:,.0f}/s incl. generating); second start: "
                f"{second.instances} written, {second.skipped} skipped in {second.seconds:.2f} s"
            )
            figures |= {
                "backfill_s": round(first.seconds, 2),
                "backfill_per_s": round(rate),
                "second_start_s": round(second.seconds, 2),
                "second_start_written": second.instances,
            }

        samples = []
        for i in range(args.ticks):
            t0 = time.perf_counter()
            upsert(broker, district.fragments(entities, now + dt.timedelta(seconds=10 * i)), True)
            samples.append((time.perf_counter() - t0) * 1000)
        q = statistics.quantiles(samples, n=20)
        p50, p95 = statistics.median(samples), q[18]
        print(f"live tick (39 entities): p50 {p50:.1f} ms, p95 {p95:.1f} ms over {args.ticks}")
        figures |= {"tick_p50_ms": round(p50, 1), "tick_p95_ms": round(p95, 1)}
    finally:
        close = getattr(broker, "close", None)
        if callable(close):
            close()
        if args.database_url:
            import psycopg

            with psycopg.connect(args.database_url, autocommit=True) as conn:
                conn.execute("DROP SCHEMA IF EXISTS simulate_bench CASCADE")
        tmp.cleanup()
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
