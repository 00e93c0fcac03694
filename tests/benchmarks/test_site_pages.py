"""Smoke test of benchmarks/site_pages.py: it prepares a site, starts the real server, measures every
page at two sizes and the three handlers' fixed cost, and cleans up. It checks what does not depend on
the machine: the same queries at both sizes, pages far below 150 kB, no errors. No timing assertions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks import ON_THEIR_OWN_SQLITE

pytestmark = ON_THEIR_OWN_SQLITE

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "site_pages.py"


@pytest.mark.slow
def test_site_pages_benchmark_runs_and_pages_do_not_grow(tmp_path):
    out = tmp_path / "result.json"
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--sizes",
            "60,150",
            "--seconds",
            "0.3",
            "--connections",
            "2",
            "--cache-wait",
            "0",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        # the benchmark builds its own scratch site (SQLite): not the test run's settings or database
        env={
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HERZSTADT_", "DATABASE_URL", "DJANGO_"))
        },
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(out.read_text())
    small, large = result["sizes"]["60"], result["sizes"]["150"]
    assert set(small) == set(large) and "process page" in small
    for name, row in large.items():
        assert row["errors"] == 0, name
        assert row["queries"] == small[name]["queries"], name
        if name != "ideas GeoJSON":  # the map's data grows with the ideas, by design
            assert row["bytes"] < 150_000, name
            assert abs(row["bytes"] - small[name]["bytes"]) < 400, name
    assert large["process page"]["queries"] <= 20
    assert len(result["fixed_cost"]) == 3
    assert all(v["errors"] == 0 for v in result["fixed_cost"].values())
