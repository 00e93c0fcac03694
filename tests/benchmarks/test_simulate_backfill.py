"""Smoke test of the simulation benchmark (benchmarks/simulate_backfill.py): it runs, reports every
figure and cleans up. No timing assertions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "simulate_backfill.py"


def test_simulation_benchmark_reports_its_figures(tmp_path):
    out = tmp_path / "figures.json"
    args = [sys.executable, str(SCRIPT), "--days", "1", "--ticks", "5", "--json", str(out)]
    if os.environ.get("HERZSTADT_TEST_DATABASE_URL"):
        args += ["--database-url", os.environ["HERZSTADT_TEST_DATABASE_URL"]]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    assert figures["instances"] == 96 * 127  # one day of 15-minute instances of 127 attributes
    assert "tick_p95_ms" in figures and "generate_s" in figures
    assert "backfill_s" in figures or "temporal API" in figures["backfill"]
    assert "live tick (39 entities)" in result.stdout
