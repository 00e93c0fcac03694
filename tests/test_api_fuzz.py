"""schemathesis against a real ``herzstadt serve`` (issue 8): every operation of the broker's
OpenAPI document, schema-conforming and malformed requests, a fixed number of derandomized
examples; 0 responses ≥ 500 (the documented 501/503 aside, see tests/apifuzz.py), every 4xx a
ProblemDetails. Twice: with open access (anyone may write) and anonymous (no credentials, no
key file: only the public operations may answer 2xx). Runs on the test run's database, so on
SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.apifuzz import fuzz, summary
from tests.serverutil import Server, environment_for_test_database

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

#: examples per operation and generation mode (positive, negative): ~450 requests a pass
OPEN_EXAMPLES = 5
ANONYMOUS_EXAMPLES = 2

PUBLIC = {"GET /openapi.json", "GET /jsonldContexts", "GET /jsonldContexts/{contextId}"}


def _serve(tmp_path, **env):
    return Server(
        tmp_path,
        env=environment_for_test_database(HERZSTADT_NGSI_REMOTE_CONTEXTS="0", **env),
    )


def test_schemathesis_open_access_finds_no_server_error(tmp_path):
    with _serve(tmp_path, HERZSTADT_NGSI_OPEN_ACCESS="1") as server:
        report = fuzz(f"http://127.0.0.1:{server.port}", max_examples=OPEN_EXAMPLES)
        log = server.output()
    print(summary(report))
    assert report.findings == [], "\n".join(report.findings[:10]) + "\n" + log[-3000:]
    assert report.requests > 300
    # the run reached the broker's use cases, not only its parameter checks
    assert report.statuses[200] and report.statuses[201], report.statuses
    assert "Traceback" not in log, log[-3000:]


def test_schemathesis_anonymous_gets_no_data_and_no_server_error(tmp_path):
    def judge(case, response):
        label = f"{case.operation.method.upper()} {case.operation.path}"
        if response.status_code < 400 and label not in PUBLIC:
            return "an anonymous request succeeded"
        return None

    with _serve(tmp_path) as server:
        report = fuzz(
            f"http://127.0.0.1:{server.port}", max_examples=ANONYMOUS_EXAMPLES, judge=judge
        )
        log = server.output()
    print(summary(report))
    assert report.findings == [], "\n".join(report.findings[:10]) + "\n" + log[-3000:]
    assert report.statuses[401] and report.statuses[404], report.statuses
    assert "Traceback" not in log, log[-3000:]
