"""Smoke test of benchmarks/live_pages.py: it prepares a site, starts the real server, measures the live
pages at two sizes and cleans up. It checks what does not depend on the machine: the same SQL and broker
queries at both sizes, no errors. No timing assertions."""

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
SCRIPT = ROOT / "benchmarks" / "live_pages.py"


@pytest.mark.slow
def test_live_pages_benchmark_runs_and_pages_do_not_grow(tmp_path):
    out = tmp_path / "result.json"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HERZSTADT_", "DATABASE_URL", "DJANGO_"))
    }
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--sizes", "4,250", "--cache-wait", "0", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    sizes = json.loads(out.read_text())["sizes"]
    small, large = sizes["4"], sizes["250"]
    assert small.keys() == large.keys() == {"district page", "air-quality page", "measure page"}
    for page in small:
        assert small[page]["sql"] == large[page]["sql"], page
        assert small[page]["broker"] == large[page]["broker"], page
