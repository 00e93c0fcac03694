"""geoQ: parsing and validation, distances, relations, prefilter bboxes, index rows."""

from __future__ import annotations

import json
import math
import random

import pytest
from shapely.geometry import LineString, Point, Polygon

from herzstadt.ngsi.query import (
    QuerySyntaxError,
    geo_index_rows,
    geodesic_distance,
    parse_geo_query,
)
from herzstadt.ngsi.query.geo import geometry_distance

from .fixtures import LOC, entity, geo, prop

SQUARE = "[[[7,49],[8,49],[8,50],[7,50],[7,49]]]"


def dms(d, m, s):
    return math.copysign(abs(d) + m / 60 + s / 3600, d)


def test_vincenty_reference_values():
    # Vincenty (1975) / Geoscience Australia test: Flinders Peak -> Buninyong, 54 972.271 m
    d = geodesic_distance(
        dms(144, 25, 29.52440),
        dms(-37, 57, 3.72030),
        dms(143, 55, 35.38390),
        dms(-37, 39, 10.15610),
    )
    assert d == pytest.approx(54972.271, abs=0.01)
    assert geodesic_distance(0, 0, 1, 0) == pytest.approx(111319.491, abs=0.01)
    assert geodesic_distance(0, 0, 0, 1) == pytest.approx(110574.389, abs=0.01)
    assert geodesic_distance(7.75, 49.44, 7.75, 49.44) == 0
    assert geodesic_distance(179.9, 0, -179.9, 0) == pytest.approx(22263.898, abs=0.01)
    # nearly antipodal: falls back to the sphere, still a sensible number
    assert geodesic_distance(0, 0, 179.9, 0.1) == pytest.approx(20_000_000, rel=0.01)


def test_geometry_distance_is_geodesic_between_nearest_points():
    line = LineString([(7.76, 49.40), (7.76, 49.50)])
    p = Point(7.77, 49.45)
    expected = geodesic_distance(7.77, 49.45, 7.76, 49.45)
    assert geometry_distance(p, line) == pytest.approx(expected, rel=1e-4)
    assert geometry_distance(Point(7.76, 49.45), line) == 0
    poly = Polygon([(7, 49), (8, 49), (8, 50), (7, 50)])
    assert geometry_distance(Point(7.5, 49.5), poly) == 0
    assert geometry_distance(Point(7.5, 48.9), poly) == pytest.approx(
        geodesic_distance(7.5, 48.9, 7.5, 49), rel=1e-4
    )


def test_near_and_bbox_is_conservative():
    g = parse_geo_query("near;maxDistance==2000", "Point", "[7.756,49.444]")
    minx, miny, maxx, maxy = g.bbox
    rnd = random.Random(3)
    for _ in range(2000):
        lon = 7.756 + rnd.uniform(-0.05, 0.05)
        lat = 49.444 + rnd.uniform(-0.03, 0.03)
        inside = g.matches_geometry({"type": "Point", "coordinates": [lon, lat]})
        assert inside == (geodesic_distance(7.756, 49.444, lon, lat) <= 2000)
        if inside:
            assert minx <= lon <= maxx and miny <= lat <= maxy
    # the bbox is tight: at most 0.5 % larger than the circle
    assert geodesic_distance(minx, 49.444, 7.756, 49.444) == pytest.approx(2000, rel=0.005)
    assert geodesic_distance(7.756, maxy, 7.756, 49.444) == pytest.approx(2000, rel=0.005)
    assert geodesic_distance(7.756, miny, 7.756, 49.444) == pytest.approx(2000, rel=0.005)
    far = parse_geo_query("near;minDistance==2000", "Point", "[7.756,49.444]")
    assert far.bbox is None and far.bbox_mode is None
    assert far.matches_geometry({"type": "Point", "coordinates": [7.9, 49.444]})
    assert not far.matches_geometry({"type": "Point", "coordinates": [7.757, 49.444]})


def test_bbox_edge_cases():
    pole = parse_geo_query("near;maxDistance==50000", "Point", "[10,89.9]")
    assert pole.bbox == (-180.0, pytest.approx(89.45, abs=0.01), 180.0, 90.0)
    dateline = parse_geo_query("near;maxDistance==50000", "Point", "[179.9,0]")
    assert dateline.bbox[0] == -180.0 and dateline.bbox[2] == 180.0
    assert parse_geo_query("disjoint", "Point", "[1,2]").bbox is None
    w = parse_geo_query("within", "Polygon", SQUARE)
    assert (w.bbox, w.bbox_mode) == ((7.0, 49.0, 8.0, 50.0), "within")
    assert parse_geo_query("contains", "Point", "[7,49]").bbox_mode == "contains"
    assert parse_geo_query("intersects", "Point", "[7,49]").bbox_mode == "intersects"


