"""The temporal benchmark runs end to end against the real broker (tiny sizes, no timing
assertions): every phase answers and the JSON holds every figure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from tests.benchmarks import ON_THEIR_OWN_SQLITE

pytestmark = ON_THEIR_OWN_SQLITE

ROOT = Path(__file__).resolve().parents[2]


def test_temporal_benchmark_runs(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "ngsi_temporal.py"),
            "--seconds",
            "1",
            "--clients",
            "1",
            "--concurrency",
            "1",
            "--big",
            "10000",
            "--repeat",
            "2",
            "--json",
            str(out),
        ],
        check=True,
        cwd=ROOT,
        timeout=300,
    )
    r = orjson.loads(out.read_bytes())
    assert r["database"] == "sqlite"
    assert r["ingest_instances_per_s"] > 0
    assert r["thirty_days_ms"]["instances"] == 2880
    assert r["aggregation_ms"]["p95"] > 0
    assert r["backfill_instances_per_s"] > 0
