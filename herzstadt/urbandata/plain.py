"""Measured values in plain language: what is measured, the value with its unit in words, when, and
how it compares with a reference (EU limit values, WHO guidelines, noise thresholds, share free).

Everything here is pure (no database, no broker): :mod:`herzstadt.urbandata.live` reads the
entities and calls these functions; the tests call them directly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from herzstadt.core.templatetags.numbers import format_number


@dataclass(frozen=True)
class Unit:
    symbol: str
    words: Any  # lazy text: the unit spoken out ("micrograms per cubic metre")


#: UN/CEFACT common codes (NGSI-LD ``unitCode``) the city's sensors use, with symbol and words.
UNITS: dict[str, Unit] = {
    "GQ": Unit("µg/m³", _("micrograms per cubic metre")),
    "P1": Unit("%", _("percent")),
    "KWT": Unit("kW", _("kilowatts")),
    "KWH": Unit("kWh", _("kilowatt hours")),
    "K5": Unit("kvar", _("kilovolt-amperes reactive")),
    "CEL": Unit("°C", _("degrees Celsius")),
    "2N": Unit("dB(A)", _("decibels (A-weighted)")),
    "MTS": Unit("m/s", _("metres per second")),
    "KMH": Unit("km/h", _("kilometres per hour")),
    "MMT": Unit("mm", _("millimetres")),
    "MTR": Unit("m", _("metres")),
    "A97": Unit("hPa", _("hectopascals")),
    "DD": Unit("°", _("degrees")),
    "SEC": Unit("s", _("seconds")),
    "AMP": Unit("A", _("amperes")),
    "VLT": Unit("V", _("volts")),
    "LUX": Unit("lx", _("lux")),
    "D54": Unit("W/m²", _("watts per square metre")),
    "C62": Unit("", ""),  # "one": a count or a share
}


def unit_of(code: str | None) -> Unit:
    if not code:
        return UNITS["C62"]
    return UNITS.get(code, Unit(code, code))


# --- references -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    """A limit value or guideline the current value is compared with (``compare=True``) or that is
    named for context (annual means can't be judged from one hour)."""

    value: float
    label: Any  # e.g. "EU limit value, hourly mean"
    compare: bool = False


#: µg/m³. Directive 2008/50/EC and (EU) 2024/2881 (2030), WHO Global Air Quality Guidelines 2021.
AIR_LIMITS: dict[str, tuple[Limit, ...]] = {
    "no2": (
        Limit(200, _("EU limit value for the hourly mean"), compare=True),
        Limit(40, _("EU limit value for the annual mean")),
        Limit(10, _("WHO guideline for the annual mean")),
    ),
    "pm10": (
        Limit(50, _("EU limit value for the daily mean"), compare=True),
        Limit(40, _("EU limit value for the annual mean")),
        Limit(15, _("WHO guideline for the annual mean")),
    ),
    "pm25": (
        Limit(15, _("WHO guideline for the daily mean"), compare=True),
        Limit(25, _("EU limit value for the annual mean (from 2030: 10)")),
        Limit(5, _("WHO guideline for the annual mean")),
    ),
    "o3": (
        Limit(180, _("EU information threshold for the hourly mean"), compare=True),
        Limit(120, _("EU target value for the highest daily 8-hour mean")),
    ),
}
#: dB(A): the 16th BImSchV's limits for residential areas (day 6–22 h, night 22–6 h).
NOISE_DAY, NOISE_NIGHT = 59.0, 49.0


def is_night(when: dt.datetime | None) -> bool:
    if when is None:
        return False
    hour = timezone.localtime(when).hour
    return hour >= 22 or hour < 6


# --- quantities -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Quantity:
    """An attribute worth showing citizens: its label, topic and how to compare it."""

    attr: str
    label: Any
    #: a share 0…1 shown as percent
    share: bool = False
    #: the attribute that holds the whole, for "x of y" (e.g. availableSpotNumber of totalSpotNumber)
    of: str | None = None
    of_label: Any = ""
    limits: tuple[Limit, ...] = ()
    noise: bool = False
    #: what a chart of it shows (attributes that are counts of a state are not charted)
    chart: bool = True


#: The topic each type belongs to ("Luftqualität") and the quantities shown, in order.
QUANTITIES: dict[str, tuple[Any, tuple[Quantity, ...]]] = {
    "AirQualityObserved": (
        _("Air quality"),
        (
            Quantity("no2", _("Nitrogen dioxide (NO₂)"), limits=AIR_LIMITS["no2"]),
            Quantity("pm10", _("Particulate matter PM10"), limits=AIR_LIMITS["pm10"]),
            Quantity("pm25", _("Fine particulate matter PM2.5"), limits=AIR_LIMITS["pm25"]),
            Quantity("o3", _("Ozone (O₃)"), limits=AIR_LIMITS["o3"]),
        ),
    ),
    "NoiseLevelObserved": (
        _("Noise"),
        (
            Quantity("LAeq", _("Average noise level (LAeq)"), noise=True),
            Quantity("LAmax", _("Loudest noise (LAmax)")),
        ),
    ),
    "WeatherObserved": (
        _("Weather"),
        (
            Quantity("temperature", _("Temperature")),
            Quantity("relativeHumidity", _("Relative humidity"), share=True),
            Quantity("windSpeed", _("Wind speed")),
            Quantity("precipitation", _("Precipitation")),
            Quantity("atmosphericPressure", _("Air pressure")),
        ),
    ),
    "TrafficFlowObserved": (
        _("Traffic"),
        (
            Quantity("intensity", _("Vehicles counted (15 minutes)")),
            Quantity("averageVehicleSpeed", _("Average speed")),
        ),
    ),
    "OffStreetParking": (
        _("Parking"),
        (
            Quantity(
                "availableSpotNumber",
                _("Free parking spaces"),
                of="totalSpotNumber",
                of_label=_("spaces"),
            ),
        ),
    ),
    "EVChargingStation": (
        _("Charging stations"),
        (
            Quantity(
                "availableCapacity",
                _("Free charging points"),
                of="capacity",
                of_label=_("charging points"),
            ),
            Quantity("powerConsumption", _("Charging power")),
        ),
    ),
    "BikeHireDockingStation": (
        _("Bike hire"),
        (
            Quantity(
                "availableBikeNumber",
                _("Bikes available"),
                of="totalSlotNumber",
                of_label=_("docks"),
            ),
            Quantity("freeSlotNumber", _("Free docks")),
        ),
    ),
    "PhotovoltaicMeasurement": (
        _("Solar power"),
        (
            Quantity(
                "activePower",
                _("Power fed in"),
                of="nominalPeakPowerGeneration",
                of_label=_("kW peak power"),
            ),
        ),
    ),
    "SmartMeteringObservation": (
        _("Energy metering"),
        (Quantity("totalConsumption", _("Meter reading")),),
    ),
}

#: ParkingSpot: one sensor per space; shown as "x of y spaces free" over all spaces.
PARKING_SPOT = "ParkingSpot"


def quantities_of(type_name: str) -> tuple[Quantity, ...]:
    return QUANTITIES.get(type_name, ("", ()))[1]


def quantity(type_name: str, attr: str) -> Quantity | None:
    return next((q for q in quantities_of(type_name) if q.attr == attr), None)


# --- formatting -------------------------------------------------------------------------------------
def format_value(value: float, q: Quantity | None = None, unit_code: str | None = None) -> str:
    """``value`` in the page's language with its unit symbol ("34,2 µg/m³", "86 %")."""
    if q is not None and q.share:
        return f"{format_number(value * 100, 0)} %"
    unit = unit_of(unit_code)
    decimals = None if abs(value) >= 100 or float(value).is_integer() else 1
    text = format_number(value, decimals)
    return f"{text} {unit.symbol}".strip() if unit.symbol else text


def ago(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "vor 5 Minuten" / "5 minutes ago"; "gerade eben" within a minute; future times: "now"."""
    now = now or timezone.now()
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return str(_("just now"))
    minutes = int(seconds // 60)
    if minutes < 60:
        return ngettext("%(n)s minute ago", "%(n)s minutes ago", minutes) % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(n)s hour ago", "%(n)s hours ago", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)s day ago", "%(n)s days ago", days) % {"n": days}


def absolute(when: dt.datetime) -> str:
    """The date and time in the city's time zone, in the page's format ("21. November 2026, 10:30")."""
    local = timezone.localtime(when)
    return formats.date_format(local, "DATETIME_FORMAT", use_l10n=True)


def parse_time(text: Any) -> dt.datetime | None:
    """An NGSI-LD DateTime ("2026-11-21T09:30:00Z"); the end of an interval "…/…"; else None."""
    if not isinstance(text, str) or not text:
        return None
    text = text.rsplit("/", 1)[-1]
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Comparison:
    text: str
    #: "ok" (below), "high" (above a limit), "share" (of a whole), "info" (context only)
    level: str = "info"


def compare(
    q: Quantity, value: float, when: dt.datetime | None, whole: float | None
) -> list[Comparison]:
    """What the value means: below or above the limit it can be judged against, the other limits
    for context, the share of a whole."""
    found: list[Comparison] = []
    unit = UNITS["GQ"].symbol
    for limit in q.limits:
        params = {"limit": format_number(limit.value), "unit": unit, "label": limit.label}
        if limit.compare:
            if value > limit.value:
                text = _("Above the %(label)s of %(limit)s %(unit)s.") % params
                found.append(Comparison(str(text), "high"))
            else:
                text = _("Below the %(label)s of %(limit)s %(unit)s.") % params
                found.append(Comparison(str(text), "ok"))
        else:
            text = _("For comparison: %(label)s: %(limit)s %(unit)s.") % params
            found.append(Comparison(str(text)))
    if q.noise:
        night = is_night(when)
        threshold = NOISE_NIGHT if night else NOISE_DAY
        params = {"limit": format_number(threshold), "unit": "dB(A)"}
        if night:
            label = _("night-time limit for residential areas (16th BImSchV)")
        else:
            label = _("daytime limit for residential areas (16th BImSchV)")
        params["label"] = label
        if value > threshold:
            found.append(
                Comparison(str(_("Above the %(label)s of %(limit)s %(unit)s.") % params), "high")
            )
        else:
            found.append(
                Comparison(str(_("Below the %(label)s of %(limit)s %(unit)s.") % params), "ok")
            )
    if q.of and whole:
        share = max(0.0, min(1.0, value / whole))
        text = _("%(value)s of %(whole)s %(what)s (%(share)s %%).") % {
            "value": format_number(value),
            "whole": format_number(whole),
            "what": q.of_label,
            "share": format_number(share * 100, 0),
        }
        found.append(Comparison(str(text), "share"))
    return found


@dataclass
class Reading:
    """One current value of one sensor, ready for the page."""

    quantity: Quantity
    value: float
    text: str  # "34,2 µg/m³"
    unit: str  # "µg/m³"
    unit_words: str
    when: dt.datetime | None
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def ago(self) -> str:
        return ago(self.when) if self.when else ""

    @property
    def absolute(self) -> str:
        return absolute(self.when) if self.when else ""

    @property
    def iso(self) -> str:
        return self.when.isoformat() if self.when else ""


def reading(
    type_name: str,
    attr: str,
    prop: Any,
    entity: dict[str, Any],
    fallback_time: Any = None,
) -> Reading | None:
    """The :class:`Reading` of one property (normalized NGSI-LD) of ``entity`` (short attribute
    names), or None when it is not a number or not a quantity worth showing."""
    q = quantity(type_name, attr)
    value = prop.get("value") if isinstance(prop, dict) else None
    if q is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    when = parse_time(prop.get("observedAt")) or parse_time(fallback_time)
    whole = number(entity.get(q.of)) if q.of else None
    unit_code = prop.get("unitCode")
    unit = unit_of(unit_code)
    return Reading(
        quantity=q,
        value=float(value),
        text=format_value(float(value), q, unit_code),
        unit="%" if q.share else unit.symbol,
        unit_words=str(UNITS["P1"].words if q.share else unit.words),
        when=when,
        comparisons=compare(q, float(value), when, whole),
    )


def number(prop: Any) -> float | None:
    value = prop.get("value") if isinstance(prop, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
