"""The live district on the citizens' pages: current values in plain language, a page per kind of
data with charts, the measure's values, constant cost, personal data only aggregated."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from herzstadt.ngsi.auth import system_principal
from herzstadt.ngsi.params import WriteOptions
from herzstadt.ngsi.service import Req, batch_upsert
from herzstadt.ngsi.tenants import delete_tenant
from herzstadt.urbandata import access, history, live
from herzstadt.urbandata.broker import get_broker
from herzstadt.urbandata.charts import Point

pytestmark = pytest.mark.django_db(transaction=True)

SDM_ENV = "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"


def test_district_page_shows_current_values_in_plain_language(client, demo):
    html = client.get("/stadtteile/pfaff-areal/").content.decode()
    assert "Was hier gemessen wird" in html
    # what, value, unit in words, time, comparison, sensor
    assert "Stickstoffdioxid (NO₂)" in html and "34,2 µg/m³" in html
    assert "Mikrogramm pro Kubikmeter" in html
    assert "Unter 200 µg/m³ (EU-Grenzwert für das Stundenmittel)." in html
    assert '<time datetime="2026-11-21T09:30:00+00:00" title="21. November 2026 10:30">vor ' in html
    assert "Luftmessstelle Königstraße (straßennah)" in html and "Betreiber: herzstadt Demo" in html
    # parking: share free over all spaces, counted by the broker
    assert "4 von 12 Stellplätzen sind frei (33 %)." in html
    assert "131 von 320 Stellplätzen (41 %)." in html
    # the raw API moved under "Für Entwickler", with the licence
    developers = html[html.index("Für Entwickler") :]
    assert "/ngsi-ld/v1/entities?type=https%3A%2F%2Fsmartdatamodels.org" in developers
    assert "Datenlizenz Deutschland" in developers
    assert "/stadtdaten/pfaff-areal/AirQualityObserved/" in html
    english = client.get("/en/districts/pfaff-areal/").content.decode()
    assert "Nitrogen dioxide (NO₂)" in english and "34.2 µg/m³" in english
    assert "/en/urban-data/pfaff-areal/AirQualityObserved/" in english


def test_personal_data_is_not_shown_with_fewer_than_five_sources(client, demo):
    html = client.get("/stadtteile/pfaff-areal/").content.decode()
    assert "Zu wenige Quellen" in html
    # neither the meters' names nor their readings
    assert "Wärmemengenzähler" not in html and "1.486.320" not in html
    page = client.get("/stadtdaten/pfaff-areal/SmartMeteringObservation/").content.decode()
    assert "Zu wenige Quellen" in page and "Wärmemengenzähler" not in page
    assert "1.486.320" not in page and "personenbezogene Daten: keine offenen Daten" in page


def _put(tenant, entities):
    broker = get_broker()
    request = Req(
        principal=system_principal(tenant, "test"),
        tenant=tenant,
        ctx=broker.resolver.get(None),
        body=entities,
        ld=True,
    )
    assert batch_upsert(broker, request, WriteOptions()).status in (201, 204)


def _meter(n, lon, lat, reading):
    return {
        "id": f"urn:ngsi-ld:SmartMeteringObservation:home-{n}",
        "type": "SmartMeteringObservation",
        "name": {"type": "Property", "value": f"Haushalt Nummer {n}"},
        "totalConsumption": {
            "type": "Property",
            "value": reading,
            "unitCode": "KWH",
            "observedAt": "2026-11-21T09:45:00Z",
        },
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "@context": [
            "https://raw.githubusercontent.com/smart-data-models/dataModel.Device/master/context.jsonld",
            CORE,
        ],
    }


def _station(n, lon, lat, no2):
    return {
        "id": f"urn:ngsi-ld:AirQualityObserved:s-{n}",
        "type": "AirQualityObserved",
        "name": {"type": "Property", "value": f"Station {n}"},
        "no2": {
            "type": "Property",
            "value": no2,
            "unitCode": "GQ",
            "observedAt": "2026-11-21T09:30:00Z",
        },
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
        "@context": [SDM_ENV, CORE],
    }


@pytest.fixture
def tenant(city):
    city.ngsi_tenant = f"live{uuid.uuid4().hex[:12]}"
    city.save()
    yield city.ngsi_tenant
    delete_tenant(get_broker(), city.ngsi_tenant)


def test_personal_data_is_shown_as_an_average_over_five_sources(client, city, tenant, monkeypatch):
    district = city.district_set.get(slug="pfaff-areal")
    lon, lat = district.centroid_lon, district.centroid_lat
    _put(tenant, [_meter(n, lon, lat, 1000 * (n + 1)) for n in range(5)])
    meter_iri = next(t for t in get_broker().store.entity_types(tenant) if "SmartMetering" in t)
    access.save_settings(city, [], [], [meter_iri])
    html = client.get("/stadtteile/pfaff-areal/").content.decode()
    assert "Zählerstand (Durchschnitt)" in html and "3.000 kWh" in html and "5 Quellen" in html
    assert "Haushalt Nummer" not in html and "4.000 kWh" not in html
    # the history: only the mean over all five, and only periods with at least five sources
    asked = []

    def reader(tenant_, ids, attr, start, end, daily):
        asked.append(tuple(ids))
        return [
            Point(start + dt.timedelta(hours=1), 111.5, sources=5),
            Point(start + dt.timedelta(hours=2), 999.5, sources=4),
        ]

    monkeypatch.setattr(history, "reader", reader)
    page = client.get("/stadtdaten/pfaff-areal/SmartMeteringObservation/").content.decode()
    assert asked and all(len(ids) == 5 for ids in asked)
    assert "Durchschnitt über alle Quellen" in page and "Verlauf: Zählerstand" in page
    assert "111,5" in page and "999,5" not in page
    assert "Haushalt Nummer" not in page and "home-1" not in page
    # four sources only: nothing but the note
    delete = Req(
        principal=system_principal(tenant, "test"),
        tenant=tenant,
        ctx=get_broker().resolver.get(None),
    )
    from herzstadt.ngsi.params import TypeFilter
    from herzstadt.ngsi.service import delete_entity

    delete_entity(get_broker(), delete, TypeFilter(), "urn:ngsi-ld:SmartMeteringObservation:home-4")
    from herzstadt.core.ttlcache import clear_all

    clear_all()
    html = client.get("/stadtteile/pfaff-areal/").content.decode()
    assert "Zu wenige Quellen" in html and "kWh" not in html


def test_page_cost_does_not_grow_with_the_data(client, city, tenant, monkeypatch):
    from herzstadt.core.ttlcache import clear_all
    from herzstadt.ngsi import service

    district = city.district_set.get(slug="pfaff-areal")
    lon, lat = district.centroid_lon, district.centroid_lat
    calls = []
    real = live.query_entities

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(live, "query_entities", counting)
    assert service.query_entities is real

    def cost(n):
        _put(tenant, [_station(i, lon, lat, 20 + i % 30) for i in range(n)])
        clear_all()
        calls.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/stadtteile/pfaff-areal/")
        assert response.status_code == 200
        return len(queries), len(calls)

    small = cost(3)
    large = cost(300)  # more than LIVE_LIMIT
    assert small == large
    html = client.get("/stadtteile/pfaff-areal/").content.decode()
    assert html.count('<li><article aria-labelledby="measured-title-s-') == live.PANEL_SENSORS
    assert "(294 weitere Sensoren)" in html
    # a second view within the TTL reads nothing from the broker
    calls.clear()
    client.get("/stadtteile/pfaff-areal/")
    assert calls == []


def test_type_page_with_charts_of_24_hours_and_30_days(client, city, tenant, monkeypatch):
    district = city.district_set.get(slug="pfaff-areal")
    _put(tenant, [_station(1, district.centroid_lon, district.centroid_lat, 34.2)])
    asked = []

    def reader(tenant_, ids, attr, start, end, daily):
        asked.append((tenant_, tuple(ids), attr, daily, end - start, start))
        if daily:
            return [
                Point(start + dt.timedelta(days=d), 20.5 + d % 3, 10.25, 41.0) for d in range(30)
            ]
        return [Point(start + dt.timedelta(hours=h), 12.5 + h) for h in range(24)]

    monkeypatch.setattr(history, "reader", reader)
    page = client.get("/stadtdaten/pfaff-areal/AirQualityObserved/").content.decode()
    assert ("urn:ngsi-ld:AirQualityObserved:s-1",) in {a[1] for a in asked}
    assert {a[2] for a in asked} >= {"https://smartdatamodels.org/dataModel.Environment/no2"}
    hourly = [a for a in asked if not a[3]]
    daily = [a for a in asked if a[3]]
    # 24 clock hours (the current one begun) and 30 days (today begun)
    assert all(dt.timedelta(hours=23) <= a[4] <= dt.timedelta(hours=24) for a in hourly)
    assert all(dt.timedelta(days=29) <= a[4] <= dt.timedelta(days=30) for a in daily)
    assert hourly and daily
    assert all(a[5].minute == 0 and a[5].second == 0 for a in asked)
    assert (
        page.count('class="chart-svg"') == 2
    )  # the station has no2 only: one quantity, two periods
    assert 'role="img" aria-labelledby="chart-no2-24h-t chart-no2-24h-d"' in page
    assert (
        '<title id="chart-no2-24h-t">Stickstoffdioxid (NO₂): Stundenmittel der letzten 24 Stunden'
        in page
    )
    assert "Tagesmittel der letzten 30 Tage" in page
    assert "niedrigster Wert 12,5 µg/m³" in page
    assert "<summary>Werte als Tabelle</summary>" in page
    assert (
        "<td>20,5</td><td>10,2</td><td>41</td>" in page
        or "<td>20,5</td><td>10,3</td><td>41</td>" in page
    )
    assert "EU-Grenzwert für das Jahresmittel" in page  # the 40 µg/m³ line is drawn
    assert 'class="chart-ref"' in page
    # no JavaScript on the page's charts
    assert "<script" not in page[page.index("<main") : page.index("</main>")]
    # unknown kinds of data, other districts
    assert client.get("/stadtdaten/pfaff-areal/Nothing/").status_code == 404
    assert client.get("/stadtdaten/nowhere/AirQualityObserved/").status_code == 404


def test_type_page_charts_the_brokers_history(client, demo):
    page = client.get("/stadtdaten/pfaff-areal/NoiseLevelObserved/").content.decode()
    assert "Mittlerer Lärmpegel (LAeq)" in page and "Tag-Grenzwert für Wohngebiete" in page
    # the temporal API keeps every change, so the snapshot's values are history already
    assert "Für diese Daten wird noch kein Verlauf gespeichert." not in page
    assert 'id="chart-' in page and "<svg" in page
    other = client.get(
        "/stadtdaten/pfaff-areal/NoiseLevelObserved/",
        {"sensor": "urn:ngsi-ld:NoiseLevelObserved:kaiserslautern:pfaff-areal:quartiersplatz"},
    ).content.decode()
    assert '<h2 id="sensor-title">Lärmsensor Quartiersplatz</h2>' in other
    assert '<h2 id="sensor-title">Lärmsensor Quartiersplatz</h2>' not in page
    # an unknown sensor id shows the first sensor, never an error
    odd = client.get("/stadtdaten/pfaff-areal/NoiseLevelObserved/", {"sensor": "<x>"})
    assert odd.status_code == 200


def test_measure_page_shows_the_values_it_produces(client, demo):
    html = client.get("/massnahmen/klima-und-luftmessnetz-pfaff-areal/").content.decode()
    assert "Messwerte dieser Maßnahme" in html and "Stickstoffdioxid (NO₂)" in html
    assert "Freie Ladepunkte" not in html  # not one of its types
    other = client.get("/massnahmen/ladeinfrastruktur-pfaff-areal/").content.decode()
    assert "Freie Ladepunkte" in other and "Stickstoffdioxid" not in other
    none = client.get("/massnahmen/digitale-sprechstunde/").content.decode()
    assert "Messwerte dieser Maßnahme" not in none


def test_leichte_sprache_explains_the_values(client, demo):
    client.cookies["herzstadt_ls"] = "1"
    html = client.get("/stadtteile/pfaff-areal/").content.decode()
    assert "Hier sehen Sie Mess-Werte aus dem Stadt-Teil." in html
    assert "Es müssen mindestens 5 Haushalte sein." in html
    page = client.get("/stadtdaten/pfaff-areal/AirQualityObserved/").content.decode()
    assert "Ein Haken ✓ bedeutet" in page
    client.cookies["herzstadt_ls"] = "0"
    assert "Mess-Werte" not in client.get("/stadtteile/pfaff-areal/").content.decode()


def test_developers_see_which_data_needs_a_key(client, demo):
    html = client.get("/stadtteile/pfaff-areal/").content.decode()
    developers = html[html.index("Für Entwickler") :]
    rows = developers.split("<tr>")
    reports = next(r for r in rows if "<code>IssueReporting</code>" in r)
    assert "nur mit API-Schlüssel" in reports  # not open data: the link needs a key
    air = next(r for r in rows if "<code>AirQualityObserved</code>" in r)
    assert "nur mit API-Schlüssel" not in air and "NGSI-LD-Abfrage" in air
    page = client.get("/stadtdaten/pfaff-areal/IssueReporting/")
    assert page.status_code == 200  # no quantities: the sources by their titles, no charts
    assert "Ladesäule außer Betrieb" in page.content.decode()
    assert 'class="chart-svg"' not in page.content.decode()


def test_admin_names_the_entity_types_of_a_measure(admin_client, demo):
    from herzstadt.core.models import Measure
    from herzstadt.urbandata.models import MeasureEntityTypes

    measure = Measure.objects.get(city=demo, slug="digitale-sprechstunde")
    url = "/admin/urbandata/measureentitytypes/add/"
    assert admin_client.get(url).status_code == 200
    bad = admin_client.post(url, {"measure": measure.pk, "entity_types": '"AirQuality"'})
    assert bad.status_code == 200 and not MeasureEntityTypes.objects.filter(measure=measure)
    iri = "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved"
    ok = admin_client.post(url, {"measure": measure.pk, "entity_types": f'["{iri}", "{iri}"]'})
    assert ok.status_code == 302
    linked = MeasureEntityTypes.objects.get(measure=measure)
    assert linked.city == demo and linked.entity_types == [iri]