@pytest.mark.parametrize(
    ("rel", "gtype", "coords", "inside", "outside"),
    [
        (
            "within",
            "Polygon",
            SQUARE,
            {"type": "Point", "coordinates": [7.5, 49.5]},
            {"type": "Point", "coordinates": [8.5, 49.5]},
        ),
        (
            "contains",
            "Point",
            "[7.5,49.5]",
            {"type": "Polygon", "coordinates": [[[7, 49], [8, 49], [8, 50], [7, 50], [7, 49]]]},
            {"type": "Point", "coordinates": [7.5, 49.6]},
        ),
        (
            "intersects",
            "LineString",
            "[[7,49],[8,50]]",
            {"type": "LineString", "coordinates": [[7, 50], [8, 49]]},
            {"type": "LineString", "coordinates": [[7, 50], [7.1, 50]]},
        ),
        (
            "equals",
            "MultiPoint",
            "[[7,49],[8,50]]",
            {"type": "MultiPoint", "coordinates": [[8, 50], [7, 49]]},
            {"type": "Point", "coordinates": [7, 49]},
        ),
        (
            "disjoint",
            "Polygon",
            SQUARE,
            {"type": "Point", "coordinates": [9, 49]},
            {"type": "Point", "coordinates": [7.5, 49.5]},
        ),
        (
            "overlaps",
            "Polygon",
            SQUARE,
            {
                "type": "Polygon",
                "coordinates": [[[7.5, 49.5], [8.5, 49.5], [8.5, 50.5], [7.5, 50.5], [7.5, 49.5]]],
            },
            {
                "type": "Polygon",
                "coordinates": [[[7.2, 49.2], [7.4, 49.2], [7.4, 49.4], [7.2, 49.4], [7.2, 49.2]]],
            },
        ),
        (
            "within",
            "MultiPolygon",
            f"[{SQUARE}, [[[0,0],[1,0],[1,1],[0,1],[0,0]]]]",
            {"type": "Point", "coordinates": [0.5, 0.5]},
            {"type": "Point", "coordinates": [2, 2]},
        ),
        (
            "intersects",
            "MultiLineString",
            "[[[7,49],[8,50]],[[0,0],[1,1]]]",
            {"type": "Point", "coordinates": [0.5, 0.5]},
            {"type": "Point", "coordinates": [0.5, 0.6]},
        ),
    ],
)
def test_relations(rel, gtype, coords, inside, outside):
    g = parse_geo_query(rel, gtype, coords)
    assert g.matches_geometry(inside)
    assert not g.matches_geometry(outside)
    assert not g.matches_geometry({"type": "Point", "coordinates": "bad"})


def test_coordinates_forms_and_geoproperty():
    a = parse_geo_query("within", "Polygon", SQUARE)
    assert parse_geo_query("within", "Polygon", f'"{SQUARE}"') == a
    assert (
        parse_geo_query("within", "polygon", [[[7, 49], [8, 49], [8, 50], [7, 50], [7, 49]]]) == a
    )
    assert parse_geo_query("near;maxDistance==5", "Point", "8,49").coordinates == (8, 49)
    assert a.geojson == {
        "type": "Polygon",
        "coordinates": [[[7, 49], [8, 49], [8, 50], [7, 50], [7, 49]]],
    }
    assert parse_geo_query("within", "Polygon", SQUARE, "ex:area").geoproperty == "ex:area"
    assert parse_geo_query("near;maxDistance==1.5e3", "Point", "[8,49]").max_distance == 1500
    assert parse_geo_query("near;minDistance==0", "Point", "[8,49]").min_distance == 0


