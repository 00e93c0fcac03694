"""The DCAT-AP.de catalogue (/dcat/catalog) and the measures' RDF (/dcat/measures/<slug>): the demo
catalogue passes the DCAT-AP.de 3.0 shapes with pyshacl (0 violations), a known-bad catalogue does not,
content negotiation and suffixes, ETag, PROV provenance of a replicated measure and its reuses."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from herzstadt.knowledge.dcat.vocab import DCAT, DCATDE, DCT, PROV

SHAPES_DIR = Path(__file__).with_name("dcat_shapes")
#: DCAT-AP 3.0.0 (SEMIC) and GovData's DCAT-AP.de 3.0 additions: validator type "v30_de_spec"
SHAPE_FILES = (
    "dcat-ap-SHACL.ttl",
    "dcat-ap-SHACL-DE.ttl",
    "dcat-ap-spec-german-additions.ttl",
    "dcat-ap-de-controlledvocabularies.ttl",
    "dcat-ap-de-deprecated.ttl",
)
#: what the validator imports: the ontologies (class hierarchy, for RDFS inference) …
ONTOLOGY_FILES = ("foaf_0_1.rdf", "vcard.ttl", "org.ttl")
#: … and the controlled vocabularies (skos:inScheme of the values)
VOCABULARY_FILES = (
    "dcat-ap-de-licenses-open.rdf",
    "dcat-ap-de-contributors.rdf",
    "vocabularies-excerpt.ttl",
)
REFERENCE = SHAPES_DIR / "testcases"
SH = "http://www.w3.org/ns/shacl#"


@pytest.fixture(scope="module")
def shapes():
    g = Graph()
    for name in SHAPE_FILES:
        g.parse(SHAPES_DIR / name)
    ontology = Graph()
    for name in ONTOLOGY_FILES:
        ontology.parse(SHAPES_DIR / name)
    vocabularies = Graph()
    for name in VOCABULARY_FILES:
        vocabularies.parse(SHAPES_DIR / name)
    return g, ontology, vocabularies


def validate(data: Graph, shapes) -> tuple[list[dict], list[dict]]:
    """(violations, warnings) of ``data`` under the DCAT-AP.de 3.0 shapes."""
    import pyshacl

    shape_graph, ontology, vocabularies = shapes
    data = data + vocabularies
    _conforms, report, _text = pyshacl.validate(
        data,
        shacl_graph=shape_graph,
        ont_graph=ontology,
        inference="rdfs",
        allow_warnings=True,
        advanced=True,
    )
    found: dict[str, list[dict]] = {"Violation": [], "Warning": [], "Info": []}
    for result in report.subjects(RDF.type, URIRef(SH + "ValidationResult")):
        severity = str(report.value(result, URIRef(SH + "resultSeverity"))).rsplit("#", 1)[-1]
        found.setdefault(severity, []).append(
            {
                "focus": str(report.value(result, URIRef(SH + "focusNode"))),
                "path": str(report.value(result, URIRef(SH + "resultPath"))),
                "message": str(report.value(result, URIRef(SH + "resultMessage"))),
            }
        )
    return found["Violation"], found["Warning"]


# --- the validation setup catches errors --------------------------------------------------------------
def test_the_reference_examples_fail_on_what_dcat_ap_de_3_changed(shapes):
    """GovData's examples (DCAT-AP.de 1.0.2, rewritten) break two 3.0 rules: a dataset needs a
    publisher, a vcard telephone is an IRI. The validation setup must say exactly that."""
    data = Graph().parse(REFERENCE / "rewritten-example-simple.ttl")
    violations, _warnings = validate(data, shapes)
    assert sorted(v["path"] for v in violations) == [
        str(DCT.publisher),
        "http://www.w3.org/2006/vcard/ns#hasTelephone",
    ]
    # repaired, the example conforms: the setup does not reject everything
    dataset = URIRef("https://ckan.govdata.de/dataset/d4ce4e6e-ab89-44cb-bf5c-33a162c234de#dataset")
    data.add(
        (dataset, DCT.publisher, URIRef("https://www.govdata.de/web/guest/impressum#publisher"))
    )
    tel = "http://www.w3.org/2006/vcard/ns#hasTelephone"
    for s, _p, _o in list(data.triples((None, URIRef(tel), None))):
        data.remove((s, URIRef(tel), None))
        data.add((s, URIRef(tel), URIRef("tel:+494012345678")))
    violations, _warnings = validate(data, shapes)
    assert violations == []
    advanced = Graph().parse(REFERENCE / "rewritten-example-advanced.ttl")
    violations, _warnings = validate(advanced, shapes)
    assert len(violations) >= 5


# --- the demo catalogue -------------------------------------------------------------------------------
pytestmark = pytest.mark.django_db(transaction=True)


class OpenDataVerifier:
    """Publishes every entity type of the hosted cities' tenants except the personal ones (the
    demo's own choice, as the verifier of tests/test_datasets.py)."""

    def authenticate(self, scheme, credential):
        return None

    def tenant_policy(self, tenant):
        from herzstadt.ngsi.auth import TenantPolicy
        from herzstadt.urbandata.verifier import CityTenantVerifier

        if CityTenantVerifier().tenant_policy(tenant) is None:
            return None
        from herzstadt.urbandata.broker import get_broker

        types = get_broker().store.entity_types(tenant)
        personal = ("IssueReporting", "SmartMeteringObservation")
        return TenantPolicy(public_types=frozenset(t for t in types if not t.endswith(personal)))


