"""The city's DCAT-AP.de 3.0 catalogue and its measures' RDF (W3C PROV), built with rdflib.

Every URI is absolute under ``base`` (the site's scheme and host, e.g. ``https://herzstadt.kl.de``).
The catalogue is German (``dct:language`` DEU); English titles are added where a translation exists.
What the graph holds, and which DCAT-AP.de shapes it passes: docs/knowledge.md, "DCAT-AP.de catalogue".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from herzstadt.core import registry
from herzstadt.core.models import City, Measure
from herzstadt.knowledge.dcat import measures as measure_links
from herzstadt.knowledge.dcat.vocab import (
    ADMS,
    ATTRIBUTION_LICENCES,
    DCAT,
    DCATDE,
    DCT,
    EU_LANGUAGE,
    EU_THEME,
    EU_THEME_SCHEME,
    FOAF,
    GEOCODING_LEVEL_MUNICIPALITY,
    GSP,
    LOCN,
    METADATA_LICENCE,
    MUNICIPALITY_KEY,
    PROV,
    PUBLISHER_TYPE_LOCAL_AUTHORITY,
    SKOS,
    VCARD,
    contributor_id,
    file_type,
    media_type_uri,
)

GERMAN = EU_LANGUAGE["DEU"]
ENGLISH = EU_LANGUAGE["ENG"]


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in (
        ("dcat", DCAT),
        ("dct", DCT),
        ("dcatde", DCATDE),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("locn", LOCN),
        ("prov", PROV),
        ("adms", ADMS),
        ("gsp", GSP),
        ("skos", SKOS),
        ("owl", OWL),
    ):
        g.bind(prefix, ns)
    return g


def absolute(base: str, url: str) -> URIRef:
    """``url`` as an absolute URI (a path on this site gets ``base``)."""
    if "://" in url:
        return URIRef(url)
    return URIRef(base.rstrip("/") + "/" + url.lstrip("/"))


def _when(value: dt.datetime | dt.date) -> Literal:
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        return Literal(value.astimezone(dt.UTC).replace(microsecond=0), datatype=XSD.dateTime)
    return Literal(value, datatype=XSD.date)


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


class Publisher:
    """The city as foaf:Agent (publisher) and its vcard contact point, URIs under the catalogue."""

    def __init__(self, city: City, base: str) -> None:
        self.city = city
        self.base = base
        self.catalog = catalog_uri(base)
        self.agent = URIRef(f"{self.catalog}#publisher")
        self.contact = URIRef(f"{self.catalog}#contact")
        self.name = city.official_name or _("City of %(city)s") % {"city": city.name}
        self.spatial = URIRef(MUNICIPALITY_KEY + city.ags) if city.ags else None
        self.contributor = contributor_id(city)

    def describe(self, g: Graph) -> None:
        city = self.city
        g.add((self.agent, RDF.type, FOAF.Agent))
        g.add((self.agent, RDF.type, FOAF.Organization))
        g.add((self.agent, FOAF.name, Literal(self.name, lang="de")))
        g.add((self.agent, DCT.type, PUBLISHER_TYPE_LOCAL_AUTHORITY))
        g.add((PUBLISHER_TYPE_LOCAL_AUTHORITY, RDF.type, SKOS.Concept))
        if city.website:
            g.add((self.agent, FOAF.homepage, URIRef(city.website)))
        if city.contact_email:
            g.add((self.agent, FOAF.mbox, URIRef(f"mailto:{city.contact_email}")))
        g.add((self.contact, RDF.type, VCARD.Organization))
        g.add((self.contact, RDF.type, VCARD.Kind))
        g.add((self.contact, VCARD.fn, Literal(self.name, lang="de")))
        if city.contact_email:
            g.add((self.contact, VCARD.hasEmail, URIRef(f"mailto:{city.contact_email}")))
        g.add((self.contact, VCARD.hasURL, URIRef(city.website or self.base.rstrip("/") + "/")))
        if self.spatial is not None:
            g.add((self.spatial, RDF.type, DCT.Location))

    def attach(self, g: Graph, subject: URIRef) -> None:
        """Publisher, contact point, political geocoding and contributor ID of a dataset."""
        g.add((subject, DCT.publisher, self.agent))
        g.add((subject, DCAT.contactPoint, self.contact))
        if self.spatial is not None:
            g.add((subject, DCT.spatial, self.spatial))
            g.add((subject, DCATDE.politicalGeocodingLevelURI, GEOCODING_LEVEL_MUNICIPALITY))
        if self.contributor is not None:
            g.add((subject, DCATDE.contributorID, self.contributor))


def catalog_uri(base: str) -> URIRef:
    """The catalogue's URI (the German, unprefixed path in every language)."""
    with translation.override("de"):
        return absolute(base, reverse("knowledge:dcat-catalog"))


