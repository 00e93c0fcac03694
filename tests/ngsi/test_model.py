import pytest

from herzstadt.ngsi import jsonld, model
from herzstadt.ngsi.errors import BadRequestData

CTX = jsonld.ContextResolver(allow_remote=False).core
NOW = "2026-01-01T00:00:00.000Z"
D = "https://uri.etsi.org/ngsi-ld/default-context/"


def parse(body, **kw):
    return model.parse_entity(body, CTX, NOW, **kw)


def test_parse_all_attribute_kinds():
    doc = parse(
        {
            "id": "urn:ngsi-ld:T:1",
            "type": ["T", "U"],
            "scope": "/a/b",
            "p": {
                "type": "Property",
                "value": 1,
                "observedAt": "2026-01-01T00:00:00Z",
                "unitCode": "C62",
                "sub": {"type": "Property", "value": "s"},
            },
            "r": {"type": "Relationship", "object": "urn:a", "objectType": "T"},
            "g": {
                "type": "GeoProperty",
                "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
            },
            "l": {"type": "LanguageProperty", "languageMap": {"de": "Haus", "en": "house"}},
            "lp": {"type": "ListProperty", "valueList": [1, 2]},
            "lr": {"type": "ListRelationship", "objectList": [{"object": "urn:a"}, "urn:b"]},
            "j": {"type": "JsonProperty", "json": {"any": {"thing": 1}}},
            "v": {"type": "VocabProperty", "vocab": "Something"},
            "concise": 5,
            "conciseRel": {"object": "urn:c"},
            "location": {"type": "Point", "coordinates": [1, 2]},
        }
    )
    a = doc["attrs"]
    assert doc["type"] == [D + "T", D + "U"] and doc["scope"] == ["/a/b"]
    assert a[D + "p"][0]["attrs"][D + "sub"][0]["value"] == "s"
    assert a[D + "r"][0]["objectType"] == D + "T"
    assert a[D + "lr"][0]["objectList"] == [{"object": "urn:a"}, {"object": "urn:b"}]
    assert a[D + "v"][0]["vocab"] == D + "Something"
    assert a[D + "concise"][0] == {"type": "Property", "value": 5}
    assert a[D + "conciseRel"][0]["type"] == "Relationship"
    assert a["https://uri.etsi.org/ngsi-ld/location"][0]["type"] == "GeoProperty"


@pytest.mark.parametrize(
    "body,msg",
    [
        ({"type": "T"}, "id is missing"),
        ({"id": "not a uri", "type": "T"}, "not a URI"),
        ({"id": "urn:x:1"}, "type is missing"),
        ({"id": "urn:x:1", "type": "type"}, "keyword"),
        ({"id": "urn:x:1", "type": "T", "a<b": 1}, "invalid character"),
        ({"id": "urn:x:1", "type": "T", "a": None}, "cannot be null"),
        ({"id": "urn:x:1", "type": "T", "a": {"type": "Property"}}, "needs a 'value'"),
        (
            {"id": "urn:x:1", "type": "T", "a": {"type": "Bogus", "value": 1}},
            "invalid attribute type",
        ),
        ({"id": "urn:x:1", "type": "T", "a": {"type": "Relationship", "object": "no uri"}}, "URI"),
        (
            {
                "id": "urn:x:1",
                "type": "T",
                "a": {"type": "GeoProperty", "value": {"type": "Point"}},
            },
            "coordinates",
        ),
        (
            {
                "id": "urn:x:1",
                "type": "T",
                "a": {
                    "type": "GeoProperty",
                    "value": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
                },
            },
            "coordinates",
        ),
        (
            {
                "id": "urn:x:1",
                "type": "T",
                "a": {"type": "Property", "value": 1, "observedAt": "yesterday"},
            },
            "DateTime",
        ),
        ({"id": "urn:x:1", "type": "T", "scope": "no-slash"}, "scope"),
        (
            {
                "id": "urn:x:1",
                "type": "T",
                "a": {"type": "LanguageProperty", "languageMap": {"de": 1}},
            },
            "strings",
        ),
        (
            {
                "id": "urn:x:1",
                "type": "T",
                "a": [{"type": "Property", "value": 1}, {"type": "Property", "value": 2}],
            },
            "same datasetId",
        ),
    ],
)
def test_invalid_payloads(body, msg):
    with pytest.raises(BadRequestData, match=msg):
        parse(body)


def test_system_attributes_are_ignored_on_input():
    doc = parse(
        {
            "id": "urn:x:1",
            "type": "T",
            "createdAt": "1999-01-01T00:00:00Z",
            "a": {"type": "Property", "value": 1, "modifiedAt": "1999-01-01T00:00:00Z"},
        }
    )
    assert "createdAt" not in doc
    assert "modifiedAt" not in doc["attrs"][D + "a"][0]


def _doc():
    d = parse(
        {
            "id": "urn:x:1",
            "type": "T",
            "l": {"type": "LanguageProperty", "languageMap": {"de": "Haus", "en": "house"}},
            "p": [
                {"type": "Property", "value": 1},
                {"type": "Property", "value": 2, "datasetId": "urn:ds:2"},
            ],
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
        }
    )
    d["createdAt"] = d["modifiedAt"] = NOW
    model.stamp_attrs(d["attrs"], NOW)
    return d


def test_render_normalized_keyvalues_concise_sysattrs():
    d = _doc()
    n = model.render_entity(d, CTX, model.RenderOptions())
    assert n["p"] == [
        {"type": "Property", "value": 1},
        {"type": "Property", "value": 2, "datasetId": "urn:ds:2"},
    ]
    kv = model.render_entity(d, CTX, model.RenderOptions(key_values=True))
    assert kv["p"] == 1 and kv["location"] == {"type": "Point", "coordinates": [1, 2]}
    assert kv["l"] == {"languageMap": {"de": "Haus", "en": "house"}}
    c = model.render_entity(d, CTX, model.RenderOptions(concise=True))
    assert c["p"][0] == 1 and c["l"] == {"languageMap": {"de": "Haus", "en": "house"}}
    s = model.render_entity(d, CTX, model.RenderOptions(sys_attrs=True))
    assert s["createdAt"] == NOW and s["location"]["modifiedAt"] == NOW


def test_render_lang_and_geojson():
    d = _doc()
    r = model.render_entity(d, CTX, model.RenderOptions(lang="en"))
    assert r["l"] == {"type": "Property", "value": "house", "lang": "en"}
    r = model.render_entity(d, CTX, model.RenderOptions(lang="fr", key_values=True))
    assert r["l"] in ("Haus", "house")
    f = model.render_feature(d, CTX, model.RenderOptions(), model.LOCATION)
    assert f["type"] == "Feature" and f["geometry"] == {"type": "Point", "coordinates": [1, 2]}
    assert f["properties"]["type"] == "T"


def test_geometry_validation_all_types():
    ok = [
        {"type": "Point", "coordinates": [1, 2]},
        {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]},
        {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
        {"type": "MultiLineString", "coordinates": [[[1, 2], [3, 4]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]},
    ]
    for g in ok:
        assert model.check_geometry(g) is g
    for g in (
        {"type": "Point", "coordinates": ["a", 1]},
        {"type": "Circle", "coordinates": [1]},
        {"type": "LineString", "coordinates": [[1, 2]]},
    ):
        with pytest.raises(BadRequestData):
            model.check_geometry(g)
