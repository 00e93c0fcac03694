"""Stored-form entity docs and an ``expand`` for the query tests."""

from __future__ import annotations

import random

NS = "https://ex.org/ns/"
CORE = "https://uri.etsi.org/ngsi-ld/"
LOC = CORE + "location"


def expand(term: str) -> str:
    if "://" in term or term.startswith("urn:"):
        return term
    if term.startswith("ex:"):
        return NS + term[3:]
    if term in ("location", "observationSpace", "operationSpace"):
        return CORE + term
    return NS + term


def a(name: str) -> str:
    return expand(name)


TS = "2026-11-21T10:00:00.000Z"


def prop(value, **extra):
    return {"type": "Property", "value": value, "createdAt": TS, "modifiedAt": TS, **extra}


def rel(obj, **extra):
    return {"type": "Relationship", "object": obj, "createdAt": TS, "modifiedAt": TS, **extra}


def geo(gtype, coords, **extra):
    return {
        "type": "GeoProperty",
        "value": {"type": gtype, "coordinates": coords},
        "createdAt": TS,
        "modifiedAt": TS,
        **extra,
    }


def lang(m, **extra):
    return {"type": "LanguageProperty", "languageMap": m, **extra}


def vocab(v, **extra):
    return {"type": "VocabProperty", "vocab": v, **extra}


def listprop(v, **extra):
    return {"type": "ListProperty", "valueList": v, **extra}


def listrel(objs, **extra):
    return {"type": "ListRelationship", "objectList": [{"object": o} for o in objs], **extra}


def jsonprop(v, **extra):
    return {"type": "JsonProperty", "json": v, **extra}


def entity(eid, types, attrs, scope=None, created=TS, modified=TS):
    d = {
        "id": eid,
        "type": [expand(t) for t in types],
        "createdAt": created,
        "modifiedAt": modified,
        "attrs": {expand(k): v for k, v in attrs.items()},
    }
    if scope is not None:
        d["scope"] = scope
    return d


def handmade() -> list[dict]:
    return [
        entity(
            "urn:ngsi-ld:Parking:1",
            ["Parking"],
            {
                "availableSpotNumber": [
                    prop(
                        121,
                        observedAt="2026-11-21T10:05:00.000Z",
                        unitCode="C62",
                        attrs={a("reliability"): [prop(0.7)]},
                    )
                ],
                "name": [prop("Pfaff-Areal")],
                "location": [geo("Point", [7.756, 49.444])],
                "category": [vocab(NS + "commercial")],
            },
            scope=["/Kaiserslautern/Pfaff-Areal"],
        ),
        entity(
            "urn:ngsi-ld:Parking:2",
            ["Parking"],
            {
                "availableSpotNumber": [prop(0, observedAt="2026-11-20T08:00:00.000Z")],
                "name": [prop('Altstadt "Nord"')],
                "location": [geo("Point", [7.769, 49.445])],
                "category": [vocab([NS + "public", NS + "commercial"])],
            },
            scope=["/Kaiserslautern/Altstadt", "/Kaiserslautern/Altstadt/Nord"],
        ),
        entity(
            "urn:ngsi-ld:Vehicle:A1",
            ["Vehicle", "Device"],
            {
                "speed": [prop(50, datasetId="urn:ds:gps"), prop(48.5, datasetId="urn:ds:radar")],
                "isParked": [rel("urn:ngsi-ld:Parking:1", observedAt="2026-11-21T09:00:00.000Z")],
                "tags": [prop(["red", "fast", 7])],
                "location": [
                    geo("Point", [7.75, 49.44]),
                    geo("Point", [8.4, 49.0], datasetId="urn:ds:home"),
                ],
                "inService": [prop(True)],
            },
            scope=["/Kaiserslautern"],
        ),
        entity(
            "urn:ngsi-ld:Vehicle:B2",
            ["Vehicle"],
            {
                "speed": [prop(120)],
                "isParked": [rel(["urn:ngsi-ld:Parking:1", "urn:ngsi-ld:Parking:2"])],
                "tags": [prop(["blue"])],
                "inService": [prop(False)],
                "address": [
                    prop(
                        {
                            "streetAddress": "Pfaffstraße 1",
                            "postalCode": "67655",
                            "geo": {"city": "Kaiserslautern"},
                        }
                    )
                ],
            },
        ),
        entity(
            "urn:ngsi-ld:Building:Rathaus",
            ["Building"],
            {
                "name": [lang({"de": "Rathaus", "en": "Town Hall"})],
                "floors": [prop(21)],
                "location": [
                    geo(
                        "Polygon",
                        [
                            [
                                [7.768, 49.443],
                                [7.771, 49.443],
                                [7.771, 49.446],
                                [7.768, 49.446],
                                [7.768, 49.443],
                            ]
                        ],
                    )
                ],
                "dateOpened": [prop({"@type": "DateTime", "@value": "1968-05-02T10:00:00Z"})],
                "owner": [listrel(["urn:ngsi-ld:City:KL", "urn:ngsi-ld:Org:Stadtwerke"])],
                "measurements": [listprop([3, 5, 8])],
                "config": [jsonprop({"mode": "eco", "levels": [1, 2]})],
            },
            scope=["/Kaiserslautern/Innenstadt"],
        ),
        entity(
            "urn:ngsi-ld:Building:Stiftskirche",
            ["Building", "Church"],
            {
                "name": [
                    lang({"de": ["Stiftskirche", "Ev. Stiftskirche"], "en": "Collegiate Church"})
                ],
                "floors": [prop(2.5)],
                "location": [geo("Point", [7.7715, 49.4437])],
                "dateOpened": [prop({"@type": "DateTime", "@value": "1350-01-01T00:00:00Z"})],
                "category": [vocab(NS + "religious")],
            },
            scope=["/Kaiserslautern/Innenstadt/Kirchen"],
            created="2025-01-01T00:00:00.000Z",
            modified="2025-06-01T00:00:00.000Z",
        ),
        entity(
            "urn:ngsi-ld:Road:A6",
            ["Road"],
            {
                "location": [geo("LineString", [[7.6, 49.45], [7.9, 49.43]])],
                "name": [prop("A6")],
                "lanes": [prop("4")],  # a number as a string: never equal to 4
            },
        ),
        entity("urn:ngsi-ld:Device:empty", ["Device"], {}),
        entity(
            "urn:ngsi-ld:Device:nested",
            ["Device"],
            {
                "temperature": [
                    prop(
                        21.5,
                        observedAt="2026-11-21T10:00:00.000Z",
                        unitCode="CEL",
                        attrs={
                            a("accuracy"): [prop(0.5, attrs={a("method"): [prop("calibrated")]})],
                            a("source"): [rel("urn:ngsi-ld:Sensor:9")],
                        },
                    )
                ],
                "status": [prop("ok"), prop("degraded", datasetId="urn:ds:backup")],
                "lastSeen": [prop("2026-11-21T09:59:59Z")],
                "nullish": [prop(None)],
            },
            scope=["/Mannheim/Quadrate"],
        ),
        entity(
            "urn:ngsi-ld:Device:weird",
            ["https://other.org/types/Sensor"],
            {
                "https://other.org/props/level": [prop(3)],
                "temperature": [prop("hot")],
                "tags": [prop([["nested"], {"x": 1}])],
                "address": [prop([{"postalCode": "67655"}])],
            },
        ),
    ]


