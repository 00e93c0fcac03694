"""The OpenAPI 3.1 description (``/ngsi-ld/v1/openapi.json``): valid, complete (every route, method
and query parameter of the route table), served anonymously as cached bytes."""

from __future__ import annotations

import re

import orjson
import pytest
from openapi_spec_validator import validate

from herzstadt.ngsi import openapi
from herzstadt.ngsi.params import QUERY_PARAMETERS
from herzstadt.ngsi.routes import ROUTES, Op, Route

from .conftest import Client, make_config


def _path(route: Route) -> str:
    return "/" + re.sub(r"\{(\w+):path\}", r"{\1}", route.pattern)


def test_the_document_is_valid_openapi_3_1():
    doc = openapi.document(ROUTES)
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema


def test_every_route_method_and_parameter_is_described():
    doc = openapi.document(ROUTES)
    assert len(doc["paths"]) == len(ROUTES)
    op_ids = set()
    for route in ROUTES:
        item = doc["paths"][_path(route)]
        assert set(item) == {m.lower() for m in route.methods}, route.pattern
        for method, op in route.methods.items():
            o = item[method.lower()]
            op_ids.add(o["operationId"])
            query = {p["name"] for p in o["parameters"] if p.get("in") == "query"}
            assert query == set(op.params), (route.pattern, method)
            path = {p["name"] for p in o["parameters"] if p.get("in") == "path"}
            assert path == set(route.names)
            assert ("requestBody" in o) == op.body
            assert any(code.startswith("2") or code == "501" for code in o["responses"])
            if op.scope is None:
                assert {} in o["security"]
    assert len(op_ids) == sum(len(r.methods) for r in ROUTES)  # unique


def test_a_parameter_or_use_case_without_description_is_an_error():
    def new_use_case(broker, req, params):
        raise AssertionError

    with pytest.raises(KeyError):
        openapi.document([Route("things", {"GET": Op(new_use_case, frozenset())})])
    assert "secretKnob" not in QUERY_PARAMETERS
    with pytest.raises(KeyError):
        openapi.document(
            [
                Route(
                    "things",
                    {"GET": Op(ROUTES[0].methods["GET"].handler, frozenset({"secretKnob"}))},
                )
            ]
        )


def test_enums_come_from_the_parameter_parsers():
    doc = openapi.document(ROUTES)
    get = doc["paths"]["/entities"]["get"]
    params = {p["name"]: p for p in get["parameters"] if "name" in p}
    assert "keyValues" in params["options"]["schema"]["items"]["enum"]
    assert params["options"]["explode"] is False
    assert params["format"]["schema"]["enum"][-1] == "geojson"
    refs = {p.get("$ref") for p in get["parameters"]}
    assert {"#/components/parameters/Tenant", "#/components/parameters/Link"} <= refs
    schemes = doc["components"]["securitySchemes"]
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["bearer"]["scheme"] == "bearer"
    problem = doc["components"]["responses"]["400"]["content"]
    assert set(problem) == {"application/problem+json", "application/json"}


@pytest.mark.parametrize("open_access", [True, False])
def test_served_anonymously_as_the_same_cached_bytes(tmp_path, open_access):
    from herzstadt.ngsi.asgi import make_app

    app = make_app(make_config("sqlite", tmp_path, open_access=open_access))
    client = Client(app, "")
    try:
        r = client.get("openapi.json")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.content == openapi.document_bytes("/ngsi-ld/v1")
        # built once per base path, then the same bytes object
        assert openapi.document_bytes("/ngsi-ld/v1") is openapi.document_bytes("/ngsi-ld/v1")
        assert orjson.loads(r.content)["paths"]["/openapi.json"]["get"]["operationId"]
        assert client.post("openapi.json", json={}).status_code == 405
        assert client.get("openapi.json", params={"x": "1"}).status_code == 400
        # without open access, the rest stays closed
        if not open_access:
            assert client.get("entities", params={"type": "T"}).status_code in (401, 404)
    finally:
        client.close()
        app.close()
