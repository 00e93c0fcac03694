"""The Pfaff-Areal's sensors: which model drives which entity of the demo snapshot.

:func:`fragments` turns the snapshot (``herzstadt/urbandata/demo/pfaff-areal.jsonld``) and a time
into NGSI-LD entity fragments (normalized, each attribute with ``observedAt`` and the snapshot's
``unitCode``, the entity's ``@context``): the current values of every simulated entity.
:func:`temporal_fragments` gives the same values as attribute instances over a series of times,
for the temporal API. The parameters of each sensor (capacity, peak power, charge points, the level
of a street) are read from the snapshot, so the simulation stays true to what the city shows.
Citizens' issue reports are not simulated.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from herzstadt.urbandata.simulation import models as m

Entity = dict[str, Any]
#: Seed of the demo's simulation (any integer gives another, equally plausible district).
DEFAULT_SEED = 11


def load_snapshot(path: Path) -> list[Entity]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: not a JSON array of entities")
    return data


def iso(t: dt.datetime) -> str:
    """NGSI-LD DateTime in UTC with milliseconds."""
    u = t.astimezone(dt.UTC)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"


def _short_type(entity: Entity) -> str:
    t = str(entity.get("type", ""))
    return t.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1]


def _value(entity: Entity, name: str, default: Any = None) -> Any:
    attr = entity.get(name)
    if isinstance(attr, dict):
        return attr.get("value", default)
    return default


def _number(entity: Entity, name: str, default: float) -> float:
    v = _value(entity, name)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def _opening(entity: Entity) -> tuple[int, int]:
    """Hours of ``openingHours`` like ``Mo-Su 06:00-24:00`` (all day when missing)."""
    found = re.search(
        r"(\d{1,2}):\d{2}\s*-\s*(\d{1,2}):\d{2}", str(_value(entity, "openingHours", ""))
    )
    return (int(found.group(1)), int(found.group(2))) if found else (0, 24)


class Builder:
    """Attributes of one entity's fragment, with ``observedAt`` and the snapshot's unitCodes."""

    def __init__(self, entity: Entity, t: dt.datetime) -> None:
        self.entity = entity
        self.at = iso(t)
        self.out: Entity = {"id": entity["id"], "type": entity["type"]}
        if "@context" in entity:
            self.out["@context"] = entity["@context"]

    def prop(self, name: str, value: Any) -> None:
        attr: dict[str, Any] = {"type": "Property", "value": value, "observedAt": self.at}
        original = self.entity.get(name)
        if isinstance(original, dict) and "unitCode" in original:
            attr["unitCode"] = original["unitCode"]
        self.out[name] = attr

    def plain(self, name: str, value: Any) -> None:
        """A property as the snapshot has it (``dateObserved`` …), no ``observedAt``."""
        self.out[name] = {"type": "Property", "value": value}


def _interval(b: Builder, t: dt.datetime, minutes: int = 15) -> None:
    start = iso(t - dt.timedelta(minutes=minutes))
    b.plain("dateObserved", f"{start}/{b.at}")
    b.plain("dateObservedFrom", start)
    b.plain("dateObservedTo", b.at)


# --------------------------------------------------------------------------- one model per type
def _weather_observed(e: Entity, t: dt.datetime, seed: int, _d: Context) -> Entity:
    w = m.weather(t, seed)
    b = Builder(e, t)
    b.plain("dateObserved", b.at)
    b.prop("temperature", round(w.temperature, 1))
    b.prop("relativeHumidity", round(w.relative_humidity, 2))
    b.prop("dewPoint", round(w.dew_point, 1))
    b.prop("atmosphericPressure", round(w.pressure, 1))
    b.prop("pressureTendency", w.pressure_tendency)
    b.prop("windSpeed", round(w.wind_speed, 1))
    b.prop("windDirection", round(w.wind_direction))
    b.prop("gustSpeed", round(w.gust_speed, 1))
    b.prop("precipitation", w.precipitation)
    b.prop("solarRadiation", round(w.solar_radiation))
    b.prop("illuminance", round(w.illuminance, -1))
    return b.out


def _air_quality(e: Entity, t: dt.datetime, seed: int, _d: Context) -> Entity:
    # exposure to traffic from the snapshot's NO2 (34 µg/m³ at the busy street: 1)
    exposure = m.clamp((_number(e, "no2", 30.0) - 12) / 22, 0.1, 1.3)
    q = m.air_quality(t, seed, e["id"], exposure)
    w = m.weather(t, seed)
    b = Builder(e, t)
    b.plain("dateObserved", b.at)
    b.prop("no2", round(q.no2, 1))
    b.prop("pm10", round(q.pm10, 1))
    b.prop("pm25", round(q.pm25, 1))
    b.prop("o3", round(q.o3, 1))
    b.prop("temperature", round(w.temperature + 0.3 * exposure, 1))
    b.prop("relativeHumidity", round(w.relative_humidity, 2))
    return b.out


def _noise(e: Entity, t: dt.datetime, seed: int, _d: Context) -> Entity:
    n = m.noise_level(t, seed, e["id"], _number(e, "LAeq", 60.0))
    b = Builder(e, t)
    _interval(b, t)
    b.prop("LAeq", round(n.laeq, 1))
    b.prop("LAmax", round(n.lamax, 1))
    return b.out


def _traffic(e: Entity, t: dt.datetime, seed: int, _d: Context) -> Entity:
    f = m.traffic_flow(
        t,
        seed,
        e["id"],
        peak=_number(e, "intensity", 100.0) * 1.6,
        free_speed=_number(e, "averageVehicleSpeed", 40.0) + 8,
    )
    b = Builder(e, t)
    _interval(b, t)
    b.prop("intensity", f.intensity)
    b.prop("averageVehicleSpeed", round(f.average_speed, 1))
    b.prop("occupancy", round(f.occupancy, 2))
    b.prop("averageHeadwayTime", round(f.average_headway, 1))
    b.prop("congested", f.congested)
    return b.out


def _off_street_parking(e: Entity, t: dt.datetime, seed: int, _d: Context) -> Entity:
    total = int(_number(e, "totalSpotNumber", 100))
    opening = _opening(e)
    occupied = round(total * m.parking_occupancy(t, seed, e["id"], opening))
    free = total - occupied
    h, _wd = m.local_hour(t)
    b = Builder(e, t)
    b.prop("availableSpotNumber", free)
    b.prop("occupiedSpotNumber", occupied)
    b.prop("occupancy", round(occupied / total, 2) if total else 0.0)
    if not opening[0] <= h < opening[1]:
        status = ["closed"]
    elif free == 0:
        status = ["open", "full"]
    elif free <= 0.05 * total:
        status = ["open", "almostFull"]
    else:
        status = ["open", "spacesAvailable"]
    b.prop("status", status)
    if "firstAvailableFloor" in e:
        # drivers fill the ground floor first, then the floors nearest to it (full: the last)
        low, high = int(_number(e, "lowestFloor", 0)), int(_number(e, "highestFloor", 0))
        floors = sorted(range(low, high + 1), key=lambda f: (abs(f), f < 0))
        share = occupied / total if total else 0.0
        b.prop("firstAvailableFloor", floors[min(len(floors) - 1, int(share * len(floors)))])
    return b.out


def _parking_spot(e: Entity, t: dt.datetime, seed: int, d: Context) -> Entity:
    site = (
        e.get("refParkingSite", {}).get("object")
        if isinstance(e.get("refParkingSite"), dict)
        else None
    )
    parent = d.by_id.get(site) if isinstance(site, str) else None
    opening = _opening(parent) if parent else (0, 24)
    occupancy = m.parking_occupancy(t, seed, site or e["id"], opening)
    b = Builder(e, t)
    b.prop("status", "occupied" if m.spot_occupied(t, seed, e["id"], occupancy) else "free")
    return b.out


def _ev_charging(e: Entity, t: dt.datetime, seed: int, _d: Context) -> Entity:
    points = int(_number(e, "capacity", _number(e, "socketNumber", 2)))
    b = Builder(e, t)
    if _value(e, "status") == "outOfService":  # broken (a citizen reported it): stays so
        b.prop("availableCapacity", 0)
        b.prop("powerConsumption", 0.0)
        b.prop("status", "outOfService")
        return b.out
    amps, volts = _number(e, "amperage", 16), _number(e, "voltage", 400)
    point_kw = min(22.0, 3**0.5 * volts * amps / 1000)
    c = m.ev_charging(t, seed, e["id"], points, point_kw)
    b.prop("availableCapacity", c.available)
    b.prop("powerConsumption", round(c.power, 1))
    b.prop(
        "status",
        "full"
        if c.available == 0
        else "almostFull"
        if c.available == 1 and points > 2
        else "working",
    )
    return b.out


def _bike_station(e: Entity, t: dt.datetime, seed: int, _d: Context) -> Entity:
    total = int(_number(e, "totalSlotNumber", 10))
    broken = int(_number(e, "outOfServiceSlotNumber", 0))
    usable = max(0, total - broken)
    role = round(m.unit(seed, f"bike-role-{e['id']}", 0) * 2 - 1, 2)
    bikes = round(usable * m.bike_share(t, seed, e["id"], role))
    b = Builder(e, t)
    b.prop("availableBikeNumber", bikes)
    b.prop("freeSlotNumber", usable - bikes)
    b.prop("outOfServiceSlotNumber", broken)
    if bikes <= max(1, usable // 10):
        status = "almostEmpty"
    elif usable - bikes <= max(1, usable // 10):
        status = "almostFull"
    else:
        status = "working"
    b.prop("status", status)
    return b.out


def _photovoltaic(e: Entity, t: dt.datetime, seed: int, _d: Context) -> Entity:
    pv = m.pv_output(t, seed, _number(e, "nominalPeakPowerGeneration", 50.0), e["id"])
    b = Builder(e, t)
    b.plain("dateObserved", b.at)
    b.prop("activePower", round(pv.active_power, 1))
    b.prop("reactivePower", round(pv.reactive_power, 1))
    b.prop("current", round(pv.current, 1))
    b.prop("temperature", round(pv.module_temperature, 1))
    return b.out


def _anchor(e: Entity, name: str) -> tuple[dt.datetime, float] | None:
    attr = e.get(name)
    if not isinstance(attr, dict) or not isinstance(attr.get("value"), (int, float)):
        return None
    try:
        when = dt.datetime.fromisoformat(str(attr.get("observedAt")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when, float(attr["value"])


def _smart_meter(e: Entity, t: dt.datetime, seed: int, _d: Context) -> Entity | None:
    total = _anchor(e, "totalConsumption")
    if total is None:
        return None
    anchor, value = total
    heat = m.heat_fed_in(t, anchor, 0.0)  # kWh of heat since the snapshot (negative before)
    b = Builder(e, t)
    if str(_value(e, "meterType", "")).lower() == "heat":
        b.prop("totalConsumption", round(value + heat))
        return b.out
    electricity = heat * m.HEAT_PUMP_SHARE
    b.prop("totalConsumption", round(value + electricity))
    for name, share in (
        ("peakConsumption", m.PEAK_SHARE),
        ("offPeakConsumption", 1 - m.PEAK_SHARE),
    ):
        start = _anchor(e, name)
        if start is not None:
            b.prop(name, round(start[1] + electricity * share))
    if "powerFactor" in e:
        b.prop("powerFactor", round(0.96 + 0.02 * m.smooth(seed, f"pf-{e['id']}", t, 3600), 2))
    return b.out


class Context:
    """The snapshot, indexed (a parking spot asks for its car park)."""

    def __init__(self, entities: Sequence[Entity]) -> None:
        self.entities = list(entities)
        self.by_id = {e["id"]: e for e in self.entities if isinstance(e.get("id"), str)}


Model = Callable[[Entity, dt.datetime, int, Context], "Entity | None"]
MODELS: dict[str, Model] = {
    "WeatherObserved": _weather_observed,
    "AirQualityObserved": _air_quality,
    "NoiseLevelObserved": _noise,
    "TrafficFlowObserved": _traffic,
    "OffStreetParking": _off_street_parking,
    "ParkingSpot": _parking_spot,
    "EVChargingStation": _ev_charging,
    "BikeHireDockingStation": _bike_station,
    "PhotovoltaicMeasurement": _photovoltaic,
    "SmartMeteringObservation": _smart_meter,
}


def simulated(entities: Iterable[Entity]) -> list[Entity]:
    """The entities a model drives."""
    return [e for e in entities if _short_type(e) in MODELS]


def fragments(
    entities: Sequence[Entity],
    t: dt.datetime,
    seed: int = DEFAULT_SEED,
    context: Context | None = None,
    only: Collection[str] | None = None,
) -> list[Entity]:
    """The current values of every simulated entity at ``t`` (of those whose id is in ``only``):
    NGSI-LD fragments (normalized)."""
    if t.tzinfo is None:
        raise ValueError("the time must be timezone-aware")
    ctx = context or Context(entities)
    out = []
    for e in entities:
        model = MODELS.get(_short_type(e))
        if model is None or (only is not None and e.get("id") not in only):
            continue
        fragment = model(e, t, seed, ctx)
        if fragment is not None:
            out.append(fragment)
    return out


def overlay(entities: Sequence[Entity], t: dt.datetime, seed: int = DEFAULT_SEED) -> list[Entity]:
    """The entities with their simulated attributes at ``t`` in place of the snapshot's (what the
    demo loads when the simulation is on, so the snapshot's old values never enter the history)."""
    current = {f["id"]: f for f in fragments(entities, t, seed)}
    return [{**e, **current.get(e.get("id"), {})} for e in entities]


