"""Property-based checks of the parsers: any JSON value as an entity or attribute, any text as
q / type / scopeQ / pattern either parses or raises the one 400 error of its layer — never
anything that would become a 500 (issue 8, finding 6)."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herzstadt.ngsi.errors import BadRequestData
from herzstadt.ngsi.jsonld import ContextResolver
from herzstadt.ngsi.model import ParseOptions, parse_attribute, parse_entity
from herzstadt.ngsi.query import (
    QuerySyntaxError,
    compile_pattern,
    parse_geo_query,
    parse_q,
    parse_scope_q,
    parse_type_expr,
)

CTX = ContextResolver(allow_remote=False).get(None)
NOW = "2026-11-30T00:00:00.000Z"

_words = st.sampled_from(
    [
        "type", "value", "object", "languageMap", "valueList", "objectList", "json", "vocab",
        "observedAt", "unitCode", "datasetId", "objectType", "id", "scope", "location",
        "Property", "GeoProperty", "Relationship", "LanguageProperty", "ListProperty",
        "ListRelationship", "JsonProperty", "VocabProperty", "Point", "Polygon", "coordinates",
        "urn:ngsi-ld:null", "urn:a:b", "/a/b", "2026-01-01T00:00:00Z", "@id", "@type", "\x00",
    ]
)  # fmt: skip
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    _words,
)
_json = st.recursive(
    _scalars,
    lambda ch: st.one_of(
        st.lists(ch, max_size=4),
        st.dictionaries(st.one_of(_words, st.text(max_size=4)), ch, max_size=4),
    ),
    max_leaves=16,
)
_opts = st.sampled_from(
    [
        ParseOptions(),
        ParseOptions(partial=True),
        ParseOptions(merge=True),
        ParseOptions(key_values=True),
    ]
)
_fuzz = settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))


@_fuzz
@given(_json, _opts)
def test_parse_entity_raises_only_bad_request(body, opts):
    with contextlib.suppress(BadRequestData):
        parse_entity(body, CTX, NOW, opts=opts)


@_fuzz
@given(st.dictionaries(_words, _json, max_size=6), st.one_of(_words, _json), _opts)
def test_parse_attribute_raises_only_bad_request(attr, name_or_value, opts):
    for value in (attr, name_or_value):
        for iri in ("https://uri.etsi.org/ngsi-ld/location", "https://ex.org/name"):
            with contextlib.suppress(BadRequestData):
                parse_attribute(iri, value, CTX, NOW, opts=opts)


_q_alphabet = st.text(alphabet="abc.[]()|;!=<>~\"'0123456789,-+eE:/#*\\ \x00", max_size=30)


@_fuzz
@given(_q_alphabet)
def test_query_parsers_raise_only_syntax_errors(text):
    for parse in (parse_q, parse_type_expr, parse_scope_q, compile_pattern):
        with contextlib.suppress(QuerySyntaxError):
            parse(text)


@_fuzz
@given(st.sampled_from(["Point", "Polygon", "MultiPolygon", "LineString", "MultiPoint"]), _json)
def test_geo_query_coordinates_raise_only_syntax_errors(geometry, coords):
    import orjson

    try:
        text = orjson.dumps(coords).decode()
    except TypeError:  # nested beyond orjson's limit: the HTTP layer never passes such text
        return
    for c in (text, coords):
        with contextlib.suppress(QuerySyntaxError):
            parse_geo_query("near;maxDistance==10", geometry, c)
