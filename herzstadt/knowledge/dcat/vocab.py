"""The vocabularies of the DCAT-AP.de catalogue: namespaces, the controlled vocabularies' URIs
(EU authority tables, DCAT-AP.de lists) and the per-installation settings (contributor ID)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from rdflib import Namespace, URIRef

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
PROV = Namespace("http://www.w3.org/ns/prov#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")

#: EU authority tables (the controlled vocabularies DCAT-AP.de 3.0 prescribes)
EU_LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
EU_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
EU_THEME_SCHEME = URIRef("http://publications.europa.eu/resource/authority/data-theme")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
#: ADMS publisher types: a city is a local authority
PUBLISHER_TYPE_LOCAL_AUTHORITY = URIRef("http://purl.org/adms/publishertype/LocalAuthority")

#: dcatde:politicalGeocodingLevelURI of a municipality, and its keys (Amtlicher Gemeindeschlüssel)
GEOCODING_LEVEL_MUNICIPALITY = URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")
MUNICIPALITY_KEY = "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/"
#: GovData's list of data providers (dcatde:contributorID)
CONTRIBUTORS = "http://dcat-ap.de/def/contributors/"

#: The licence of the catalogue's metadata (Datenlizenz Deutschland – Zero – 2.0)
METADATA_LICENCE = URIRef("http://dcat-ap.de/def/licenses/dl-zero-de/2.0")
#: Licences that require naming the source: the distribution carries dcatde:licenseAttributionByText
ATTRIBUTION_LICENCES = ("/dl-by-de/", "/cc-by/", "/cc-by-sa/", "/odbl")

#: dct:format (EU file-type) by the registry's format names / media types
FILE_TYPES = {
    "csv": "CSV",
    "json": "JSON",
    "geojson": "GEOJSON",
    "ngsi-ld": "JSON_LD",
    "json-ld": "JSON_LD",
    "jsonld": "JSON_LD",
    "turtle": "RDF_TURTLE",
    "rdf/xml": "RDF_XML",
    "html": "HTML",
    "xml": "XML",
}
MEDIA_FILE_TYPES = {
    "text/csv": "CSV",
    "application/json": "JSON",
    "application/geo+json": "GEOJSON",
    "application/ld+json": "JSON_LD",
    "text/turtle": "RDF_TURTLE",
    "application/rdf+xml": "RDF_XML",
    "text/html": "HTML",
}


def file_type(fmt: str, media_type: str) -> URIRef | None:
    """The EU file-type URI of a distribution (``None`` when the format is not known)."""
    code = FILE_TYPES.get(fmt.strip().lower()) or MEDIA_FILE_TYPES.get(media_type.strip().lower())
    return EU_FILE_TYPE[code] if code else None


def media_type_uri(media_type: str) -> URIRef:
    return URIRef(IANA_MEDIA_TYPES + media_type.split(";")[0].strip().lower())


def _contributor_overrides() -> dict[str, str]:
    raw = getattr(settings, "HERZSTADT_DCAT_CONTRIBUTOR_IDS", None)
    if raw is None:
        raw = os.environ.get("HERZSTADT_DCAT_CONTRIBUTOR_IDS", "")
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    found: dict[str, str] = {}
    for item in str(raw).split(","):
        slug, sep, value = item.partition("=")
        if sep and slug.strip() and value.strip():
            found[slug.strip()] = value.strip()
    return found


def contributor_id(city) -> URIRef | None:
    """The city's dcatde:contributorID: ``HERZSTADT_DCAT_CONTRIBUTOR_IDS`` (``slug=id,…``, per city)
    before ``HERZSTADT_DCAT_CONTRIBUTOR_ID`` (the installation's); an ID of GovData's list
    (``kaiserslautern``) becomes ``http://dcat-ap.de/def/contributors/kaiserslautern``, a full
    URI stays as it is. ``None`` (no contributorID) when neither is set: GovData assigns the ID
    when it registers the catalogue as a data provider."""
    value: Any = _contributor_overrides().get(city.slug, "")
    if not value:
        value = getattr(settings, "HERZSTADT_DCAT_CONTRIBUTOR_ID", None)
        if value is None:
            value = os.environ.get("HERZSTADT_DCAT_CONTRIBUTOR_ID", "")
    value = str(value).strip()
    if not value:
        return None
    if "://" not in value:
        value = CONTRIBUTORS + value
    return URIRef(value)
