"""The federation benchmark runs end to end against two real brokers (tiny sizes, no timing
assertions): a federated answer holds both brokers' entities, and no request fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks import ON_THEIR_OWN_SQLITE

pytestmark = [ON_THEIR_OWN_SQLITE, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_federation_benchmark_runs(tmp_path):
    out = tmp_path / "result.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "ngsi_federation.py"),
            "--seconds",
            "0.3",
            "--entities",
            "30",
            "--clients",
            "1",
            "--concurrency",
            "2",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(result["scenarios"]) == {
        "partner B directly",
        "home A, local=true",
        "home A, federated with B",
        "home A, federated, count=true",
    }
    for row in result["scenarios"].values():
        assert row["errors"] == 0 and row["requests"] > 0