def generated(n: int = 30, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    streets = ["Marktstraße", "Eisenbahnstraße", "Fackelstraße", "Schillerplatz", "Mühlstraße"]
    docs = []
    for k in range(n):
        attrs: dict = {}
        if rnd.random() < 0.8:
            v = rnd.choice([rnd.randint(-5, 35), round(rnd.uniform(-5, 35), 2)])
            attrs["temperature"] = [
                prop(
                    v,
                    observedAt=f"2026-11-{rnd.randint(10, 28)}T{rnd.randint(0, 23):02d}:00:00.000Z",
                    unitCode=rnd.choice(["CEL", "FAH"]),
                )
            ]
            if rnd.random() < 0.3:
                attrs["temperature"].append(
                    prop(rnd.randint(-5, 35), datasetId=f"urn:ds:{rnd.randint(1, 3)}")
                )
        if rnd.random() < 0.7:
            attrs["name"] = [prop(f"{rnd.choice(streets)} {rnd.randint(1, 60)}")]
        if rnd.random() < 0.4:
            attrs["tags"] = [
                prop(rnd.sample(["red", "green", "blue", "fast", "slow"], rnd.randint(0, 3)))
            ]
        if rnd.random() < 0.5:
            attrs["isParked"] = [rel(f"urn:ngsi-ld:Parking:{rnd.randint(1, 3)}")]
        if rnd.random() < 0.5:
            attrs["inService"] = [prop(rnd.random() < 0.5)]
        if rnd.random() < 0.6:
            lon, lat = 7.70 + rnd.random() * 0.12, 49.40 + rnd.random() * 0.08
            attrs["location"] = [geo("Point", [round(lon, 5), round(lat, 5)])]
        if rnd.random() < 0.3:
            attrs["address"] = [
                prop(
                    {
                        "streetAddress": rnd.choice(streets),
                        "postalCode": rnd.choice(["67655", "67657", "68159"]),
                    }
                )
            ]
        if rnd.random() < 0.3:
            attrs["dateOpened"] = [
                prop(
                    {
                        "@type": "DateTime",
                        "@value": f"20{rnd.randint(10, 26)}-0{rnd.randint(1, 9)}"
                        f"-1{rnd.randint(0, 9)}T12:00:00Z",
                    }
                )
            ]
        scope = None
        if rnd.random() < 0.5:
            scope = [
                rnd.choice(
                    [
                        "/Kaiserslautern",
                        "/Kaiserslautern/Altstadt",
                        "/Kaiserslautern/Innenstadt",
                        "/Mannheim/Quadrate",
                        "/Kaiserslautern/Altstadt/Nord",
                    ]
                )
            ]
        types = rnd.choice([["Vehicle"], ["Device"], ["Parking"], ["Vehicle", "Device"]])
        docs.append(
            entity(
                f"urn:ngsi-ld:Gen:{k:03d}",
                types,
                attrs,
                scope=scope,
                modified=f"2026-11-{rnd.randint(10, 28)}T00:00:00.000Z",
            )
        )
    return docs


def all_docs() -> list[dict]:
    return handmade() + generated()