def quarter_hours(
    end: dt.datetime, days: int = 30, step: dt.timedelta = dt.timedelta(minutes=15)
) -> list[dt.datetime]:
    """The times of a backfill: every ``step`` on the UTC grid, from ``days`` before the last grid
    time at or before ``end`` (exclusive) up to it (inclusive): 2,880 times for 30 days."""
    seconds = int(step.total_seconds())
    last = dt.datetime.fromtimestamp(int(end.timestamp()) // seconds * seconds, dt.UTC)
    count = int(dt.timedelta(days=days) / step)
    return [last - step * i for i in range(count - 1, -1, -1)]


def temporal_fragments(
    entities: Sequence[Entity],
    times: Sequence[dt.datetime],
    seed: int = DEFAULT_SEED,
    only: Collection[str] | None = None,
) -> list[Entity]:
    """For each simulated entity, the temporal representation of its measured attributes at
    ``times``: ``{"id", "type", "@context", attr: [instance, …]}`` with one instance (``observedAt``
    set) per time, the payload of ``POST /temporal/entities/{id}/attrs``."""
    ctx = Context(entities)  # all of them: a parking space asks for its car park
    chosen = [e for e in entities if only is None or e.get("id") in only]
    merged: dict[str, Entity] = {}
    for t in times:
        for fragment in fragments(chosen, t, seed, ctx):
            target = merged.get(fragment["id"])
            if target is None:
                target = {k: fragment[k] for k in ("id", "type", "@context") if k in fragment}
                merged[fragment["id"]] = target
            for name, attr in fragment.items():
                if isinstance(attr, dict) and "observedAt" in attr:
                    target.setdefault(name, []).append(attr)
    return list(merged.values())
