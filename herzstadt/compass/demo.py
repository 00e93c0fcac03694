"""The compass of the demo city Kaiserslautern: its guiding principles as values, goals for the
Pfaff-Areal, 18 indicators over the (simulated) Pfaff-Areal data, staff assessments and goal tags of
every demo measure, and a few citizens' ratings. Idempotent.

Every indicator reads a quantity the simulation really produces (see
``herzstadt/urbandata/simulation/district.py``). Where the issue asks for a quantity the simulation
does not have, another real one stands in (said in the indicator's description):

- "renewable share of consumption": the district's total consumption and the grid's mix are not
  simulated; the PV yield against the heat pumps' electricity (``pv-deckung-waermepumpen``) and
  the district heat per resident (``fernwaerme-je-einwohner``) take its place;
- "shared bikes per 1,000 residents": the fleet size is not published, so the bikes docked at the
  busiest moment of the day (a lower bound of the fleet) are counted.

The residents of the Pfaff-Areal (3,500) are a stated assumption of the demo, not an official
figure. The indicators are computed once when the demo loads (from what the broker holds then);
``last_computed_at`` is then cleared, so the worker's first round recomputes them with the
backfilled history, and every 5 minutes after that as the simulation goes on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model

from herzstadt.compass.models import (
    Assessment,
    Goal,
    GoalMeasure,
    Indicator,
    Rating,
    Value,
)
from herzstadt.core.models import City, District, Measure

#: stated assumption of the demo (the Pfaff-Areal is still being built)
RESIDENTS = 3500.0
#: CO2 of German grid electricity, kg per kWh (Umweltbundesamt, Strommix 2023: 380 g/kWh)
GRID_CO2 = 0.380
#: the charge points' power in kW (AC 3 × 400 V × 32 A, capped at 22 kW as the simulation does)
POINT_KW = 22.0

VALUES = [
    (
        "mensch-im-mittelpunkt",
        "Der Mensch im Mittelpunkt",
        "Technik dient den Menschen in Kaiserslautern: Gesundheit, Lebensqualität und ein "
        "Alltag ohne Hürden stehen vor jeder Lösung.",
        "Die Menschen sind am wichtigsten. Technik soll ihnen helfen.",
    ),
    (
        "beteiligung",
        "Beteiligung",
        "Die Menschen gestalten mit: Vorhaben werden mit ihnen geplant und von ihnen bewertet.",
        "Alle können mitreden. Die Stadt fragt die Menschen.",
    ),
    (
        "datenschutz-selbstbestimmung",
        "Datenschutz und Selbstbestimmung",
        "Daten aus dem Alltag der Menschen werden sparsam, zweckgebunden und offen nachvollziehbar "
        "verwendet; jede und jeder bestimmt selbst.",
        "Ihre Daten gehören Ihnen. Die Stadt nimmt nur, was sie braucht.",
    ),
    (
        "klima-umwelt",
        "Klima und Umwelt",
        "Saubere Luft, weniger Lärm und eine klimaneutrale Energieversorgung.",
        "Gute Luft. Wenig Lärm. Gut für das Klima.",
    ),
    (
        "wirtschaft-arbeit",
        "Starke lokale Wirtschaft und Arbeit",
        "Gute Erreichbarkeit und verlässliche Infrastruktur für Betriebe, Beschäftigte und "
        "Kundschaft im Quartier.",
        "Betriebe und Arbeit im Viertel sollen gut laufen.",
    ),
    (
        "offenheit-wissen",
        "Offenheit und Wissensteilung",
        "Daten und Erfahrungen werden offen geteilt – mit den Menschen und mit anderen Städten.",
        "Die Stadt teilt Daten und Wissen mit allen.",
    ),
]

GOALS = [
    # (value, slug, title, description, target, deadline, indicators)
    (
        "mensch-im-mittelpunkt",
        "gesundes-wohnumfeld-pfaff",
        "Gesundes Wohnumfeld im Pfaff-Areal",
        "Wenig Lärm am Tag und in der Nacht, wenige Hitzetage und Tropennächte.",
        "Lden unter 55 dB(A), Lnight unter 45 dB(A)",
        dt.date(2030, 12, 31),
        ["laerm-lden", "laerm-lnight", "heisse-tage", "tropennaechte"],
    ),
    (
        "beteiligung",
        "vorhaben-gemeinsam-bewerten",
        "Jedes Vorhaben im Pfaff-Areal wird mit den Menschen bewertet",
        "Bürgerinnen und Bürger bewerten die Vorhaben am Kompass, bevor sie umgesetzt werden.",
        "Eine Kompass-Bewertung je Vorhaben",
        dt.date(2027, 12, 31),
        [],
    ),
    (
        "datenschutz-selbstbestimmung",
        "daten-anonym-und-zweckgebunden",
        "Quartiersdaten nur anonym und zweckgebunden",
        "Sensoren im Quartier erfassen keine Personen; Zählerdaten erscheinen nur zusammengefasst.",
        "Keine personenbezogenen Daten in offenen Quartiersdaten",
        dt.date(2026, 12, 31),
        [],
    ),
    (
        "klima-umwelt",
        "saubere-luft-pfaff",
        "Saubere Luft im Pfaff-Areal",
        "Die Grenzwerte der EU-Luftqualitätsrichtlinie (EU) 2024/2881 für 2030 werden eingehalten.",
        "NO2 und PM10 unter 20 µg/m³, PM2,5 unter 10 µg/m³ im Jahresmittel",
        dt.date(2030, 1, 1),
        ["no2-mittel", "pm10-mittel", "pm25-mittel", "pm10-ueberschreitungstage"],
    ),
    (
        "klima-umwelt",
        "klimaneutrale-energie-pfaff",
        "Klimaneutrale Energieversorgung des Quartiers",
        "Das Quartiersenergienetz versorgt das Areal mit Sonnenstrom und Abwärme.",
        "Wärmepumpenstrom vollständig aus Photovoltaik im Jahresmittel",
        dt.date(2035, 12, 31),
        [
            "pv-ertrag",
            "pv-deckung-waermepumpen",
            "co2-strom-je-einwohner",
            "fernwaerme-je-einwohner",
        ],
    ),
    (
        "wirtschaft-arbeit",
        "erreichbares-quartier",
        "Gut erreichbares Quartier für Betriebe und Kundschaft",
        "Parken ohne Suchverkehr, Leihräder und Ladepunkte für alle, die ins Quartier kommen.",
        "Parkhäuser zu höchstens 85 % belegt; 20 Ladepunkte",
        dt.date(2028, 12, 31),
        [
            "parken-spitzenauslastung",
            "leihraeder-je-1000",
            "ladepunkte",
            "ladeleistung-auslastung",
        ],
    ),
    (
        "offenheit-wissen",
        "verlaessliche-offene-daten",
        "Offene und verlässliche Quartiersdaten",
        "Die Messstellen liefern zuverlässig; Parkdaten sind in Echtzeit offen verfügbar.",
        "95 % Datenverfügbarkeit",
        dt.date(2026, 12, 31),
        ["sensor-verfuegbarkeit", "parken-echtzeit-anteil"],
    ),
]


def _agg(entity_type: str, attribute: str, method: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "aggregate",
        "entity_type": entity_type,
        "attribute": attribute,
        "method": method,
        "interval": "PT15M",
        **extra,
    }


_PV_KWH = _agg("PhotovoltaicMeasurement", "activePower", "avg", across="sum", scale=24.0)
_HP_KWH = _agg(
    "SmartMeteringObservation",
    "totalConsumption",
    "increase",
    across="sum",
    match={"meterType": "Electricity"},
)
_HEAT_KWH = _agg(
    "SmartMeteringObservation",
    "totalConsumption",
    "increase",
    across="sum",
    match={"meterType": "Heat"},
)

#: Indicators over the energy centre's two meters (SmartMeteringObservation). The demo city marks
#: that type as personal data (households' meters would be), so the compass computes nothing over
#: fewer than K_ANONYMITY = 5 of them (``BrokerSource.guard``): these stay in the back office, where
#: their error explains the rule, and off the public page.
PERSONAL_DATA = {"pv-deckung-waermepumpen", "co2-strom-je-einwohner", "fernwaerme-je-einwohner"}

#: (slug, name, unit, direction, target, warning, period, reference, description, explanation,
#:  formula, measures)
INDICATORS: list[tuple[Any, ...]] = [
    (
        "no2-mittel",
        "Stickstoffdioxid (NO2), Mittel der letzten 24 Stunden",
        "µg/m³",
        "lower",
        20.0,
        40.0,
        "P1D",
        "ISO 37120:2018 (NO2-Konzentration); Richtlinie (EU) 2024/2881",
        "Mittel der vier Luftmessstellen im Pfaff-Areal. Ziel: Jahresgrenzwert ab 2030 (20 µg/m³); "
        "gelb bis zum heutigen Jahresgrenzwert (40 µg/m³).",
        "So viel Stickstoffdioxid war in der Luft. Es kommt vor allem aus Autoabgasen. Weniger ist besser.",
        _agg("AirQualityObserved", "no2", "avg"),
        ["klima-und-luftmessnetz-pfaff-areal"],
    ),
    (
        "pm10-mittel",
        "Feinstaub PM10, Mittel der letzten 24 Stunden",
        "µg/m³",
        "lower",
        20.0,
        40.0,
        "P1D",
        "ISO 37120:2018 (PM10-Konzentration); Richtlinie (EU) 2024/2881",
        "Mittel der Luftmessstellen im Pfaff-Areal gegen den Jahresgrenzwert ab 2030 (20 µg/m³).",
        "So viel grober Feinstaub war in der Luft. Weniger ist besser.",
        _agg("AirQualityObserved", "pm10", "avg"),
        ["klima-und-luftmessnetz-pfaff-areal"],
    ),
    (
        "pm25-mittel",
        "Feinstaub PM2,5, Mittel der letzten 24 Stunden",
        "µg/m³",
        "lower",
        10.0,
        25.0,
        "P1D",
        "ISO 37120:2018 (PM2.5-Konzentration); Richtlinie (EU) 2024/2881",
        "Mittel der Luftmessstellen gegen den Jahresgrenzwert ab 2030 (10 µg/m³); gelb bis 25 µg/m³.",
        "So viel feiner Feinstaub war in der Luft. Er geht tief in die Lunge. Weniger ist besser.",
        _agg("AirQualityObserved", "pm25", "avg"),
        ["klima-und-luftmessnetz-pfaff-areal"],
    ),
    (
        "pm10-ueberschreitungstage",
        "Tage mit PM10-Tagesmittel über 50 µg/m³ (30 Tage)",
        "Tage",
        "lower",
        0.0,
        2.0,
        "P30D",
        "Richtlinie 2008/50/EG, Anhang XI (Tagesgrenzwert 50 µg/m³)",
        "Ganze Kalendertage der letzten 30 Tage, deren Tagesmittel über 50 µg/m³ lag (ein Tag zählt, "
        "wenn mindestens 75 % seiner Viertelstunden Messwerte haben).",
        "An so vielen Tagen war sehr viel Feinstaub in der Luft.",
        _agg("AirQualityObserved", "pm10", "days_above", threshold=50.0),
        ["klima-und-luftmessnetz-pfaff-areal"],
    ),
    (
        "laerm-lden",
        "Lärm: Tag-Abend-Nacht-Pegel Lden (24 Stunden)",
        "dB(A)",
        "lower",
        55.0,
        65.0,
        "P1D",
        "Richtlinie 2002/49/EG, Anhang I (Lden)",
        "Energetisches Mittel der drei Lärmmessstellen, Abend +5 dB, Nacht +10 dB (Tag 6–18, Abend "
        "18–22, Nacht 22–6 Uhr Ortszeit).",
        "So laut war es über den ganzen Tag. Abends und nachts zählt Lärm mehr. Leiser ist besser.",
        _agg("NoiseLevelObserved", "LAeq", "lden"),
        ["klima-und-luftmessnetz-pfaff-areal"],
    ),
    (
        "laerm-lnight",
        "Lärm: Nachtpegel Lnight",
        "dB(A)",
        "lower",
        45.0,
        55.0,
        "P1D",
        "Richtlinie 2002/49/EG, Anhang I (Lnight); WHO-Leitlinien Umgebungslärm 2018",
        "Energetisches Mittel der Lärmmessstellen von 22 bis 6 Uhr Ortszeit.",
        "So laut war es in der Nacht. Leiser ist besser für den Schlaf.",
        _agg("NoiseLevelObserved", "LAeq", "lnight"),
        ["klima-und-luftmessnetz-pfaff-areal"],
    ),
    (
        "parken-spitzenauslastung",
        "Spitzenauslastung der Parkhäuser (24 Stunden)",
        "%",
        "lower",
        85.0,
        95.0,
        "P1D",
        "",
        "Höchste Viertelstunden-Belegung (Mittel der beiden Parkierungsanlagen). Über 85 % beginnt "
        "Parksuchverkehr.",
        "So voll waren die Parkhäuser zur vollsten Zeit des Tages.",
        _agg("OffStreetParking", "occupancy", "max", scale=100.0),
        ["sensorgestuetzte-parkraumerfassung-pfaff-areal"],
    ),
    (
        "parken-echtzeit-anteil",
        "Stellplätze mit Echtzeit-Belegung",
        "%",
        "higher",
        95.0,
        80.0,
        "P1D",
        "",
        "Anteil der Stellplatzsensoren, die in jeder Viertelstunde einen aktuellen Wert melden.",
        "So viele Parkplätze zeigen live, ob sie frei sind.",
        {
            "kind": "share_present",
            "entity_type": "ParkingSpot",
            "attribute": "status",
            "interval": "PT15M",
            "scale": 100.0,
        },
        ["sensorgestuetzte-parkraumerfassung-pfaff-areal"],
    ),
    (
        "leihraeder-je-1000",
        "Leihräder je 1.000 Einwohnerinnen und Einwohner",
        "je 1.000 EW",
        "higher",
        10.0,
        5.0,
        "P1D",
        "U4SSC (Shared bicycles)",
        "Die Flottengröße wird nicht gemeldet: gezählt werden die Räder, die zur vollsten Stunde "
        "des Tages in den drei Stationen stehen (eine Untergrenze), je 1.000 der angenommenen "
        "3.500 Einwohnerinnen und Einwohner.",
        "So viele Leihräder gibt es für 1.000 Menschen im Viertel.",
        {
            "kind": "per_capita",
            "formula": _agg("BikeHireDockingStation", "availableBikeNumber", "max", across="sum"),
            "population": RESIDENTS,
            "per": 1000.0,
        },
        ["mobilitaetsstation-pfaff-areal"],
    ),
    (
        "ladepunkte",
        "Öffentliche Ladepunkte für E-Autos",
        "Ladepunkte",
        "higher",
        20.0,
        10.0,
        "P1D",
        "ISO 37122:2019 (Ladestationen für Elektrofahrzeuge)",
        "Summe der Ladepunkte (capacity) aller Ladestationen im Pfaff-Areal.",
        "So viele Stellen zum Laden von E-Autos gibt es.",
        {
            "kind": "inventory",
            "entity_type": "EVChargingStation",
            "attribute": "capacity",
            "method": "sum",
        },
        ["ladeinfrastruktur-pfaff-areal", "mobilitaetsstation-pfaff-areal"],
    ),
    (
        "ladeleistung-auslastung",
        "Auslastung der Ladepunkte (Ladeleistung, 24 Stunden)",
        "%",
        "higher",
        30.0,
        15.0,
        "P1D",
        "",
        "Mittlere abgegebene Ladeleistung aller Stationen im Verhältnis zu ihrer Nennleistung "
        "(Ladepunkte × 22 kW). Gestörte Ladepunkte liefern keine Leistung.",
        "So viel werden die Ladestellen genutzt.",
        {
            "kind": "ratio",
            "numerator": _agg("EVChargingStation", "powerConsumption", "avg", across="sum"),
            "denominator": {
                "kind": "inventory",
                "entity_type": "EVChargingStation",
                "attribute": "capacity",
                "method": "sum",
                "scale": POINT_KW,
            },
            "scale": 100.0,
        },
        ["ladeinfrastruktur-pfaff-areal"],
    ),
    (
        "pv-ertrag",
        "Photovoltaik-Ertrag (24 Stunden)",
        "kWh",
        "higher",
        1000.0,
        400.0,
        "P1D",
        "ISO 37120:2018 (Energie aus erneuerbaren Quellen)",
        "Mittlere Wirkleistung der vier PV-Anlagen (589 kWp) × 24 Stunden.",
        "So viel Strom haben die Solaranlagen im Viertel an einem Tag gemacht.",
        _PV_KWH,
        ["quartiersenergienetz-pfaff-areal"],
    ),
    (
        "pv-deckung-waermepumpen",
        "PV-Ertrag im Verhältnis zum Wärmepumpenstrom",
        "%",
        "higher",
        100.0,
        50.0,
        "P1D",
        "",
        "Steht für den Anteil erneuerbarer Energie am Verbrauch (Gesamtverbrauch und Strommix "
        "werden nicht gemessen): PV-Ertrag geteilt durch den Stromverbrauch der Wärmepumpen "
        "des Quartiersnetzes.",
        "So viel vom Strom für die Heizung kommt rechnerisch von der Sonne.",
        {"kind": "ratio", "numerator": _PV_KWH, "denominator": _HP_KWH, "scale": 100.0},
        ["quartiersenergienetz-pfaff-areal"],
    ),
    (
        "co2-strom-je-einwohner",
        "CO2 aus Netzstrom der Wärmepumpen je Einwohnerin und Einwohner (24 Stunden)",
        "kg",
        "lower",
        0.2,
        0.6,
        "P1D",
        "ISO 37120:2018 (Treibhausgasemissionen je Einwohner)",
        "(Wärmepumpenstrom − PV-Ertrag, mindestens 0) × 0,380 kg CO2/kWh (Umweltbundesamt, "
        "Strommix 2023) je angenommener Einwohnerin und Einwohner (3.500).",
        "So viel CO2 entsteht für den Heizstrom, der nicht von der Sonne kommt, pro Person.",
        {
            "kind": "per_capita",
            "formula": {
                "kind": "difference",
                "minuend": _HP_KWH,
                "subtrahend": _PV_KWH,
                "floor": 0.0,
                "scale": GRID_CO2,
            },
            "population": RESIDENTS,
            "per": 1.0,
        },
        ["quartiersenergienetz-pfaff-areal"],
    ),
    (
        "fernwaerme-je-einwohner",
        "Wärme aus dem Quartiersnetz je Einwohnerin und Einwohner (24 Stunden)",
        "kWh",
        "lower",
        15.0,
        25.0,
        "P1D",
        "ISO 37120:2018 (Energieverbrauch je Einwohner)",
        "Zuwachs des Wärmezählers der Netzeinspeisung je angenommener Einwohnerin und Einwohner.",
        "So viel Wärme hat das Viertel pro Person an einem Tag gebraucht.",
        {"kind": "per_capita", "formula": _HEAT_KWH, "population": RESIDENTS, "per": 1.0},
        ["quartiersenergienetz-pfaff-areal"],
    ),
    (
        "heisse-tage",
        "Heiße Tage (Höchstwert ab 30 °C, 30 Tage)",
        "Tage",
        "lower",
        0.0,
        2.0,
        "P30D",
        "Deutscher Wetterdienst: Kenntag „heißer Tag“",
        "Ganze Kalendertage der letzten 30 Tage, an denen die Wetterstation mindestens 30 °C maß.",
        "An so vielen Tagen war es sehr heiß.",
        _agg("WeatherObserved", "temperature", "daily_max_above", threshold=30.0),
        ["klima-und-luftmessnetz-pfaff-areal"],
    ),
    (
        "tropennaechte",
        "Tropennächte (Tiefstwert ab 20 °C, 30 Tage)",
        "Nächte",
        "lower",
        0.0,
        2.0,
        "P30D",
        "Deutscher Wetterdienst: Kenntag „Tropennacht“",
        "Nächte (18–6 Uhr Ortszeit) der letzten 30 Tage, in denen es nicht unter 20 °C abkühlte.",
        "In so vielen Nächten blieb es sehr warm. Dann schlafen viele schlecht.",
        _agg("WeatherObserved", "temperature", "nightly_min_above", threshold=20.0),
        ["klima-und-luftmessnetz-pfaff-areal"],
    ),
    (
        "sensor-verfuegbarkeit",
        "Verfügbarkeit der Umweltsensoren (24 Stunden)",
        "%",
        "higher",
        95.0,
        80.0,
        "P1D",
        "",
        "Mittel der Anteile der Luft-, Lärm-, Wetter- und Verkehrssensoren, die je Viertelstunde "
        "einen Wert liefern.",
        "So zuverlässig melden die Messgeräte im Viertel ihre Werte.",
        {
            "kind": "mean",
            "terms": [
                {"kind": "share_present", "entity_type": t, "attribute": a, "interval": "PT15M"}
                for t, a in (
                    ("AirQualityObserved", "no2"),
                    ("NoiseLevelObserved", "LAeq"),
                    ("WeatherObserved", "temperature"),
                    ("TrafficFlowObserved", "intensity"),
                )
            ],
            "scale": 100.0,
        },
        ["klima-und-luftmessnetz-pfaff-areal", "offene-daten-kaiserslautern"],
    ),
]

#: staff assessments: measure → [(goal, score, reason)]
ASSESSMENTS: dict[str, list[tuple[str, int, str]]] = {
    "mobilitaetsstation-pfaff-areal": [
        ("erreichbares-quartier", 2, "Leihräder, Carsharing und Ladepunkte an einem Ort."),
        ("saubere-luft-pfaff", 1, "Weniger Autofahrten ins Quartier."),
        ("gesundes-wohnumfeld-pfaff", 1, "Weniger Verkehrslärm, wenn Wege mit dem Rad gehen."),
    ],
    "sensorgestuetzte-parkraumerfassung-pfaff-areal": [
        ("erreichbares-quartier", 2, "Freie Plätze sind live sichtbar; weniger Suchverkehr."),
        ("verlaessliche-offene-daten", 1, "Belegungsdaten sind offene Daten."),
        ("daten-anonym-und-zweckgebunden", 0, "Sensoren erfassen Belegung, keine Kennzeichen."),
    ],
    "ladeinfrastruktur-pfaff-areal": [
        ("erreichbares-quartier", 1, "Laden beim Einkauf und am Arbeitsplatz."),
        ("klimaneutrale-energie-pfaff", 1, "Elektromobilität mit Strom aus dem Quartier."),
    ],
    "quartiersenergienetz-pfaff-areal": [
        ("klimaneutrale-energie-pfaff", 2, "Wärmepumpen, Abwärme und Photovoltaik."),
        ("daten-anonym-und-zweckgebunden", -1, "Zählerdaten der Haushalte sind personenbezogen."),
    ],
    "klima-und-luftmessnetz-pfaff-areal": [
        ("saubere-luft-pfaff", 1, "Messen ist die Voraussetzung für wirksame Maßnahmen."),
        ("gesundes-wohnumfeld-pfaff", 1, "Lärm und Hitze werden sichtbar."),
        ("verlaessliche-offene-daten", 2, "Alle Messwerte sind offene Daten."),
    ],
    "beteiligung-zukunft-pfaff-areal": [
        ("vorhaben-gemeinsam-bewerten", 2, "Die Bürgerschaft hat das Leitbild mitgeschrieben."),
    ],
    "quartiersplattform-pfaff-areal": [
        ("vorhaben-gemeinsam-bewerten", 1, "Ein Ort für Rückmeldungen aus der Nachbarschaft."),
        ("daten-anonym-und-zweckgebunden", -1, "Konten und Profile brauchen klare Regeln."),
    ],
    "digitaler-zwilling-pfaff-areal": [
        ("verlaessliche-offene-daten", 2, "Übernommen aus Solingen; Modelle offen geteilt."),
        ("gesundes-wohnumfeld-pfaff", 1, "Hitze- und Lärmszenarien vor dem Bauen prüfen."),
    ],
    "adaptive-strassenbeleuchtung-pfaff-areal": [
        ("klimaneutrale-energie-pfaff", 1, "Weniger Strom für Licht."),
        ("gesundes-wohnumfeld-pfaff", 1, "Weniger Lichtverschmutzung in der Nacht."),
    ],
    "offene-daten-kaiserslautern": [
        ("verlaessliche-offene-daten", 2, "Das Portal veröffentlicht die Quartiersdaten."),
    ],
    "digitale-sprechstunde": [
        ("vorhaben-gemeinsam-bewerten", 1, "Niedrigschwelliger Kontakt zur Verwaltung."),
    ],
    "ziel-und-wertekompass": [
        ("vorhaben-gemeinsam-bewerten", 2, "Der Kompass macht Bewertungen möglich."),
        ("verlaessliche-offene-daten", 1, "Indikatoren sind offene Daten."),
    ],
}

#: citizens' ratings: measure → {value: [scores of demo persons]}
RATINGS: dict[str, dict[str, list[int]]] = {
    "mobilitaetsstation-pfaff-areal": {
        "mensch-im-mittelpunkt": [2, 1, 2, 1],
        "klima-umwelt": [2, 2, 1, 1],
        "wirtschaft-arbeit": [1, 0, 1, 2],
    },
    "quartiersenergienetz-pfaff-areal": {
        "klima-umwelt": [2, 2, 2, 1],
        "datenschutz-selbstbestimmung": [-1, 0, -1, 0],
    },
    "sensorgestuetzte-parkraumerfassung-pfaff-areal": {
        "wirtschaft-arbeit": [1, 2, 1, 0],
        "datenschutz-selbstbestimmung": [0, -1, 1, 0],
        "offenheit-wissen": [1, 1, 2, 1],
    },
}


def load_city(city: City) -> tuple[int, int]:
    """The compass of ``city`` (Kaiserslautern's data); returns (indicators, assessments)."""
    pfaff = District.objects.filter(city=city, slug="pfaff-areal").first()
    values = {}
    for position, (slug, name, description, ls_description) in enumerate(VALUES):
        values[slug], _ = Value.objects.update_or_create(
            city=city,
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "ls_description": ls_description,
                "position": position,
            },
        )
    indicators = {}
    for position, row in enumerate(INDICATORS):
        (
            slug,
            name,
            unit,
            direction,
            target,
            warning,
            period,
            reference,
            description,
            explanation,
            formula,
            _measures,
        ) = row
        indicators[slug], _ = Indicator.objects.update_or_create(
            city=city,
            slug=slug,
            defaults={
                "name": name,
                "unit": unit,
                "direction": direction,
                "target": target,
                "warning": warning,
                "period": period,
                "reference": reference,
                "description": description,
                "explanation": explanation,
                "ls_explanation": explanation,
                "formula": formula,
                "schedule_minutes": 5,
                "district": pfaff,
                "position": position,
                "is_public": slug not in PERSONAL_DATA,
            },
        )
    measures = {m.slug: m for m in Measure.objects.filter(city=city)}
    for row in INDICATORS:
        indicators[row[0]].measures.set([measures[s] for s in row[11] if s in measures])
    goals = {}
    for position, (value, slug, title, description, target, deadline, linked) in enumerate(GOALS):
        goal, _ = Goal.objects.update_or_create(
            city=city,
            slug=slug,
            defaults={
                "value": values[value],
                "title": title,
                "description": description,
                "target": target,
                "deadline": deadline,
                "district": pfaff,
                "position": position,
            },
        )
        goal.indicators.set([indicators[s] for s in linked])
        goals[slug] = goal
    author = get_user_model().objects.filter(username="stadt@demo.herzstadt.invalid").first()
    assessments = 0
    for measure_slug, rows in ASSESSMENTS.items():
        measure = measures.get(measure_slug)
        if measure is None:
            continue
        for goal_slug, score, reason in rows:
            Assessment.objects.update_or_create(
                measure=measure,
                goal=goals[goal_slug],
                defaults={"city": city, "score": score, "reason": reason, "author": author},
            )
            assessments += 1
            if score > 0:
                GoalMeasure.objects.get_or_create(city=city, goal=goals[goal_slug], measure=measure)
    people = list(
        get_user_model().objects.filter(username__startswith="demo-").order_by("username")[:4]
    )
    for measure_slug, by_value in RATINGS.items():
        measure = measures.get(measure_slug)
        if measure is None:
            continue
        for value_slug, scores in by_value.items():
            for person, score in zip(people, scores, strict=False):
                Rating.objects.update_or_create(
                    user=person,
                    measure=measure,
                    value=values[value_slug],
                    defaults={"city": city, "score": score},
                )
    return len(indicators), assessments


def demo_loader(context: Any) -> str:
    """The pillar's ``DemoLoader``: the compass of every demo city with urban data (Kaiserslautern),
    computed once."""
    from herzstadt.compass import services

    city = context.cities.get("kaiserslautern")
    if city is None:
        return ""
    count, assessments = load_city(city)
    computed = services.compute_city(city)
    with_value = Indicator.objects.filter(city=city, last_value__isnull=False).count()
    # the worker's first round recomputes them with the history the demo backfills next
    Indicator.objects.filter(city=city).update(last_computed_at=None)
    return (
        f"values compass: {count} indicators ({computed} computed, {with_value} with a value), "
        f"{assessments} assessments"
    )
