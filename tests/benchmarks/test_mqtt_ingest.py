"""Smoke test of benchmarks/mqtt_ingest.py: a scratch site, its own Mosquitto, the real worker, two
publisher processes; every message arrives (nothing dropped). No timing assertions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks import ON_THEIR_OWN_SQLITE

pytestmark = ON_THEIR_OWN_SQLITE

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "mqtt_ingest.py"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("mosquitto") is None, reason="no mosquitto binary")
def test_mqtt_ingest_benchmark_runs_and_loses_nothing(tmp_path):
    out = tmp_path / "result.json"
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--messages",
            "50",
            "--entities",
            "3",
            "--attributes",
            "2",
            "--timeout",
            "120",
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
    assert result["messages"] == 100 and result["dropped_by_broker"] == 0
    assert result["attribute_instances"] == 100 * 3 * 3