def catalogue_graph(city: City, base: str) -> Graph:
    """The city's dcat:Catalog with one dcat:Dataset per registered open-data dataset."""
    with translation.override("de"):
        datasets = registry.datasets(city)
        g = new_graph()
        publisher = Publisher(city, base)
        publisher.describe(g)
        catalog = publisher.catalog
        g.add((catalog, RDF.type, DCAT.Catalog))
        g.add((catalog, DCT.title, Literal(_("Open data of %(city)s") % {"city": city.name}, "de")))
        with translation.override("en"):
            title_en = _("Open data of %(city)s") % {"city": city.tr.name}
        g.add((catalog, DCT.title, Literal(title_en, lang="en")))
        g.add(
            (
                catalog,
                DCT.description,
                Literal(
                    _(
                        "The open data of %(city)s on its smart-city platform: citizen "
                        "participation, urban data (NGSI-LD) and the measures it shares with "
                        "other cities."
                    )
                    % {"city": city.name},
                    lang="de",
                ),
            )
        )
        g.add((catalog, DCT.publisher, publisher.agent))
        g.add((catalog, DCAT.contactPoint, publisher.contact))
        g.add((catalog, DCT.language, GERMAN))
        g.add((GERMAN, RDF.type, DCT.LinguisticSystem))
        g.add((catalog, DCT.license, METADATA_LICENCE))
        g.add((METADATA_LICENCE, RDF.type, DCT.LicenseDocument))
        g.add((catalog, FOAF.homepage, absolute(base, "/")))
        g.add((catalog, DCAT.themeTaxonomy, EU_THEME_SCHEME))
        g.add((EU_THEME_SCHEME, RDF.type, SKOS.ConceptScheme))
        g.add((EU_THEME_SCHEME, DCT.title, Literal("Data theme", lang="en")))
        if publisher.spatial is not None:
            g.add((catalog, DCT.spatial, publisher.spatial))
        modified = [d.modified for d in datasets if d.modified is not None]
        if modified:
            g.add((catalog, DCT.modified, _when(max(modified, key=_sort_key))))
        for dataset in datasets:
            subject = URIRef(f"{catalog}#{dataset.identifier}")
            g.add((catalog, DCAT.dataset, subject))
            _dataset(g, subject, dataset, publisher, base)
    return g


