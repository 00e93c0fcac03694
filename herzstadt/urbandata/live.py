"""The live district: current values of the sensors inside a district, read from the broker in
process, in plain language (:mod:`herzstadt.urbandata.plain`).

Cost: one broker query per entity type of the district (at most :data:`LIVE_LIMIT` entities each,
plus one count for parking spaces), kept for :data:`LIVE_TTL` seconds per worker — a page costs the
same however many values the broker holds.

Privacy: entity types the city marks as personal (``UrbanDataSettings.personal_types``) are shown
only as an average over at least :data:`~herzstadt.urbandata.models.K_ANONYMITY` sources, never per
sensor, never with names or places; with fewer sources the page says so and shows no value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from herzstadt.core.models import District
from herzstadt.core.templatetags.numbers import format_number
from herzstadt.core.ttlcache import TTLCache
from herzstadt.ngsi.auth import system_principal
from herzstadt.ngsi.errors import NgsiError
from herzstadt.ngsi.params import EntityQuery, GeoQuery, Paging, QueryParams, RetrieveOptions
from herzstadt.ngsi.service import Req, query_entities
from herzstadt.urbandata import plain
from herzstadt.urbandata.broker import get_broker
from herzstadt.urbandata.measured import _geo, _short, measured_in
from herzstadt.urbandata.models import K_ANONYMITY

#: entities of one type read for a page
LIVE_LIMIT = 200
#: seconds a district's current values are kept per worker
LIVE_TTL = 30.0
#: sensors listed per type on the district page (all of them on the type's own page)
PANEL_SENSORS = 6

#: per worker: (database, tenant, district, boundary, type) → (entities (short names), spots free)
live_cache = TTLCache(ttl=LIVE_TTL, max_entries=1024)


def _shorten(entity: dict[str, Any], iris: dict[str, str]) -> dict[str, Any]:
    """The entity with short attribute names ("no2" for "https://smartdatamodels.org/…/no2");
    ``iris`` learns each short name's full name."""
    short = {}
    for k, v in entity.items():
        if k in ("id", "type", "@context"):
            short[k] = v
        else:
            short[_short(k)] = v
            iris.setdefault(_short(k), k)
    return short


def _request(tenant: str) -> Req:
    broker = get_broker()
    return Req(
        principal=system_principal(tenant, "district-page"),
        tenant=tenant,
        ctx=broker.resolver.get(None),
    )


def _count(tenant: str, query: EntityQuery) -> int:
    params = QueryParams(query=query, paging=Paging(limit=0, count=True), render=RetrieveOptions())
    result = query_entities(get_broker(), _request(tenant), params)
    return int(dict(result.headers).get(b"ngsild-results-count", b"0"))


def _read(
    tenant: str, iri: str, geo: dict[str, str]
) -> tuple[list[dict[str, Any]], int | None, dict[str, str]]:
    """Up to LIVE_LIMIT entities of ``iri`` inside ``geo`` (short attribute names), for parking
    spaces how many are free, and the attributes' full names."""
    query = EntityQuery(type=iri, geo=GeoQuery(**geo))
    params = QueryParams(query=query, paging=Paging(limit=LIVE_LIMIT), render=RetrieveOptions())
    try:
        body = query_entities(get_broker(), _request(tenant), params).body
        free = None
        if _short(iri) == plain.PARKING_SPOT:
            free = _count(tenant, EntityQuery(type=iri, geo=GeoQuery(**geo), q='status=="free"'))
    except NgsiError:
        return [], None, {}
    iris: dict[str, str] = {}
    return [_shorten(e, iris) for e in body if isinstance(e, dict)], free, iris


@dataclass
class Sensor:
    id: str
    name: str
    place: str
    operator: str
    readings: list[plain.Reading] = field(default_factory=list)


@dataclass
class Aggregate:
    """The mean of one quantity over several sources (personal types)."""

    quantity: plain.Quantity
    text: str
    unit_words: str
    sources: int
    when: dt.datetime | None
    unit: str = ""

    @property
    def ago(self) -> str:
        return plain.ago(self.when) if self.when else ""

    @property
    def absolute(self) -> str:
        return plain.absolute(self.when) if self.when else ""

    @property
    def iso(self) -> str:
        return self.when.isoformat() if self.when else ""


@dataclass
class LiveType:
    iri: str
    name: str
    topic: str
    label: str
    count: int
    personal: bool
    api_url: str
    #: anyone may read it (the city's open data)
    open: bool = False
    sensors: list[Sensor] = field(default_factory=list)
    aggregates: list[Aggregate] = field(default_factory=list)
    #: a personal type with fewer than K_ANONYMITY sources: no value is shown
    suppressed: bool = False
    #: a sentence over all sensors ("4 of 12 parking spaces are free.")
    summary: str = ""
    #: short attribute name → its name in the broker (an IRI)
    attr_iris: dict[str, str] = field(default_factory=dict)
    #: the ids of the sources read (for a personal type: only to ask for their aggregated history)
    source_ids: list[str] = field(default_factory=list)

    def iri_of(self, attr: str) -> str:
        return self.attr_iris.get(attr, attr)

    @property
    def more(self) -> int:
        return max(0, self.count - PANEL_SENSORS) if self.sensors else 0

    @property
    def chartable(self) -> list[plain.Quantity]:
        return [q for q in plain.quantities_of(self.name) if q.chart]