@pytest.fixture
def catalogue_city(demo, settings):
    """The demo city with open urban data, two shared measure profiles — one replicated from a
    partner (provenance), one replicated by a partner (a reuse) — and a contributor ID."""
    from herzstadt.core.models import Measure
    from herzstadt.knowledge.models import MeasureProfile, Reuse

    settings.NGSI_VERIFIER = "tests.knowledge.test_dcat.OpenDataVerifier"
    settings.HERZSTADT_DCAT_CONTRIBUTOR_ID = "kaiserslautern-herzstadt"
    settings.HERZSTADT_DCAT_CONTRIBUTOR_IDS = {}
    measures = list(Measure.objects.filter(city=demo, is_public=True).order_by("pk")[:3])
    assert len(measures) == 3
    origin, replicated, private = measures
    MeasureProfile.objects.update_or_create(
        measure=origin, defaults={"shared": True, "version": 3, "phase": "operation"}
    )
    MeasureProfile.objects.update_or_create(
        measure=replicated,
        defaults={
            "shared": True,
            "version": 1,
            "origin_uri": "https://herzstadt.solingen.example/api/v1/network/solingen/measures/smart-parking/",
            "origin_city": "Solingen",
            "origin_title": "Smart Parking",
            "origin_version": 2,
            "adopted_at": dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC),
            "adopted_parts": ["participation", "urbandata"],
        },
    )
    MeasureProfile.objects.update_or_create(measure=private, defaults={"shared": False})
    Reuse.objects.create(
        measure=origin,
        adopter_name="Wolfsburg",
        adopter_uri="https://herzstadt.wolfsburg.example/",
        adopted_measure_url="https://herzstadt.wolfsburg.example/api/v1/network/wolfsburg/measures/x/",
        adopted_title="X in Wolfsburg",
        origin_version=3,
        adopted_at=dt.datetime(2026, 4, 2, tzinfo=dt.UTC),
    )
    demo.refresh_from_db()
    demo.measures = {"origin": origin, "replicated": replicated, "private": private}
    return demo


def test_the_demo_catalogue_passes_the_dcat_ap_de_shapes(client, catalogue_city, shapes):
    started = time.monotonic()
    response = client.get("/dcat/catalog.ttl")
    built = time.monotonic() - started
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/turtle")
    data = Graph().parse(data=response.content, format="turtle")
    catalogs = list(data.subjects(RDF.type, DCAT.Catalog))
    assert catalogs == [URIRef("http://testserver/dcat/catalog")]
    datasets = {
        str(data.value(d, DCT.identifier)): d for d in data.subjects(RDF.type, DCAT.Dataset)
    }
    kinds = {i.split("#", 1)[1].split("-", 1)[0] for i in datasets}
    assert kinds == {"participation", "urbandata", "knowledge", "compass"}, datasets
    started = time.monotonic()
    violations, warnings = validate(data, shapes)
    validated = time.monotonic() - started
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)
    # the one warning docs/conformance.md lists: a contributor ID outside GovData's list (the demo's
    # is made up; a city GovData registers gets one of the list)
    assert all("contributorID" in w["message"] for w in warnings), warnings
    assert len(warnings) == len(datasets)
    print(f"catalogue: {len(data)} triples, built in {built:.2f} s, validated in {validated:.2f} s")