def _sort_key(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


def _dataset(
    g: Graph, subject: URIRef, dataset: registry.Dataset, publisher: Publisher, base: str
) -> None:
    title = _text(dataset.title)
    g.add((subject, RDF.type, DCAT.Dataset))
    g.add((subject, DCT.identifier, Literal(str(subject))))
    g.add((subject, ADMS.identifier, _identifier(g, dataset.identifier)))
    g.add((subject, DCT.title, Literal(title, lang="de")))
    g.add((subject, DCT.description, Literal(_text(dataset.description) or title, lang="de")))
    g.add((subject, DCT.language, GERMAN))
    for keyword in dict.fromkeys(k.strip() for k in dataset.keywords if k and k.strip()):
        g.add((subject, DCAT.keyword, Literal(keyword, lang="de")))
    for theme in dataset.themes:
        g.add((subject, DCAT.theme, EU_THEME[theme]))
        g.add((EU_THEME[theme], RDF.type, SKOS.Concept))
        g.add((EU_THEME[theme], SKOS.inScheme, EU_THEME_SCHEME))
    publisher.attach(g, subject)
    if dataset.landing_page:
        page = absolute(base, dataset.landing_page)
        g.add((subject, DCAT.landingPage, page))
        g.add((page, RDF.type, FOAF.Document))
    if dataset.spatial:
        location = URIRef(f"{subject}-spatial")
        g.add((subject, DCT.spatial, location))
        g.add((location, RDF.type, DCT.Location))
        geometry = URIRef(f"{subject}-geometry")
        g.add((location, LOCN.geometry, geometry))
        g.add((geometry, RDF.type, LOCN.Geometry))
        text = json.dumps(dict(dataset.spatial), separators=(",", ":"))
        g.add((geometry, GSP.asGeoJSON, Literal(text, datatype=GSP.geoJSONLiteral)))
        box = _bbox(dataset.spatial)
        if box is not None:
            g.add((location, DCAT.bbox, Literal(box, datatype=GSP.wktLiteral)))
    if dataset.temporal and any(v is not None for v in dataset.temporal):
        period = URIRef(f"{subject}-temporal")
        g.add((subject, DCT.temporal, period))
        g.add((period, RDF.type, DCT.PeriodOfTime))
        start, end = dataset.temporal
        if start is not None:
            g.add((period, DCAT.startDate, _when(start)))
        if end is not None:
            g.add((period, DCAT.endDate, _when(end)))
    if dataset.modified is not None:
        g.add((subject, DCT.modified, _when(dataset.modified)))
    licence = URIRef(dataset.licence)
    for n, dist in enumerate(dataset.distributions, start=1):
        node = URIRef(f"{subject}-{n}")
        g.add((subject, DCAT.distribution, node))
        _distribution(g, node, dist, licence, publisher, base)


def _bbox(geometry: Any) -> str | None:
    """The bounding box of a GeoJSON geometry as a WKT polygon (``None``: no coordinates)."""
    points: list[tuple[float, float]] = []

    def walk(value: Any) -> None:
        if isinstance(value, list | tuple):
            if len(value) >= 2 and all(isinstance(v, int | float) for v in value[:2]):
                points.append((float(value[0]), float(value[1])))
            else:
                for item in value:
                    walk(item)

    walk(geometry.get("coordinates") if hasattr(geometry, "get") else None)
    if not points:
        return None
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    return f"POLYGON(({west} {south},{east} {south},{east} {north},{west} {north},{west} {south}))"


def _identifier(g: Graph, value: str) -> BNode:
    node = BNode()
    g.add((node, RDF.type, ADMS.Identifier))
    g.add((node, SKOS.notation, Literal(value)))
    return node


def _distribution(
    g: Graph,
    node: URIRef,
    dist: registry.Distribution,
    licence: URIRef,
    publisher: Publisher,
    base: str,
) -> None:
    url = absolute(base, dist.url)
    g.add((node, RDF.type, DCAT.Distribution))
    g.add((node, DCAT.accessURL, url))
    # an API query (NGSI-LD) is accessed, a file is downloaded
    if not dist.url.startswith(("/ngsi-ld/", "/api/v1/network/")):
        g.add((node, DCAT.downloadURL, url))
    g.add((url, RDF.type, RDFS.Resource))
    if dist.title:
        g.add((node, DCT.title, Literal(_text(dist.title), lang="de")))
    media = media_type_uri(dist.media_type)
    g.add((node, DCAT.mediaType, media))
    g.add((media, RDF.type, DCT.MediaType))
    fmt = file_type(dist.format, dist.media_type)
    if fmt is not None:
        g.add((node, DCT["format"], fmt))
        g.add((fmt, RDF.type, DCT.MediaTypeOrExtent))
    g.add((node, DCT.license, licence))
    g.add((licence, RDF.type, DCT.LicenseDocument))
    if any(part in str(licence) for part in ATTRIBUTION_LICENCES):
        g.add((node, DCATDE.licenseAttributionByText, Literal(publisher.name, lang="de")))


# --- a measure with its provenance ---------------------------------------------------------------------
def measure_uri(base: str, measure: Measure) -> URIRef:
    """A measure's identity: the absolute URL of its network record (what partners harvest and what
    an adopting city's ``origin_uri`` points to)."""
    return absolute(base, measure_links.network_measure_path(measure))


def measures_graph(city: City, base: str, measures: Iterable[Measure] | None = None) -> Graph:
    """The city's shared measures (or ``measures``) with their provenance and reuses."""
    with translation.override("de"):
        g = new_graph()
        publisher = Publisher(city, base)
        publisher.describe(g)
        items = list(measure_links.shared_measures(city) if measures is None else measures)
        reuses = _reuses(items)
        for measure in items:
            _measure(g, measure, publisher, base, reuses.get(measure.pk, []))
    return g


def _reuses(measures: list[Measure]) -> dict[int, list[Any]]:
    from herzstadt.knowledge.models import Reuse

    found: dict[int, list[Any]] = {}
    for reuse in Reuse.objects.filter(measure__in=[m.pk for m in measures]).order_by("pk"):
        found.setdefault(reuse.measure_id, []).append(reuse)
    return found


def _measure(
    g: Graph, measure: Measure, publisher: Publisher, base: str, reuses: list[Any]
) -> None:
    profile = measure.profile
    subject = measure_uri(base, measure)
    g.add((subject, RDF.type, DCAT.Resource))
    g.add((subject, RDF.type, PROV.Entity))
    g.add((subject, DCT.identifier, Literal(str(subject))))
    g.add((subject, DCT.title, Literal(measure.title, lang="de")))
    g.add((subject, DCT.description, Literal(_text(measure.summary) or measure.title, lang="de")))
    english = (measure.i18n or {}).get("en") or {}
    if isinstance(english, dict):
        if english.get("title"):
            g.add((subject, DCT.title, Literal(str(english["title"]), lang="en")))
        if english.get("summary"):
            g.add((subject, DCT.description, Literal(_text(english["summary"]), lang="en")))
    modified = max(measure.updated_at, profile.updated_at)
    g.add((subject, DCT.modified, _when(modified)))
    g.add((subject, OWL.versionInfo, Literal(str(profile.version))))
    g.add((subject, DCAT.version, Literal(str(profile.version))))
    g.add((subject, DCT.publisher, publisher.agent))
    g.add((subject, DCAT.contactPoint, publisher.contact))
    g.add((subject, DCT.language, GERMAN))
    if publisher.spatial is not None:
        g.add((subject, DCT.spatial, publisher.spatial))
    g.add((subject, DCAT.keyword, Literal(measure.field_of_action.name, lang="de")))
    page = absolute(base, measure_links.profile_path(measure))
    g.add((subject, DCAT.landingPage, page))
    g.add((page, RDF.type, FOAF.Document))
    g.add((subject, RDFS.seeAlso, absolute(base, measure_links.rdf_path(measure, ".ttl"))))
    g.add((subject, PROV.wasAttributedTo, publisher.agent))
    g.add((publisher.agent, RDF.type, PROV.Agent))
    if measure.start_date or measure.end_date:
        period = URIRef(f"{subject}#temporal")
        g.add((subject, DCT.temporal, period))
        g.add((period, RDF.type, DCT.PeriodOfTime))
        if measure.start_date:
            g.add((period, DCAT.startDate, _when(measure.start_date)))
        if measure.end_date:
            g.add((period, DCAT.endDate, _when(measure.end_date)))
    if profile.origin_uri:
        _origin(g, subject, profile, publisher)
    for reuse in reuses:
        _reuse(g, subject, profile, reuse)


def _version_of(entity: URIRef, version: int | None) -> URIRef:
    """The entity of one version of a record (prov:specializationOf the record)."""
    return URIRef(f"{entity}#version-{version}") if version else entity


def _origin(g: Graph, subject: URIRef, profile: Any, publisher: Publisher) -> None:
    """PROV of a replicated measure: derived from (a version of) the partner's measure."""
    origin = URIRef(profile.origin_uri)
    g.add((subject, PROV.wasDerivedFrom, origin))
    g.add((origin, RDF.type, PROV.Entity))
    if profile.origin_title:
        g.add((origin, DCT.title, Literal(profile.origin_title, lang="de")))
    if profile.origin_city:
        agent = URIRef(f"{subject}#origin-city")
        g.add((origin, PROV.wasAttributedTo, agent))
        g.add((agent, RDF.type, PROV.Agent))
        g.add((agent, RDF.type, FOAF.Organization))
        g.add((agent, FOAF.name, Literal(profile.origin_city, lang="de")))
    source = _version_of(origin, profile.origin_version)
    if source != origin:
        g.add((source, RDF.type, PROV.Entity))
        g.add((source, PROV.specializationOf, origin))
        g.add((source, OWL.versionInfo, Literal(str(profile.origin_version))))
    derivation = URIRef(f"{subject}#derivation")
    g.add((subject, PROV.qualifiedDerivation, derivation))
    g.add((derivation, RDF.type, PROV.Derivation))
    g.add((derivation, PROV.entity, source))
    activity = URIRef(f"{subject}#adoption")
    g.add((derivation, PROV.hadActivity, activity))
    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, PROV.used, source))
    g.add((activity, PROV.wasAssociatedWith, publisher.agent))
    if profile.adopted_at:
        g.add((derivation, PROV.atTime, _when(profile.adopted_at)))
        g.add((activity, PROV.endedAtTime, _when(profile.adopted_at)))
    parts = [str(p) for p in (profile.adopted_parts or []) if isinstance(p, str | int)]
    if parts:
        g.add((activity, DCT.description, Literal(", ".join(parts))))


