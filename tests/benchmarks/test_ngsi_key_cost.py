"""The API-key cost benchmark runs and measures both kinds of request (no timing assertions)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location(
        "ngsi_key_cost", ROOT / "benchmarks" / "ngsi_key_cost.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_key_cost_benchmark_measures_open_and_key_requests(tmp_path):
    result = asyncio.run(_module().run(50, 2, 20, tmp_path))
    assert result["open_cpu_us_median"] > 0
    assert result["key_cpu_us_median"] > 0
    assert len(result["open_cpu_us_quartiles"]) == 3
