import orjson

from herzstadt.ngsi import errors


def test_problem_details_shape():
    e = errors.ResourceNotFound("entity urn:x not found")
    p = orjson.loads(e.body())
    assert p == {
        "type": "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound",
        "title": "Resource not found",
        "status": 404,
        "detail": "entity urn:x not found",
    }


def test_every_error_type_has_status_and_distinct_title_detail():
    for name, cls in errors.BY_NAME.items():
        e = cls()
        p = e.problem()
        assert p["type"].endswith("/" + name)
        assert p["title"] != p["detail"]
        assert 400 <= p["status"] < 600


def test_http_only_errors_use_invalid_request_type():
    assert errors.UnsupportedMediaType().status == 415
    assert errors.NotAcceptable().status == 406
    assert errors.PayloadTooLarge().status == 413
    assert errors.PayloadTooLarge().type.endswith("InvalidRequest")