def _reuse(g: Graph, subject: URIRef, profile: Any, reuse: Any) -> None:
    """The origin side: another city's measure derived from this one (reported back to us)."""
    adopted = URIRef(reuse.adopted_measure_url)
    g.add((adopted, RDF.type, PROV.Entity))
    g.add((adopted, PROV.wasDerivedFrom, subject))
    if reuse.adopted_title:
        g.add((adopted, DCT.title, Literal(reuse.adopted_title, lang="de")))
    agent = URIRef(reuse.adopter_uri) if reuse.adopter_uri else BNode()
    g.add((adopted, PROV.wasAttributedTo, agent))
    g.add((agent, RDF.type, PROV.Agent))
    g.add((agent, RDF.type, FOAF.Organization))
    g.add((agent, FOAF.name, Literal(reuse.adopter_name, lang="de")))
    source = _version_of(subject, reuse.origin_version)
    if source != subject:
        g.add((source, RDF.type, PROV.Entity))
        g.add((source, PROV.specializationOf, subject))
        g.add((source, OWL.versionInfo, Literal(str(reuse.origin_version))))
    derivation = BNode()
    g.add((adopted, PROV.qualifiedDerivation, derivation))
    g.add((derivation, RDF.type, PROV.Derivation))
    g.add((derivation, PROV.entity, source))
    if reuse.adopted_at:
        g.add((derivation, PROV.atTime, _when(reuse.adopted_at)))
