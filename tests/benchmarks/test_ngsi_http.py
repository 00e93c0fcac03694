"""Smoke test of the HTTP benchmark (benchmarks/ngsi_http.py): it starts the server, drives it
from client processes, prints every figure and cleans up. No timing assertions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks import ON_THEIR_OWN_SQLITE

pytestmark = ON_THEIR_OWN_SQLITE

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "ngsi_http.py"
PHASES = (
    "upsert_new",
    "upsert_replace",
    "get",
    "get_key",
    "patch",
    "query",
    "ngsi_bare",
    "healthz",
    "raw_sqlite_insert",
)


@pytest.mark.slow
@pytest.mark.parametrize("access", ["keys-file", "site"])
def test_http_benchmark_runs_and_reports_every_metric(tmp_path, access):
    out = tmp_path / "result.json"
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--entities",
            "300",
            "--seconds",
            "0.5",
            "--access",
            access,
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for label in (
        "batch upsert, new",
        "batch upsert, replacing",
        "GET /entities/{id} (open data)",
        "GET /entities/{id} (API key)",
        "PATCH /entities/{id}/attrs/{attr}",
        "GET /entities?type=…&q=…&limit=100",
        "NGSI-LD app: GET /jsonldContexts",
        "Django: GET /healthz",
        "raw sqlite3 executemany",
    ):
        assert label in run.stdout
    assert f"API key checked by: {access}" in run.stdout
    results = json.loads(out.read_text())["results"]
    assert set(results) == set(PHASES)
    for name in PHASES:
        assert results[name]["rate"] > 0, name
        assert not results[name].get("errors"), (name, results[name]["errors"])
    assert results["upsert_new"]["entities"] == 300
    assert results["query"]["entities_per_response"] > 0
    # the server and the temporary data are gone
    data_dir = run.stdout.splitlines()[0].removeprefix("data directory: ").strip()
    assert not Path(data_dir).exists()