BAD_GEO = [
    (
        ("nearby", "Point", "[1,2]"),
        "georel",
        "unknown relation 'nearby', expected one of near, "
        "within, contains, intersects, equals, disjoint, overlaps",
    ),
    (
        ("near", "Point", "[1,2]"),
        "georel",
        "'near' needs a distance: near;maxDistance==<metres> or near;minDistance==<metres>",
    ),
    (
        ("near;maxDistance=5", "Point", "[1,2]"),
        "georel",
        "expected maxDistance==<metres> or "
        "minDistance==<metres> after 'near;', found 'maxDistance=5'",
    ),
    (
        ("near;maxDistance==x", "Point", "[1,2]"),
        "georel",
        "maxDistance must be a non-negative number of metres, found 'x'",
    ),
    (
        ("near;maxDistance==-3", "Point", "[1,2]"),
        "georel",
        "maxDistance must be a non-negative number of metres, found '-3'",
    ),
    (
        ("near;maxDistance==1;maxDistance==2", "Point", "[1,2]"),
        "georel",
        "maxDistance is given twice",
    ),
    (
        ("within;maxDistance==1", "Point", "[1,2]"),
        "georel",
        "'within' takes no modifiers, found ';maxDistance==1'",
    ),
    (
        ("within", "Circle", "[1,2]"),
        "geometry",
        "unknown geometry 'Circle', expected one of "
        "Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon",
    ),
    (
        ("within", "Point", "[1,2"),
        "coordinates",
        "not valid JSON: unexpected end of data: line 1 column 5 (char 4)",
    ),
    (
        ("within", "Point", "{}"),
        "coordinates",
        "expected a JSON array such as [8.1,49.2], found '{}'",
    ),
    (
        ("within", "Point", "[1]"),
        "coordinates",
        "coordinates: a position must be [longitude, latitude] (optionally altitude), found [1]",
    ),
    (
        ("within", "Point", "[1,true]"),
        "coordinates",
        "coordinates[1]: expected a number, found true",
    ),
    (("within", "Point", '[1,"2"]'), "coordinates", "coordinates[1]: expected a number, found '2'"),
    (
        ("within", "Point", "[181,0]"),
        "coordinates",
        "coordinates: longitude 181 is outside [-180, 180]",
    ),
    (
        ("within", "Point", "[0,-91]"),
        "coordinates",
        "coordinates: latitude -91 is outside [-90, 90]",
    ),
    (
        ("within", "LineString", "[[1,2]]"),
        "coordinates",
        "coordinates: a LineString needs an array of at least 2 position(s), found [[1,2]]",
    ),
    (
        ("within", "MultiPoint", "[]"),
        "coordinates",
        "coordinates: a MultiPoint needs an array of at least 1 position(s), found []",
    ),
    (
        ("within", "Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]"),
        "coordinates",
        "coordinates[0]: the linear ring is not closed (its first and last positions differ)",
    ),
    (
        ("within", "Polygon", "[[[0,0],[1,0],[0,0]]]"),
        "coordinates",
        "coordinates[0]: a linear "
        "ring needs an array of at least 4 position(s), found [[0,0],[1,0],[0,0]]",
    ),
    (
        ("within", "MultiPolygon", "[[[0,0],[1,0],[1,1],[0,0]]]"),
        "coordinates",
        "coordinates[0][0]: a linear ring needs an array of at least 4 position(s), found [0,0]",
    ),
    (
        ("within", "MultiLineString", "[]"),
        "coordinates",
        "coordinates: a MultiLineString needs an array of LineStrings, found []",
    ),
    (
        ("within", None, "[1,2]"),
        "geometry",
        "georel, geometry and coordinates must be given together (missing: geometry)",
    ),
    (
        ("within", "Point", '"x"'),
        "coordinates",
        "expected a JSON array such as [8.1,49.2], found 'x'",
    ),
]


@pytest.mark.parametrize(("args", "param", "detail"), BAD_GEO, ids=[str(b[0]) for b in BAD_GEO])
def test_bad_geo(args, param, detail):
    with pytest.raises(QuerySyntaxError) as ei:
        parse_geo_query(*args)
    assert (ei.value.param, ei.value.detail) == (param, detail)


BOW_TIE = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]  # self-intersecting at (0.5, 0.5)


def test_invalid_query_polygon_is_repaired_not_rejected():
    g = parse_geo_query("within", "Polygon", json.dumps(BOW_TIE))
    # evaluated against shapely's make_valid of it: two triangles meeting at (0.5, 0.5)
    assert g.shape.is_valid and g.shape.geom_type == "MultiPolygon"
    assert g.shape.area == pytest.approx(0.5)
    assert g.bbox == (0.0, 0.0, 1.0, 1.0)
    assert g.geojson == {"type": "Polygon", "coordinates": BOW_TIE}  # as given
    assert g.matches_geometry({"type": "Point", "coordinates": [0.2, 0.5]})  # left triangle
    assert g.matches_geometry({"type": "Point", "coordinates": [0.8, 0.5]})  # right triangle
    assert not g.matches_geometry({"type": "Point", "coordinates": [0.5, 0.2]})  # the gaps
    assert not g.matches_geometry({"type": "Point", "coordinates": [0.5, 0.8]})
    # MultiPolygon with overlapping parts: make_valid's even-odd reading, the overlap is outside
    overlapping = [
        [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]],
        [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]],
    ]
    m = parse_geo_query("within", "MultiPolygon", json.dumps(overlapping))
    assert m.shape.is_valid and m.shape.area == pytest.approx(6)
    assert m.matches_geometry({"type": "Point", "coordinates": [0.5, 0.5]})
    assert m.matches_geometry({"type": "Point", "coordinates": [2.5, 2.5]})
    assert not m.matches_geometry({"type": "Point", "coordinates": [1.5, 1.5]})
    # a degenerate (zero-area) ring becomes a line
    line = parse_geo_query("intersects", "Polygon", "[[[0,0],[1,1],[2,2],[0,0]]]")
    assert line.shape.geom_type in ("LineString", "MultiLineString") and line.bbox == (0, 0, 2, 2)
    assert line.matches_geometry({"type": "Point", "coordinates": [1.5, 1.5]})
    # a valid query polygon is used as it is
    assert parse_geo_query("within", "Polygon", SQUARE).given_shape is None


