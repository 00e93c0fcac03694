"""Where indicator formulas read the urban data: the city's NGSI-LD broker, in process.

:class:`BrokerSource` answers the :class:`herzstadt.compass.formulas.Source` protocol through the
broker's route table, exactly as ``GET /ngsi-ld/v1/entities`` and ``GET /ngsi-ld/v1/temporal/
entities?…&options=aggregatedValues&aggrMethods=avg,totalCount&aggrPeriodDuration=<interval>``
would be served, as the system principal of the city's tenant (``city.ngsi_tenant``). The broker
averages in SQL per sampling interval, so a computation costs one query per formula part however
many observations are stored (a value every 10 s or every 15 min). Short type and attribute names
(``AirQualityObserved``, ``no2``) are matched against the tenant's expanded names; the spatial
filter is the district's boundary (``georel=within``).

Synchronous (the worker's threads and sync views call it); no network: the broker is in process.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from herzstadt.core.models import City, District

#: entities per page of an entity query (the broker's usual maximum)
PAGE = 1000
#: at most this many entities of one type are read (a formula over more is refused by the source)
MAX_ENTITIES = 5000


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _short(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _seconds(step: dt.timedelta) -> str:
    total = int(step.total_seconds())
    return f"PT{total}S"


class SourceError(RuntimeError):
    """The broker refused a query (shown as the indicator's error)."""


class BrokerSource:
    """The observations of ``city``'s tenant; ``district`` is the default area (None: the whole
    city)."""

    def __init__(self, city: City, district: District | None = None) -> None:
        self.city = city
        self.district = district
        self.tenant = city.ngsi_tenant
        self._types: list[str] | None = None
        self._attrs: list[str] | None = None
        self._districts: dict[str, District | None] = {}
        self._entities: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self._personal: frozenset[str] | None = None

    # privacy ---------------------------------------------------------------------------------
    def guard(self, entity_type: str, sources: int) -> None:
        """An indicator over a type of personal data (the city marks it so, e.g. households'
        meters) describes at least K_ANONYMITY sources, or it is not computed: an aggregate of one
        or two meters would publish those meters' values."""
        from herzstadt.urbandata.broker import K_ANONYMITY, personal_types

        if self._personal is None:
            self._personal = personal_types(self.city)
        if self._personal & set(self.type_iris(entity_type)) and 0 < sources < K_ANONYMITY:
            raise SourceError(
                f"{entity_type} holds personal data: an indicator needs at least "
                f"{K_ANONYMITY} sources of it, found {sources}"
            )

    # names ----------------------------------------------------------------------------------
    def _store(self) -> Any:
        from herzstadt.urbandata.broker import get_broker

        return get_broker().store

    def type_iris(self, name: str) -> list[str]:
        if self._types is None:
            try:
                self._types = list(self._store().entity_types(self.tenant))
            except Exception:  # the tenant has no data yet
                self._types = []
        return [t for t in self._types if _short(t) == name]

    def attr_iri(self, type_iri: str, name: str) -> str | None:
        if self._attrs is None:
            try:
                self._attrs = list(self._store().attribute_names(self.tenant))
            except Exception:
                self._attrs = []
        found = [a for a in self._attrs if _short(a) == name]
        if not found:
            return None
        # the type's own data model first (e.g. dataModel.Environment/temperature)
        model = type_iri.rsplit("/", 1)[0]
        found.sort(key=lambda a: (not a.startswith(model + "/"), a))
        return found[0]

    def area(self, slug: str | None) -> District | None:
        if slug is None:
            return self.district
        if slug not in self._districts:
            self._districts[slug] = District.objects.filter(city=self.city, slug=slug).first()
            if self._districts[slug] is None:
                raise SourceError(f"unknown district {slug!r}")
        return self._districts[slug]

    def _geo(self, slug: str | None) -> dict[str, str]:
        district = self.area(slug)
        if district is None or not district.boundary:
            return {}
        return {
            "georel": "within",
            "geometry": district.boundary["type"],
            "coordinates": orjson.dumps(district.boundary["coordinates"]).decode(),
        }

    # broker calls ---------------------------------------------------------------------------
    def _call(self, path: str, raw: dict[str, str]) -> Any:
        from herzstadt.ngsi.auth import system_principal
        from herzstadt.ngsi.errors import NgsiError
        from herzstadt.ngsi.routes import ROUTER
        from herzstadt.ngsi.service import Req
        from herzstadt.urbandata.broker import get_broker

        found = ROUTER.match(path)
        op = found[0].methods.get("GET") if found else None
        if op is None:
            raise SourceError(f"the broker has no route GET {path}")
        broker = get_broker()
        req = Req(
            principal=system_principal(self.tenant, "compass"),
            tenant=self.tenant,
            ctx=broker.resolver.get(None),
        )
        try:
            params = op.parse(raw, broker.config) if op.parse is not None else None
            return op.handler(broker, req, params)
        except NgsiError as e:
            raise SourceError(str(e)[:200]) from e

    def entities(self, entity_type: str, district: str | None) -> list[dict[str, Any]]:
        """The current entities (key-values, full attribute names shortened) of the type."""
        key = (entity_type, district)
        if key in self._entities:
            return self._entities[key]
        out: list[dict[str, Any]] = []
        for iri in self.type_iris(entity_type):
            offset = 0
            while True:
                result = self._call(
                    "entities",
                    {
                        "type": iri,
                        "options": "keyValues",
                        "limit": str(PAGE),
                        "offset": str(offset),
                        **self._geo(district),
                    },
                )
                page = result.body if isinstance(result.body, list) else []
                for entity in page:
                    if isinstance(entity, dict):
                        out.append({_short(k) if k != "id" else k: v for k, v in entity.items()})
                if len(page) < PAGE or len(out) >= MAX_ENTITIES:
                    break
                offset += PAGE
        self._entities[key] = out
        return out

    def series(
        self,
        entity_type: str,
        attribute: str,
        start: dt.datetime,
        end: dt.datetime,
        district: str | None,
        step: dt.timedelta,
    ) -> list[tuple[str, list[tuple[dt.datetime, float | None]]]]:
        """Per entity, one value per sampling interval: the broker's mean of the interval's
        numeric observations (None where the interval has only non-numeric ones)."""
        out: list[tuple[str, list[tuple[dt.datetime, float | None]]]] = []
        for type_iri in self.type_iris(entity_type):
            attr = self.attr_iri(type_iri, attribute)
            if attr is None:
                continue
            offset = 0
            while True:
                result = self._call(
                    "temporal/entities",
                    {
                        "type": type_iri,
                        "attrs": attr,
                        "timerel": "between",
                        "timeAt": _iso(start),
                        "endTimeAt": _iso(end),
                        "options": "aggregatedValues",
                        "aggrMethods": "avg,totalCount",
                        "aggrPeriodDuration": _seconds(step),
                        "limit": str(PAGE),
                        "offset": str(offset),
                        **self._geo(district),
                    },
                )
                page = result.body if isinstance(result.body, list) else []
                for entity in page:
                    if isinstance(entity, dict) and isinstance(entity.get("id"), str):
                        # a core term (e.g. status) comes back compacted
                        value = entity.get(attr, entity.get(_short(attr)))
                        out.append((entity["id"], _points(value)))
                if len(page) < PAGE or len(out) >= MAX_ENTITIES:
                    break
                offset += PAGE
        return out


def _when(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _points(value: Any) -> list[tuple[dt.datetime, float | None]]:
    """``[(interval start, mean or None)]`` from an attribute's aggregated representation."""
    instances = value if isinstance(value, list) else [value]
    points: dict[dt.datetime, float | None] = {}
    for instance in instances:
        if not isinstance(instance, dict):
            continue
        counts = {
            (item[1] if len(item) > 1 else None): item[0]
            for item in instance.get("totalCount") or ()
            if isinstance(item, list)
        }
        for item in instance.get("avg") or ():
            if not isinstance(item, list) or len(item) < 2:
                continue
            when = _when(item[1])
            if when is None:
                continue
            number = item[0]
            if isinstance(number, (int, float)) and not isinstance(number, bool):
                points[when] = float(number)
            elif counts.get(item[1]):
                points.setdefault(when, None)
    return sorted(points.items(), key=lambda p: p[0])
