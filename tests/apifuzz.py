"""schemathesis against a live broker: every operation of the broker's own OpenAPI document
(``/ngsi-ld/v1/openapi.json``), with data that fits the schema (positive) and data that does
not (negative), a bounded and reproducible number of examples per operation and mode.

``fuzz(base_url, …)`` returns every finding (nothing is raised inside hypothesis, so each
operation gets exactly its examples and a run takes a bounded time): a response ≥ 500
(schemathesis' ``not_a_server_error`` check), a 4xx without a ProblemDetails body, or what the
caller's ``judge`` objects to. Two answers ≥ 500 are what the API documents, not server errors:
501 (OperationNotSupported) of the routed but not implemented operations, and 503
LdContextNotAvailable for an @context URL the broker may not fetch (the runs switch remote
@contexts off). Both are counted and reported by the caller.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

NOT_IMPLEMENTED_TYPE = "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported"
NO_CONTEXT_TYPE = "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable"


@dataclass
class Report:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    documented_5xx: Counter = field(default_factory=Counter)  # (operation, status)
    findings: list[str] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)


def _problem_type(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("type"), str) and "title" in body:
        return body["type"]
    return None


def fuzz(
    base_url: str,
    *,
    max_examples: int,
    headers: dict[str, str] | None = None,
    judge: Callable[[object, requests.Response], str | None] | None = None,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
) -> Report:
    """Fuzz every operation of the broker at ``base_url`` (``http://host:port``)."""
    session = requests.Session()
    raw = session.get(base_url + "/ngsi-ld/v1/openapi.json", timeout=30)
    raw.raise_for_status()
    document = raw.json()
    not_implemented = {
        (path, method.upper())
        for path, item in document["paths"].items()
        for method, op in item.items()
        if "501" in op["responses"]
    }
    api_url = base_url + document["servers"][0]["url"]
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    report = Report()

    def one(case) -> None:
        op = case.operation
        label = f"{op.method.upper()} {op.path}"
        try:
            response = case.call(base_url=api_url, session=session, headers=headers, timeout=60)
        except requests.RequestException as e:
            report.findings.append(f"{label}: no response ({e!r})\n  {case.as_curl_command()}")
            return
        report.requests += 1
        status = response.status_code
        report.statuses[status] += 1
        kind = _problem_type(response) if status >= 400 else None
        if (
            status == 501
            and (op.path, op.method.upper()) in not_implemented
            and kind == NOT_IMPLEMENTED_TYPE
        ):
            report.documented_5xx[(label, 501)] += 1
            return
        if status == 503 and kind == NO_CONTEXT_TYPE:
            report.documented_5xx[(label, 503)] += 1
            return
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except Exception as e:  # a schemathesis failure (group): a finding
            report.findings.append(
                f"{label} -> {status} {response.text[:300]}\n  {type(e).__name__}"
                f"\n  {case.as_curl_command()}"
            )
            return
        if status >= 400 and kind is None:
            report.findings.append(
                f"{label} -> {status} without ProblemDetails: {response.text[:200]!r}"
                f"\n  {case.as_curl_command()}"
            )
            return
        if judge is not None:
            verdict = judge(case, response)
            if verdict:
                report.findings.append(
                    f"{label} -> {status}: {verdict}\n  {case.as_curl_command()}"
                )

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in modes:
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(
                max_examples=max_examples,
                derandomize=True,  # the same cases on every run (reproducible CI)
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            )
            @given(strategy)
            def run(case) -> None:
                one(case)

            try:
                run()
            except Unsatisfiable:
                # nothing to negate (an operation without parameters and body): no cases
                report.unsatisfiable.append(f"{operation.method.upper()} {operation.path} {mode}")
    session.close()
    return report


def summary(report: Report) -> str:
    documented = {f"{k[0]} {k[1]}": v for k, v in sorted(report.documented_5xx.items())}
    return json.dumps(
        {
            "requests": report.requests,
            "statuses": dict(sorted(report.statuses.items())),
            "documented_5xx": documented,
            "findings": len(report.findings),
            "no_cases": report.unsatisfiable,
        },
        indent=1,
    )