def test_equals_with_a_repaired_query_polygon():
    stored_bow_tie = {"type": "Polygon", "coordinates": BOW_TIE}
    valid_form = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[0, 0], [0.5, 0.5], [0, 1], [0, 0]]],
            [[[1, 0], [1, 1], [0.5, 0.5], [1, 0]]],
        ],
    }
    g = parse_geo_query("equals", "Polygon", json.dumps(BOW_TIE))
    assert g.matches_geometry(valid_form)  # topologically equal to the repaired form
    # the same invalid geometry (any start vertex / orientation) is equal to the query as given
    assert g.matches_geometry(stored_bow_tie)
    rotated = [[[1, 1], [1, 0], [0, 1], [0, 0], [1, 1]]]
    assert g.matches_geometry({"type": "Polygon", "coordinates": rotated})
    other = [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]
    assert not g.matches_geometry({"type": "Polygon", "coordinates": other})
    # a valid query geometry does not equal a stored invalid geometry that happens to share
    # vertices with it
    v = parse_geo_query("equals", "MultiPolygon", json.dumps(valid_form["coordinates"]))
    assert v.matches_geometry(valid_form) and not v.matches_geometry(stored_bow_tie)


def test_geo_index_rows():
    d = entity(
        "urn:x",
        ["T"],
        {
            "location": [
                geo("Point", [7.75, 49.44]),
                geo("Point", [8.4, 49.0], datasetId="urn:ds:1"),
            ],
            "area": [geo("Polygon", [[[7, 49], [8, 49], [8, 50], [7, 50], [7, 49]]])],
            "route": [geo("MultiLineString", [[[1, 2], [3, 4]], [[-1, 5], [0, 0]]])],
            "coll": [
                {
                    "type": "GeoProperty",
                    "value": {
                        "type": "GeometryCollection",
                        "geometries": [
                            {"type": "Point", "coordinates": [1, 1]},
                            {"type": "LineString", "coordinates": [[2, 2], [3, -3]]},
                        ],
                    },
                }
            ],
            "broken": [geo("Point", ["a", 1]), geo("Point", [])],
            "name": [prop({"type": "Point", "coordinates": [1, 1]})],  # not a GeoProperty
        },
    )
    rows = geo_index_rows(d)
    ns = "https://ex.org/ns/"
    assert rows == [
        (LOC, 7.75, 49.44, 7.75, 49.44),
        (LOC, 8.4, 49.0, 8.4, 49.0),
        (ns + "area", 7.0, 49.0, 8.0, 50.0),
        (ns + "route", -1.0, 0.0, 3.0, 5.0),
        (ns + "coll", 1.0, -3.0, 3.0, 2.0),
    ]
    assert geo_index_rows({"id": "x"}) == []


def test_matches_doc_any_instance():
    d = entity(
        "urn:x",
        ["T"],
        {
            "location": [
                geo("Point", [7.75, 49.44]),
                geo("Point", [8.4, 49.0], datasetId="urn:ds:1"),
            ]
        },
    )
    g = parse_geo_query("near;maxDistance==100", "Point", "[8.4,49.0]")
    assert g.matches_doc(d, LOC)
    assert not g.matches_doc(d, "https://ex.org/ns/other")
    assert not parse_geo_query("near;maxDistance==100", "Point", "[9,49]").matches_doc(d, LOC)


@pytest.mark.parametrize("lat", [0.0, 49.4, 70.0, -60.0])
@pytest.mark.parametrize("dist", [100.0, 5000.0, 100_000.0])
def test_near_bbox_contains_circle(lat, dist):
    g = parse_geo_query(f"near;maxDistance=={dist}", "Point", f"[10,{lat}]")
    minx, miny, maxx, maxy = g.bbox
    rnd = random.Random(int(lat * 100 + dist))
    span_lat = dist / 100_000 * 1.5
    span_lon = span_lat / max(math.cos(math.radians(lat)), 0.1) * 1.5
    hits = 0
    for _ in range(3000):
        lon, la = 10 + rnd.uniform(-span_lon, span_lon), lat + rnd.uniform(-span_lat, span_lat)
        if geodesic_distance(10, lat, lon, la) <= dist:
            hits += 1
            assert minx <= lon <= maxx and miny <= la <= maxy
    assert hits > 100
