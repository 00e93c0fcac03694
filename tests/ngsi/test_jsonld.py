import pytest

from herzstadt.ngsi import jsonld
from herzstadt.ngsi.errors import BadRequestData, LdContextNotAvailable

from .conftest import CONTEXTS, TEST_CTX


@pytest.fixture
def resolver():
    return jsonld.ContextResolver(allow_remote=False, preload_files=[CONTEXTS / "preload.json"])


def test_core_terms_and_default_vocab(resolver):
    core = resolver.core
    assert core.expand("location") == "https://uri.etsi.org/ngsi-ld/location"
    assert core.expand("foo") == "https://uri.etsi.org/ngsi-ld/default-context/foo"
    assert core.compact("https://uri.etsi.org/ngsi-ld/default-context/foo") == "foo"
    assert core.compact("https://uri.etsi.org/ngsi-ld/location") == "location"
    assert core.expand("urn:ngsi-ld:x") == "urn:ngsi-ld:x"
    assert core.expand("http://example.org/a") == "http://example.org/a"
    assert "type" in core.keywords and "id" in core.keywords


def test_core_urls_resolve_to_shipped_core(resolver):
    for v in ("1.3", "1.6", "1.8", "1.9"):
        url = f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v{v}.jsonld"
        assert resolver.get(url).expand("location") == "https://uri.etsi.org/ngsi-ld/location"
    assert jsonld.is_core_url("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld")


def test_preloaded_context_and_prefixes(resolver):
    ctx = resolver.get(TEST_CTX)
    assert ctx.expand("Building") == "https://example.org/vocab#Building"
    assert ctx.expand("ex:other") == "https://example.org/vocab#other"
    assert ctx.compact("https://example.org/vocab#name") == "name"
    assert ctx.compact("https://example.org/vocab#zzz") == "ex:zzz"
    # core terms still win and still work
    assert ctx.expand("location") == "https://uri.etsi.org/ngsi-ld/location"
    assert resolver.get(TEST_CTX) is ctx  # cached


def test_inline_and_array_contexts(resolver):
    ctx = resolver.get([{"a": "http://x.org/a"}, TEST_CTX, {"@vocab": "http://v.org/"}])
    assert ctx.expand("a") == "http://x.org/a"
    assert ctx.expand("name") == "https://example.org/vocab#name"
    assert ctx.expand("zz") == "http://v.org/zz"


def test_unavailable_remote_context(resolver):
    with pytest.raises(LdContextNotAvailable):
        resolver.get("https://unreachable.example/ctx.jsonld")
    with pytest.raises(BadRequestData):
        resolver.get(42)


def test_link_header_parsing():
    h = '<https://a.org/c.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
    assert jsonld.parse_link_header(h) == "https://a.org/c.jsonld"
    assert jsonld.parse_link_header('<https://a.org/x>; rel="next"') is None
    with pytest.raises(BadRequestData):
        jsonld.parse_link_header("garbage")
    with pytest.raises(BadRequestData):
        jsonld.parse_link_header('<not a url>; rel="http://www.w3.org/ns/json-ld#context"')