def test_with_a_contributor_id_of_govdatas_list_there_is_no_warning(
    client, catalogue_city, shapes, settings
):
    settings.HERZSTADT_DCAT_CONTRIBUTOR_IDS = {
        "kaiserslautern": "http://dcat-ap.de/def/contributors/openGovernmentDataPortalRheinlandPfalz"
    }
    data = Graph().parse(data=client.get("/dcat/catalog.ttl").content, format="turtle")
    violations, warnings = validate(data, shapes)
    assert violations == [] and warnings == [], warnings


def test_the_catalogue_content(client, catalogue_city):
    data = Graph().parse(data=client.get("/dcat/catalog.ttl").content, format="turtle")
    catalog = URIRef("http://testserver/dcat/catalog")
    publisher = data.value(catalog, DCT.publisher)
    assert data.value(publisher, DCT.type) == URIRef(
        "http://purl.org/adms/publishertype/LocalAuthority"
    )
    assert data.value(catalog, DCT.language) == URIRef(
        "http://publications.europa.eu/resource/authority/language/DEU"
    )
    process = URIRef(f"{catalog}#participation-zukunft-pfaff-areal")
    assert (process, RDF.type, DCAT.Dataset) in data
    assert data.value(process, DCATDE.politicalGeocodingLevelURI) == URIRef(
        "http://dcat-ap.de/def/politicalGeocoding/Level/municipality"
    )
    assert URIRef("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/07312000") in set(
        data.objects(process, DCT.spatial)
    )
    assert data.value(process, DCATDE.contributorID) == URIRef(
        "http://dcat-ap.de/def/contributors/kaiserslautern-herzstadt"
    )
    period = data.value(process, DCT.temporal)
    assert data.value(period, DCAT.startDate) is not None
    for dist in data.objects(process, DCAT.distribution):
        assert str(data.value(dist, DCAT.accessURL)).startswith("http://testserver/")
        assert str(data.value(dist, DCAT.mediaType)).startswith(
            "https://www.iana.org/assignments/media-types/"
        )
        assert str(data.value(dist, DCT["format"])).startswith(
            "http://publications.europa.eu/resource/authority/file-type/"
        )
        assert data.value(dist, DCT.license) == URIRef(
            "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
        )
    measures = URIRef(f"{catalog}#knowledge-measures")
    urls = {str(data.value(d, DCAT.accessURL)) for d in data.objects(measures, DCAT.distribution)}
    assert "http://testserver/api/v1/network/kaiserslautern/measures/" in urls
    assert "http://testserver/dcat/measures.ttl" in urls
    air = URIRef(f"{catalog}#urbandata-AirQualityObserved")
    assert data.value(air, DCAT.theme) == URIRef(
        "http://publications.europa.eu/resource/authority/data-theme/ENVI"
    )
    # personal data is never published
    assert not any("IssueReporting" in str(d) for d in data.subjects(RDF.type, DCAT.Dataset))


