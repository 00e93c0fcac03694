"""Simulation models of the Pfaff-Areal: pure, seeded, deterministic functions of the time.

Every function takes the time (an aware ``datetime``), a ``seed`` and the parameters of one sensor
and returns values; nothing here reads a clock, a random generator or a database. The same seed and
time give the same values, so history (the backfill) and the live stream (``herzstadt simulate``)
are one continuous series. Randomness comes from :func:`unit` (a hash of seed, key and step) and
:func:`smooth` (value noise: hashed knots, cosine-interpolated), so values drift instead of jumping.

People's rhythms (traffic, parking, commuting) follow the local time of Kaiserslautern
(Europe/Berlin, with summer time); the sun follows UTC and the site's position (49.44° N,
7.77° E). Magnitudes are those of a German inner-city district; units are the Smart Data Models'
(see :mod:`herzstadt.urbandata.simulation.district`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

LATITUDE = 49.44
LONGITUDE = 7.77
LOCAL = ZoneInfo("Europe/Berlin")
#: Public holidays are ignored; Saturday and Sunday are the weekend.
SATURDAY, SUNDAY = 5, 6


# --------------------------------------------------------------------------- deterministic noise
@lru_cache(maxsize=65536)  # knots repeat: every time between two knots asks for both
def unit(seed: int, key: str, step: int) -> float:
    """A uniform number in [0, 1) for (seed, key, step): the same arguments, the same number."""
    digest = hashlib.blake2b(f"{seed}|{key}|{step}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def smooth(seed: int, key: str, t: dt.datetime, period: float) -> float:
    """Value noise in [-1, 1] that changes smoothly over ``period`` seconds (one knot a period)."""
    x = t.timestamp() / period
    i = math.floor(x)
    f = x - i
    a = unit(seed, key, i) * 2 - 1
    b = unit(seed, key, i + 1) * 2 - 1
    w = (1 - math.cos(math.pi * f)) / 2
    return a + (b - a) * w


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def local_hour(t: dt.datetime) -> tuple[float, int]:
    """The local (Europe/Berlin) hour of the day as a fraction, and the weekday (Monday 0)."""
    lt = t.astimezone(LOCAL)
    return lt.hour + lt.minute / 60 + lt.second / 3600, lt.weekday()


def _bump(h: float, centre: float, width: float) -> float:
    """A Gaussian bump of height 1 around ``centre`` (hours, wrapping around midnight)."""
    d = min(abs(h - centre), 24 - abs(h - centre))
    return math.exp(-0.5 * (d / width) ** 2)


def day_of_year(t: dt.datetime) -> float:
    u = t.astimezone(dt.UTC)
    return u.timetuple().tm_yday - 1 + (u.hour + u.minute / 60 + u.second / 3600) / 24


# --------------------------------------------------------------------------- the sun
def solar_elevation(t: dt.datetime, lat: float = LATITUDE, lon: float = LONGITUDE) -> float:
    """The sun's elevation above the horizon in degrees (NOAA's approximation: declination and
    equation of time from the fractional year; accurate to a few tenths of a degree)."""
    u = t.astimezone(dt.UTC)
    year_days = 366 if u.year % 4 == 0 and (u.year % 100 != 0 or u.year % 400 == 0) else 365
    hour = u.hour + u.minute / 60 + u.second / 3600
    g = 2 * math.pi / year_days * (u.timetuple().tm_yday - 1 + (hour - 12) / 24)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    true_solar_minutes = hour * 60 + eqtime + 4 * lon
    hour_angle = math.radians(true_solar_minutes / 4 - 180)
    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(
        hour_angle
    )
    return 90 - math.degrees(math.acos(clamp(cos_zenith, -1.0, 1.0)))


def clear_sky_irradiance(elevation: float) -> float:
    """Global horizontal irradiance under a clear sky, W/m² (Haurwitz's model)."""
    if elevation <= 0:
        return 0.0
    cos_z = math.sin(math.radians(elevation))
    return 1098 * cos_z * math.exp(-0.057 / cos_z)


# --------------------------------------------------------------------------- weather
@dataclass(frozen=True, slots=True)
class Weather:
    temperature: float  # °C
    relative_humidity: float  # 0..1
    dew_point: float  # °C
    pressure: float  # hPa at the station (about 240 m above sea level)
    pressure_tendency: str  # raising, falling, steady
    wind_speed: float  # m/s
    wind_direction: float  # degrees, where the wind comes from
    gust_speed: float  # m/s
    precipitation: float  # mm in the last hour
    cloud_cover: float  # 0..1
    solar_radiation: float  # W/m² on the horizontal
    illuminance: float  # lux


def cloud_cover(t: dt.datetime, seed: int) -> float:
    """Cloud cover 0..1: weather systems of a few days and showers of hours; more in winter."""
    winter = math.cos(2 * math.pi * (day_of_year(t) - 15) / 365.25)  # 1 in January
    synoptic = smooth(seed, "clouds-days", t, 2.5 * 86400)
    hours = smooth(seed, "clouds-hours", t, 3 * 3600)
    return clamp(0.55 + 0.15 * winter + 0.35 * synoptic + 0.2 * hours, 0.0, 1.0)


def _pressure(t: dt.datetime, seed: int) -> float:
    return (
        984.0
        + 9.0 * smooth(seed, "pressure", t, 3 * 86400)
        + 2.0 * smooth(seed, "pressure-h", t, 8 * 3600)
    )


def air_temperature(t: dt.datetime, seed: int, clouds: float | None = None) -> float:
    """Air temperature, °C: the season (coldest late January, about 1 °C, warmest late July,
    about 19 °C, the climate of Kaiserslautern), a daily cycle (lowest before sunrise, highest
    mid-afternoon) damped by clouds, and weather systems of a few days (±4 °C)."""
    if clouds is None:
        clouds = cloud_cover(t, seed)
    season = 9.8 - 9.0 * math.cos(2 * math.pi * (day_of_year(t) - 22) / 365.25)
    summer = 1 - math.cos(2 * math.pi * (day_of_year(t) - 22) / 365.25)  # 0 winter … 2 summer
    amplitude = (2.5 + 2.0 * summer) * (1 - 0.6 * clouds)
    solar_hour = (t.astimezone(dt.UTC).hour + t.minute / 60 + LONGITUDE / 15) % 24
    daily = math.cos(2 * math.pi * (solar_hour - 15) / 24)  # +1 at 15:00, -1 at 03:00
    return (
        season
        + amplitude * daily
        + 4.0 * smooth(seed, "temperature-days", t, 3 * 86400)
        + 0.15 * smooth(seed, "temperature-min", t, 90)  # gusts, the sensor's own noise
    )


@lru_cache(maxsize=4096)  # one tick asks for it once per station
def weather(t: dt.datetime, seed: int) -> Weather:
    clouds = cloud_cover(t, seed)
    temp = air_temperature(t, seed, clouds)
    elevation = solar_elevation(t)
    ghi = clear_sky_irradiance(elevation) * (1 - 0.75 * clouds**3.4)
    # relative humidity: high at night and under clouds, lower in the warm afternoon
    solar_hour = (t.astimezone(dt.UTC).hour + t.minute / 60 + LONGITUDE / 15) % 24
    rh = clamp(
        0.74
        + 0.14 * clouds
        - 0.12 * math.cos(2 * math.pi * (solar_hour - 15) / 24)
        + 0.05 * smooth(seed, "humidity", t, 5 * 3600),
        0.3,
        0.99,
    )
    # Magnus formula
    gamma = math.log(rh) + 17.62 * temp / (243.12 + temp)
    dew = 243.12 * gamma / (17.62 - gamma)
    wind = clamp(
        3.0 + 2.2 * smooth(seed, "wind", t, 12 * 3600) + 0.8 * smooth(seed, "wind-h", t, 1800),
        0.2,
        14.0,
    )
    direction = (235 + 70 * smooth(seed, "wind-dir", t, 18 * 3600)) % 360
    gust = wind * (1.5 + 0.3 * unit(seed, "gust", int(t.timestamp() // 600)))
    rain_drive = clouds - 0.78 + 0.15 * smooth(seed, "rain", t, 2 * 3600)
    precipitation = round(max(0.0, rain_drive) * 9.0, 1)
    p_now = _pressure(t, seed)
    p_before = _pressure(t - dt.timedelta(hours=3), seed)
    tendency = (
        "raising" if p_now - p_before > 1 else "falling" if p_before - p_now > 1 else "steady"
    )
    return Weather(
        temperature=temp,
        relative_humidity=rh,
        dew_point=dew,
        pressure=p_now,
        pressure_tendency=tendency,
        wind_speed=wind,
        wind_direction=direction,
        gust_speed=gust,
        precipitation=precipitation,
        cloud_cover=clouds,
        solar_radiation=ghi,
        illuminance=ghi * 110 + (20 if elevation > -6 else 0),
    )


# --------------------------------------------------------------------------- photovoltaics
@dataclass(frozen=True, slots=True)
class PvOutput:
    active_power: float  # kW
    reactive_power: float  # kvar
    current: float  # A per phase (three phases, 400 V)
    module_temperature: float  # °C


def pv_output(t: dt.datetime, seed: int, peak_kw: float, key: str = "") -> PvOutput:
    """A roof's inverter output: the irradiance of :func:`weather` (the sun at 49.44° N, clouds)
    times the peak power and a performance ratio, less at hot module temperatures; zero at night."""
    w = weather(t, seed)
    module_temp = w.temperature + 0.03 * w.solar_radiation
    derate = 1 - 0.004 * max(0.0, module_temp - 25)
    # each roof sees slightly different clouds (a few percent)
    local = 1 + 0.04 * smooth(seed, f"pv-{key}", t, 900)
    power = max(0.0, peak_kw * w.solar_radiation / 1000 * 0.84 * derate * local)
    power = min(power, peak_kw)
    current = power * 1000 / (math.sqrt(3) * 400 * 0.99) if power > 0 else 0.0
    return PvOutput(power, power * 0.04, current, module_temp)


# --------------------------------------------------------------------------- traffic and noise
def traffic_demand(t: dt.datetime) -> float:
    """Relative road traffic 0..1 by local time: weekday morning and evening peaks, a Saturday
    shopping hump, a quiet Sunday, little at night."""
    h, wd = local_hour(t)
    night = 0.04
    if wd < SATURDAY:
        value = (
            night
            + 0.85 * _bump(h, 7.6, 1.1)
            + 0.95 * _bump(h, 17.0, 1.5)
            + 0.55 * _bump(h, 12.5, 3.0)
            + 0.15 * _bump(h, 21.0, 1.5)
        )
        if wd == 4:  # Friday afternoon starts earlier
            value += 0.15 * _bump(h, 14.5, 1.5)
    elif wd == SATURDAY:
        value = night + 0.6 * _bump(h, 13.0, 3.2) + 0.1 * _bump(h, 20.0, 2.0)
    else:
        value = night + 0.35 * _bump(h, 15.0, 3.5)
    return clamp(value, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class TrafficFlow:
    intensity: int  # vehicles in 15 minutes
    average_speed: float  # km/h
    occupancy: float  # 0..1 of the time a vehicle is over the detector
    average_headway: float  # s
    congested: bool


def traffic_flow(
    t: dt.datetime, seed: int, key: str, peak: float, free_speed: float
) -> TrafficFlow:
    """A counting point with ``peak`` vehicles in 15 minutes at the rush hour."""
    jitter = 0.12 * smooth(seed, f"traffic-{key}", t, 1200) + 0.05 * smooth(
        seed, f"traffic-min-{key}", t, 60
    )
    load = clamp(traffic_demand(t) * (1 + jitter), 0, 1.2)
    intensity = max(0, round(peak * load))
    speed = free_speed * (1 - 0.45 * clamp(load, 0, 1.2) ** 3)
    speed = max(5.0, speed + 1.5 * smooth(seed, f"speed-{key}", t, 900))
    occupancy = clamp(intensity / 15 * 5.5 / max(speed, 5.0) / 60 * 3.6 * 1.2, 0, 1)
    headway = 900 / intensity if intensity else 900.0
    return TrafficFlow(
        intensity, speed, occupancy, headway, load > 0.9 and speed < 0.6 * free_speed
    )


@dataclass(frozen=True, slots=True)
class Noise:
    laeq: float  # dB(A), equivalent continuous level of the interval
    lamax: float  # dB(A), the loudest moment


def noise_level(t: dt.datetime, seed: int, key: str, day_level: float) -> Noise:
    """Sound levels of a site whose daytime traffic LAeq is ``day_level``: 10·log10 of the
    traffic, energetically added to a background of 35 dB(A) (nights are 8–12 dB quieter)."""
    demand = max(traffic_demand(t), 0.01)
    traffic = (
        day_level
        + 10 * math.log10(demand / 0.7)
        + 0.8 * smooth(seed, f"noise-{key}", t, 900)
        + 0.5 * smooth(seed, f"noise-min-{key}", t, 60)
    )
    laeq = 10 * math.log10(10 ** (traffic / 10) + 10 ** (35 / 10))
    lamax = laeq + 11 + 7 * unit(seed, f"lamax-{key}", int(t.timestamp() // 900))
    return Noise(laeq, lamax)


# --------------------------------------------------------------------------- air quality
@dataclass(frozen=True, slots=True)
class AirQuality:
    no2: float  # µg/m³
    pm10: float  # µg/m³
    pm25: float  # µg/m³
    o3: float  # µg/m³


def air_quality(t: dt.datetime, seed: int, key: str, exposure: float) -> AirQuality:
    """Concentrations at a station whose exposure to road traffic is ``exposure`` (1: a busy
    street, 0.3: a park): a regional background (more in winter, heating) plus traffic with its
    peaks, diluted by wind and boundary-layer mixing (worse on calm nights and winter mornings),
    particles washed out by rain; ozone made by the sun and eaten by NO."""
    w = weather(t, seed)
    winter = (1 + math.cos(2 * math.pi * (day_of_year(t) - 15) / 365.25)) / 2  # 1 in January
    dilution = 1 / (0.45 + w.wind_speed / 3.5)
    inversion = 1 + 0.35 * winter * (1 - w.cloud_cover) * (1 if w.solar_radiation < 50 else 0.3)
    traffic = traffic_demand(t)
    drift = smooth(seed, f"aq-{key}", t, 4 * 3600) + 0.3 * smooth(seed, f"aq-min-{key}", t, 120)
    no2 = (9 + 7 * winter) + exposure * 55 * traffic * dilution * inversion
    no2 = max(2.0, no2 * (1 + 0.1 * drift))
    washout = 1 / (1 + 0.5 * w.precipitation)
    pm10 = (11 + 6 * winter) * (1 + 0.2 * smooth(seed, "pm-regional", t, 86400))
    pm10 = max(3.0, (pm10 + exposure * 14 * traffic * dilution * inversion) * washout)
    pm25 = pm10 * (0.62 + 0.08 * winter)
    sun = w.solar_radiation / 800
    o3 = max(2.0, 25 + 55 * sun * (1 - winter * 0.6) + 10 * drift - 0.45 * (no2 - 10))
    return AirQuality(no2, pm10, pm25, o3)


# --------------------------------------------------------------------------- parking
def parking_occupancy(t: dt.datetime, seed: int, key: str, opening: tuple[int, int]) -> float:
    """Share of a district car park in use: offices on weekdays, shoppers on Saturdays,
    residents' cars overnight; fewer before opening and after closing (local hours)."""
    h, wd = local_hour(t)
    if wd < SATURDAY:
        occ = 0.3 + 0.55 * _bump(h, 11.5, 3.2) + 0.1 * _bump(h, 19.5, 1.5)
    elif wd == SATURDAY:
        occ = 0.25 + 0.55 * _bump(h, 14.0, 3.0)
    else:
        occ = 0.2 + 0.2 * _bump(h, 15.0, 3.0)
    if not opening[0] <= h < opening[1]:
        occ = min(occ, 0.3)
    occ += 0.06 * smooth(seed, f"parking-{key}", t, 3600)
    occ += 0.015 * smooth(seed, f"parking-min-{key}", t, 120)  # cars come and go
    return clamp(occ, 0.0, 1.0)


def spot_occupied(t: dt.datetime, seed: int, key: str, site_occupancy: float) -> bool:
    """Whether one sensor-equipped space is taken: parking sessions of 45 minutes (each space
    shifted by its own offset) taken with the site's occupancy as probability."""
    offset = unit(seed, f"offset-{key}", 0) * 2700
    slot = int((t.timestamp() + offset) // 2700)
    return unit(seed, f"spot-{key}", slot) < site_occupancy


# --------------------------------------------------------------------------- EV charging
@dataclass(frozen=True, slots=True)
class Charging:
    available: int  # free charge points
    power: float  # kW drawn by all points together
    sessions: int  # charge points in use


def ev_charging(t: dt.datetime, seed: int, key: str, points: int, point_kw: float) -> Charging:
    """Charging sessions at ``points`` AC charge points: sessions of 90 minutes, busier in the
    day (workers, shoppers) and the evening (residents); a car draws between 30 % and 100 % of
    the point's power, less towards the end of its session (the battery fills)."""
    h, wd = local_hour(t)
    busy = 0.15 + 0.5 * _bump(h, 10.5, 2.5) + 0.35 * _bump(h, 19.0, 2.0)
    if wd >= SATURDAY:
        busy *= 0.7
    used, power = 0, 0.0
    for point in range(points):
        offset = unit(seed, f"ev-offset-{key}-{point}", 0) * 5400
        session = int((t.timestamp() + offset) // 5400)
        if unit(seed, f"ev-{key}-{point}", session) < busy:
            used += 1
            progress = ((t.timestamp() + offset) % 5400) / 5400
            share = 0.3 + 0.7 * unit(seed, f"ev-car-{key}-{point}", session)
            power += point_kw * share * (1 if progress < 0.7 else max(0.1, (1 - progress) / 0.3))
    return Charging(points - used, power, used)


# --------------------------------------------------------------------------- bike hire
def bike_share(t: dt.datetime, seed: int, key: str, role: float) -> float:
    """Share of a docking station's usable slots holding a bike. ``role`` > 0: a residential
    station (bikes leave in the morning, come back in the evening); < 0: a workplace station (the
    reverse); 0: a hub. Weekends drift less."""
    h, wd = local_hour(t)
    commute = 0.0
    if wd < SATURDAY:
        # after the morning peak bikes have left residential stations, after the evening they are back
        away = 1 / (1 + math.exp(-(h - 8.0) * 2.5)) - 1 / (1 + math.exp(-(h - 17.8) * 2.0))
        commute = -0.35 * away
    else:
        commute = -0.12 * _bump(h, 14.0, 3.0)
    value = 0.5 + role * commute + 0.12 * smooth(seed, f"bikes-{key}", t, 2 * 3600)
    return clamp(value, 0.0, 1.0)


# --------------------------------------------------------------------------- metering
def _integral_seasonal_daily(
    t0: float,
    t1: float,
    base: float,
    season: float,
    daily: float,
    day_phase: float,
    hour_phase: float,
) -> float:
    """kWh of a power (kW) ``(base + season·cos(2π(d−day_phase)/365.25)) · (1 +
    daily·cos(2π(h−hour_phase)/24))`` from ``t0`` to ``t1`` (seconds since the epoch; d: days
    since the epoch, whose phase matches the day of the year within a day; h: UTC hour)."""
    ws, wd = 2 * math.pi / (365.25 * 86400), 2 * math.pi / 86400

    def antiderivative(x: float) -> float:
        a = ws * (x - day_phase * 86400)
        c = wd * (x - hour_phase * 3600)
        # (b + s cos a)(1 + k cos c) = b + s cos a + b k cos c + s k (cos(a+c) + cos(c−a)) / 2
        return (
            base * x
            + season * math.sin(a) / ws
            + base * daily * math.sin(c) / wd
            + season * daily / 2 * (math.sin(a + c) / (ws + wd) + math.sin(c - a) / (wd - ws))
        )

    return (antiderivative(t1) - antiderivative(t0)) / 3600


#: The district heat fed into the low-temperature network: kW on average, the seasonal swing
#: (heating, most in late January) and the daily swing (a peak at 06:00 UTC).
HEAT_KW = (165.0, 135.0, 0.18)
HEAT_DAY_PHASE, HEAT_HOUR_PHASE = 22.0, 6.0
#: The heat pumps' electricity: a third of the heat (COP about 3.1).
HEAT_PUMP_SHARE = 1 / 3.1
#: Share of the heat pumps' electricity in the peak tariff (06–22 h), on average.
PEAK_SHARE = 0.405


def heat_fed_in(t: dt.datetime, anchor: dt.datetime, anchor_value: float) -> float:
    """The heat meter's total (kWh): ``anchor_value`` at ``anchor`` plus the heat demand's
    integral since then (minus before): a monotonic counter, in closed form of the time."""
    base, season, daily = HEAT_KW
    return anchor_value + _integral_seasonal_daily(
        anchor.timestamp(), t.timestamp(), base, season, daily, HEAT_DAY_PHASE, HEAT_HOUR_PHASE
    )


def heat_power(t: dt.datetime) -> float:
    """The heat demand (kW) at ``t``: the derivative of :func:`heat_fed_in`."""
    base, season, daily = HEAT_KW
    x = t.timestamp()
    a = 2 * math.pi * (x / 86400 - HEAT_DAY_PHASE) / 365.25
    c = 2 * math.pi * (x / 3600 - HEAT_HOUR_PHASE) / 24
    return (base + season * math.cos(a)) * (1 + daily * math.cos(c))
