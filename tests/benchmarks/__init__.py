"""Smoke tests of the benchmarks in benchmarks/: each runs a benchmark end to end at tiny sizes."""

import os

import pytest

#: For the smoke tests of benchmarks that build their own scratch site on SQLite whatever the test
#: run's database is: the PostgreSQL pass of ``.ci/run`` would only repeat the SQLite pass's run.
ON_THEIR_OWN_SQLITE = pytest.mark.skipif(
    bool(os.environ.get("HERZSTADT_TEST_DATABASE_URL")),
    reason="the benchmark runs on its own SQLite site; the SQLite pass covers it",
)