def test_content_negotiation_suffixes_and_etag(client, catalogue_city):
    for accept, media, fmt in (
        ("text/turtle", "text/turtle", "turtle"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("", "text/turtle", "turtle"),
        ("*/*", "text/turtle", "turtle"),
        ("text/html;q=0.5, text/turtle", "text/turtle", "turtle"),
        ("application/ld+json;q=0.9, application/rdf+xml", "application/rdf+xml", "xml"),
        ("application/*", "application/rdf+xml", "xml"),
    ):
        headers = {"HTTP_ACCEPT": accept} if accept else {}
        response = client.get("/dcat/catalog", **headers)
        assert response.status_code == 200, accept
        assert response["Content-Type"].split(";")[0] == media, accept
        assert "Accept" in [v.strip() for v in response["Vary"].split(",")]
        assert len(Graph().parse(data=response.content, format=fmt)) > 50
    assert client.get("/dcat/catalog", HTTP_ACCEPT="image/png").status_code == 406
    assert client.get("/dcat/catalog", HTTP_ACCEPT="text/turtle;q=0").status_code == 406
    for suffix, media in (
        ("ttl", "text/turtle"),
        ("rdf", "application/rdf+xml"),
        ("jsonld", "application/ld+json"),
    ):
        response = client.get(f"/dcat/catalog.{suffix}", HTTP_ACCEPT="text/turtle")
        assert response["Content-Type"].split(";")[0] == media
    first = client.get("/dcat/catalog.ttl")
    etag = first["ETag"]
    assert etag.startswith('"') and first["Cache-Control"] == "public, max-age=60"
    again = client.get("/dcat/catalog.ttl", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert client.get("/dcat/catalog.rdf", HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert client.post("/dcat/catalog").status_code == 405
    # English pages serve the same catalogue (the URIs do not depend on the language)
    english = client.get("/en/dcat/catalog.ttl")
    assert Graph().parse(data=english.content, format="turtle").value(
        predicate=RDF.type, object=DCAT.Catalog
    ) == URIRef("http://testserver/dcat/catalog")


def test_a_change_to_a_measure_reaches_the_catalogue_at_once(client, catalogue_city):
    etag = client.get("/dcat/measures.ttl")["ETag"]
    measure = catalogue_city.measures["origin"]
    measure.title = "Ein neuer Titel"
    measure.save()
    response = client.get("/dcat/measures.ttl", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and "Ein neuer Titel" in response.content.decode()


def _measure_graph(client, slug: str, suffix: str = ".ttl") -> Graph:
    response = client.get(f"/dcat/measures/{slug}{suffix}")
    assert response.status_code == 200, response.content
    return Graph().parse(data=response.content, format="turtle")


def test_a_replicated_measure_shows_its_provenance(client, catalogue_city):
    measure = catalogue_city.measures["replicated"]
    data = _measure_graph(client, measure.slug)
    me = URIRef(f"http://testserver/api/v1/network/kaiserslautern/measures/{measure.slug}/")
    origin = URIRef(
        "https://herzstadt.solingen.example/api/v1/network/solingen/measures/smart-parking/"
    )
    assert (me, RDF.type, PROV.Entity) in data
    assert (me, PROV.wasDerivedFrom, origin) in data
    derivation = data.value(me, PROV.qualifiedDerivation)
    assert data.value(derivation, PROV.atTime) == Literal(
        dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC), datatype=XSD.dateTime
    )
    version = data.value(derivation, PROV.entity)
    assert data.value(version, PROV.specializationOf) == origin
    assert str(data.value(version, URIRef("http://www.w3.org/2002/07/owl#versionInfo"))) == "2"
    publisher = URIRef("http://testserver/dcat/catalog#publisher")
    assert data.value(me, PROV.wasAttributedTo) == publisher
    assert data.value(data.value(derivation, PROV.hadActivity), PROV.wasAssociatedWith) == publisher
    assert str(data.value(me, URIRef("http://www.w3.org/2002/07/owl#versionInfo"))) == "1"


def test_the_origin_lists_who_took_its_measure_over(client, catalogue_city):
    measure = catalogue_city.measures["origin"]
    data = _measure_graph(client, measure.slug)
    me = URIRef(f"http://testserver/api/v1/network/kaiserslautern/measures/{measure.slug}/")
    adopted = URIRef("https://herzstadt.wolfsburg.example/api/v1/network/wolfsburg/measures/x/")
    assert (adopted, PROV.wasDerivedFrom, me) in data
    assert str(data.value(me, URIRef("http://www.w3.org/2002/07/owl#versionInfo"))) == "3"
    derivation = data.value(adopted, PROV.qualifiedDerivation)
    assert data.value(data.value(derivation, PROV.entity), PROV.specializationOf) == me
    # the measure's conneg and suffixes
    for suffix, fmt in (("", "turtle"), (".rdf", "xml"), (".jsonld", "json-ld")):
        response = client.get(f"/dcat/measures/{measure.slug}{suffix}")
        assert (adopted, PROV.wasDerivedFrom, me) in Graph().parse(
            data=response.content, format=fmt
        )


def test_unshared_unknown_and_foreign_measures_are_not_served(client, catalogue_city, other_city):
    from herzstadt.core.models import FieldOfAction, Measure
    from herzstadt.knowledge.models import MeasureProfile

    assert (
        client.get(f"/dcat/measures/{catalogue_city.measures['private'].slug}").status_code == 404
    )
    assert client.get("/dcat/measures/gibt-es-nicht.ttl").status_code == 404
    field = FieldOfAction.objects.create(city=other_city, slug="f", name="F")
    foreign = Measure.objects.create(
        city=other_city, slug="fremd", title="Fremd", summary="s", field_of_action=field
    )
    MeasureProfile.objects.create(measure=foreign, shared=True)
    assert client.get("/dcat/measures/fremd.ttl").status_code == 404
    data = Graph().parse(data=client.get("/dcat/measures.ttl").content, format="turtle")
    titles = {str(t) for t in data.objects(None, DCT.title)}
    assert "Fremd" not in titles
    assert catalogue_city.measures["private"].title not in titles
    assert catalogue_city.measures["origin"].title in titles


def test_the_measures_rdf_passes_the_shapes(client, catalogue_city, shapes):
    data = Graph().parse(data=client.get("/dcat/measures.ttl").content, format="turtle")
    violations, _warnings = validate(data, shapes)
    assert violations == [], violations


def test_the_contributor_id_per_city(catalogue_city, settings):
    from herzstadt.knowledge.dcat.vocab import contributor_id

    settings.HERZSTADT_DCAT_CONTRIBUTOR_IDS = {"kaiserslautern": "https://example.org/kl"}
    assert contributor_id(catalogue_city) == URIRef("https://example.org/kl")
    settings.HERZSTADT_DCAT_CONTRIBUTOR_IDS = "solingen=x, kaiserslautern = kl "
    assert contributor_id(catalogue_city) == URIRef("http://dcat-ap.de/def/contributors/kl")
    settings.HERZSTADT_DCAT_CONTRIBUTOR_IDS = ""
    settings.HERZSTADT_DCAT_CONTRIBUTOR_ID = ""
    assert contributor_id(catalogue_city) is None


def test_the_alternate_links_include(catalogue_city):
    from django.template.loader import render_to_string

    measure = catalogue_city.measures["origin"]
    html = render_to_string("knowledge/dcat/_alternate.html", {"measure": measure})
    assert (
        f'<link rel="alternate" type="text/turtle" href="/dcat/measures/{measure.slug}.ttl">'
        in html
    )
    assert 'type="application/ld+json"' in html and "{%" not in html


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_a_page_linking_the_formats(client, catalogue_city):
    response = client.get("/dcat/catalog", HTTP_ACCEPT=BROWSER)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Accept" in [v.strip() for v in response["Vary"].split(",")]
    html = response.content.decode()
    for suffix in ("ttl", "rdf", "jsonld"):
        assert f'href="/dcat/catalog.{suffix}"' in html
    assert "Offene-Daten-Katalog" in html and "Zukunft Pfaff-Areal" in html
    english = client.get("/en/dcat/catalog", HTTP_ACCEPT=BROWSER).content.decode()
    assert "Open data catalogue" in english
    # a suffix is the format, whatever the browser says
    response = client.get("/dcat/catalog.ttl", HTTP_ACCEPT=BROWSER)
    assert response["Content-Type"].startswith("text/turtle")
    # a measure: the browser goes to the measure's page
    measure = catalogue_city.measures["origin"]
    response = client.get(f"/dcat/measures/{measure.slug}", HTTP_ACCEPT=BROWSER)
    assert response.status_code == 303
    assert response["Location"].endswith(f"/{measure.slug}/")


def test_a_city_without_data_key_or_contact_still_has_a_valid_catalogue(other_city, shapes):
    """No AGS (no municipality key), no website or e-mail, no open data: an empty but valid
    catalogue (its contact point falls back to the site's address)."""
    from herzstadt.knowledge.dcat.graph import catalogue_graph

    other_city.ngsi_tenant = "leerstadt"
    other_city.ags = ""
    other_city.website = ""
    other_city.contact_email = ""
    other_city.save()
    data = catalogue_graph(other_city, "https://leer.example")
    assert not list(data.subjects(RDF.type, DCAT.Dataset))
    assert not list(data.objects(None, DCT.spatial))
    violations, _warnings = validate(data, shapes)
    assert violations == [], violations