def _text(prop: Any) -> str:
    value = prop.get("value") if isinstance(prop, dict) else None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # an address
        return ", ".join(
            str(value[k]) for k in ("streetAddress", "addressLocality") if value.get(k)
        )
    return ""


def _fallback_time(entity: dict[str, Any]) -> Any:
    for attr in ("dateObserved", "dateObservedTo", "dateModified"):
        text = _text(entity.get(attr))
        if text:
            return text
    return None


def sensor_of(type_name: str, entity: dict[str, Any], readings: bool = True) -> Sensor:
    """The sensor of ``entity``: name, place, operator and (``readings``) its current values."""
    sensor = Sensor(
        id=str(entity.get("id", "")),
        name=_text(entity.get("name"))
        or _text(entity.get("stationName"))
        or _text(entity.get("title"))
        or str(entity.get("id")),
        place=_text(entity.get("address")) or _text(entity.get("areaServed")),
        operator=_text(entity.get("operator"))
        or _text(entity.get("owner"))
        or _text(entity.get("dataProvider")),
    )
    if not readings:
        return sensor
    fallback = _fallback_time(entity)
    for q in plain.quantities_of(type_name):
        found = plain.reading(type_name, q.attr, entity.get(q.attr), entity, fallback)
        if found is not None:
            sensor.readings.append(found)
    return sensor


def aggregate(type_name: str, entities: list[dict[str, Any]]) -> list[Aggregate]:
    """The mean of every quantity over the entities that have it, only where at least K_ANONYMITY
    entities contribute."""
    found = []
    for q in plain.quantities_of(type_name):
        values: list[float] = []
        times: list[dt.datetime] = []
        unit_code = None
        for entity in entities:
            prop = entity.get(q.attr)
            value = plain.number(prop)
            if value is None:
                continue
            values.append(value)
            unit_code = unit_code or prop.get("unitCode")
            when = plain.parse_time(prop.get("observedAt"))
            if when:
                times.append(when)
        if len(values) < K_ANONYMITY:
            continue
        mean = sum(values) / len(values)
        found.append(
            Aggregate(
                quantity=q,
                text=plain.format_value(mean, q, unit_code),
                unit_words=str(plain.unit_of(unit_code).words),
                sources=len(values),
                when=max(times) if times else None,
                unit="%" if q.share else plain.unit_of(unit_code).symbol,
            )
        )
    return found


def _summary(name: str, count: int, free: int | None) -> str:
    if name == plain.PARKING_SPOT and free is not None and count:
        return ngettext(
            "%(free)s of %(n)s parking space is free (%(share)s %%).",
            "%(free)s of %(n)s parking spaces are free (%(share)s %%).",
            count,
        ) % {
            "free": format_number(free),
            "n": format_number(count),
            "share": format_number(100 * free / count, 0),
        }
    return ""


def live_values(
    district: District,
    personal: frozenset[str],
    only: set[str] | None = None,
    readings: int = PANEL_SENSORS,
    selected: str | None = None,
    name: str | None = None,
    open_types: frozenset[str] = frozenset(),
) -> list[LiveType]:
    """The district's entity types (``only``: these IRIs) with their sensors; the current values of
    the first ``readings`` sensors of each type and of the sensor with the id ``selected`` (else,
    when ``selected`` is given but unknown, of the first sensor) — a page formats only what it shows.
    ``name``: only the type of this short name."""
    geo = _geo(district)
    tenant = district.city.ngsi_tenant
    found = []
    for m in measured_in(district):
        if (only is not None and m.type_iri not in only) or (name is not None and m.name != name):
            continue
        key = (
            settings.HERZSTADT_NGSI_DATABASE,
            tenant,
            district.pk,
            geo["coordinates"],
            m.type_iri,
        )
        iri = m.type_iri
        entities, free, iris = live_cache.get_or_set(key, partial(_read, tenant, iri, geo))
        topic = plain.QUANTITIES.get(m.name, (m.label, ()))[0]
        live = LiveType(
            iri=m.type_iri,
            name=m.name,
            topic=str(topic or m.label),
            label=m.label,
            count=m.count,
            personal=m.type_iri in personal,
            open=m.type_iri in open_types and m.type_iri not in personal,
            source_ids=[str(e.get("id", "")) for e in entities],
            api_url=m.api_url,
            attr_iris=iris,
        )
        if live.personal:
            live.aggregates = aggregate(m.name, entities) if m.count >= K_ANONYMITY else []
            live.suppressed = not live.aggregates
        else:
            ids = [str(e.get("id", "")) for e in entities]
            chosen = (
                selected if selected in ids else (ids[0] if selected is not None and ids else None)
            )
            live.sensors = [
                sensor_of(m.name, e, n < readings or ids[n] == chosen)
                for n, e in enumerate(entities)
            ]
            live.summary = _summary(m.name, m.count, free)
        found.append(live)
    # kinds with values first (air, parking, …), then those only counted (e.g. citizens' reports)
    return sorted(
        found,
        key=lambda t: (not plain.quantities_of(t.name) and t.name != plain.PARKING_SPOT, t.label),
    )


def type_page_url(district: District, name: str) -> str:
    from django.urls import reverse

    return reverse("urbandata:type", args=[district.slug, name])


def query_url(iri: str, geo: dict[str, str]) -> str:
    return "/ngsi-ld/v1/entities?" + urlencode({"type": iri, **geo})


def too_few_text() -> str:
    return _(
        "Too few sources: these values concern people or households and are shown only as an "
        "average over at least %(k)s sources."
    ) % {"k": K_ANONYMITY}
