"""Indicator formulas: a declarative JSON specification over the urban data, validated, described
in words, and computed by small strategy classes (one per ``kind``).

- ``validate(spec) -> dict``: the normalised spec, or ``django.core.exceptions.ValidationError``
  with a message a member of staff understands. A spec may come from a partner city (adoption):
  it is hostile until validated (unknown keys, deep nesting, huge lists, non-finite numbers and
  malformed names are refused).
- ``describe(spec) -> str``: the formula in words (translated), e.g. "Mittelwert von no2
  (AirQualityObserved) je 15 Minuten, gemittelt über die Messstellen".
- ``compute(spec, start, end, source) -> Result``: the value over ``[start, end)`` with its data
  coverage (0…1), reading observations from ``source`` (tests pass fixed data).

Kinds (``{"kind": …}``; every node may carry ``scale`` (a factor) and ``floor`` (a least value)):

- ``aggregate``: ``entity_type``, ``attribute``, ``method`` (see :data:`METHODS`), ``interval``
  (the expected sampling interval, ISO 8601, default PT15M), ``across`` (``mean`` or ``sum``: how
  the entities' values of one interval are combined), ``district`` (a district's slug; default:
  the indicator's district, else the whole city), ``threshold`` (for the ``*_above`` methods),
  ``day_coverage`` (least share of a day's intervals with data for the day to count, default 0.75).
- ``share_present``: ``entity_type``, ``attribute``, ``interval``, ``district``: the share of the
  entities with a value in each interval, averaged over the period (real-time availability).
- ``inventory``: ``entity_type``, ``attribute`` (optional), ``method`` ``sum`` or ``count``,
  ``district``: the entities' current values (e.g. the number of charge points).
- ``ratio``: ``numerator``, ``denominator`` (formulas).
- ``per_capita``: ``formula``, ``population`` (residents), ``per`` (default 1,000).
- ``sum`` / ``mean``: ``terms`` (formulas); ``difference``: ``minuend`` − ``subtrahend``.
- ``constant``: ``value``.

How an aggregate is computed: the period is cut into intervals of the sampling interval; each
entity's observations in an interval are averaged (energetically for the noise methods); the
entities' interval values are combined (``across``); the method reduces that series. Coverage is
the share of (entity, interval) pairs with a numeric observation, over the entities the source
knows in the area. Local time (day, evening, night; calendar days) is Europe/Berlin.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: Local time of the noise periods (EU Directive 2002/49/EC, Annex I) and of calendar days.
LOCAL = ZoneInfo("Europe/Berlin")
METHODS = (
    "avg",
    "min",
    "max",
    "sum",
    "count",
    "last",
    "increase",
    "energetic_mean",
    "lden",
    "lnight",
    "days_above",
    "daily_max_above",
    "nightly_min_above",
)
NOISE_METHODS = frozenset({"energetic_mean", "lden", "lnight"})
THRESHOLD_METHODS = frozenset({"days_above", "daily_max_above", "nightly_min_above"})
KINDS = (
    "aggregate",
    "share_present",
    "inventory",
    "ratio",
    "per_capita",
    "sum",
    "mean",
    "difference",
    "constant",
)
MAX_DEPTH = 5
MAX_TERMS = 10
MAX_NODES = 30
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,80}$")
DURATION = re.compile(
    r"^P(?:(\d{1,4})Y)?(?:(\d{1,4})W)?(?:(\d{1,4})D)?(?:T(?:(\d{1,4})H)?(?:(\d{1,4})M)?)?$"
)
#: sampling intervals between a minute and a day
MIN_INTERVAL, MAX_INTERVAL = dt.timedelta(minutes=1), dt.timedelta(days=1)
#: the longest period a value may cover (and the most intervals one aggregate may have)
MAX_PERIOD = dt.timedelta(days=366)
MAX_SLOTS = 40_000


@dataclass(frozen=True)
class Result:
    value: float | None
    coverage: float
    details: dict[str, Any] = field(default_factory=dict)


#: one entity's observations: (entity id, [(time, value or None for a non-numeric value)])
Series = tuple[str, Sequence[tuple[dt.datetime, float | None]]]


class Source(Protocol):
    """Where the observations come from (the city's NGSI-LD broker; tests: fixed data).

    ``district`` is a district's slug or None (the source's default area: the indicator's
    district, else the whole city); ``step`` the sampling interval (a source may send one value
    per interval, e.g. the broker's per-interval mean, instead of every observation)."""

    def series(
        self,
        entity_type: str,
        attribute: str,
        start: dt.datetime,
        end: dt.datetime,
        district: str | None,
        step: dt.timedelta,
    ) -> list[Series]: ...

    def entities(self, entity_type: str, district: str | None) -> list[dict[str, Any]]: ...


# ------------------------------------------------------------------------------------ durations
def parse_duration(text: Any) -> dt.timedelta:
    """An ISO 8601 duration of years (365 days), weeks, days, hours and minutes."""
    found = DURATION.match(text) if isinstance(text, str) else None
    if not found or text in ("P", "PT") or text.endswith("T"):
        raise ValidationError(
            _("“%(value)s” is not a duration such as PT15M, PT1H, P1D or P1Y.") % {"value": text},
            code="duration",
        )
    y, w, d, h, m = (int(g) if g else 0 for g in found.groups())
    return dt.timedelta(days=365 * y + 7 * w + d, hours=h, minutes=m)


# ------------------------------------------------------------------------------------ validation
def _refuse(message: str) -> ValidationError:
    return ValidationError(message, code="invalid")


def _number(node: dict[str, Any], key: str, *, positive: bool = False) -> float:
    value = node.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _refuse(_("“%(key)s” must be a number.") % {"key": key})
    if positive and value <= 0:
        raise _refuse(_("“%(key)s” must be greater than zero.") % {"key": key})
    if abs(value) > 1e12:
        raise _refuse(_("“%(key)s” is too large.") % {"key": key})
    return float(value)


def _name(node: dict[str, Any], key: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not NAME.match(value):
        raise _refuse(
            _("“%(key)s” must be the short name of an NGSI-LD type or attribute, e.g. %(example)s.")
            % {"key": key, "example": "AirQualityObserved" if key == "entity_type" else "no2"}
        )
    return value


def _match(value: Any) -> dict[str, str | float]:
    """``{attribute: value}`` the entities' current values must equal (e.g. a meter's type)."""
    if not isinstance(value, dict) or not 1 <= len(value) <= 3:
        raise _refuse(_("“match” must be an object of one to three attributes and values."))
    out: dict[str, str | float] = {}
    for key, v in value.items():
        if not isinstance(key, str) or not NAME.match(key):
            raise _refuse(_("“match” names an attribute that is not a short name."))
        if isinstance(v, str) and len(v) <= 100:
            out[key] = v
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[key] = float(v)
        else:
            raise _refuse(_("“match” values must be short texts or numbers."))
    return out


_COMMON = {"kind", "scale", "floor", "label"}
_KEYS = {
    "aggregate": {
        "entity_type",
        "attribute",
        "method",
        "interval",
        "across",
        "district",
        "threshold",
        "day_coverage",
        "match",
    },
    "share_present": {"entity_type", "attribute", "interval", "district", "match"},
    "inventory": {"entity_type", "attribute", "method", "district", "match"},
    "ratio": {"numerator", "denominator"},
    "per_capita": {"formula", "population", "per"},
    "sum": {"terms"},
    "mean": {"terms"},
    "difference": {"minuend", "subtrahend"},
    "constant": {"value"},
}


def validate(spec: Any) -> dict[str, Any]:
    """The normalised spec (defaults filled in); raises ``ValidationError``."""
    counter = [0]
    return _validate(spec, 1, counter)


def _validate(node: Any, depth: int, counter: list[int]) -> dict[str, Any]:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _refuse(_("The formula has too many parts (at most %(n)s).") % {"n": MAX_NODES})
    if depth > MAX_DEPTH:
        raise _refuse(
            _("The formula is nested too deeply (at most %(n)s levels).") % {"n": MAX_DEPTH}
        )
    if not isinstance(node, dict):
        raise _refuse(_("A formula must be a JSON object with a “kind”."))
    kind = node.get("kind")
    if kind not in KINDS:
        raise _refuse(
            _("Unknown kind “%(kind)s”; known kinds: %(kinds)s.")
            % {"kind": str(kind)[:40], "kinds": ", ".join(KINDS)}
        )
    unknown = set(node) - _COMMON - _KEYS[kind]
    if unknown:
        raise _refuse(
            _("Unknown keys for “%(kind)s”: %(keys)s.")
            % {"kind": kind, "keys": ", ".join(sorted(str(k)[:40] for k in unknown)[:5])}
        )
    out: dict[str, Any] = {"kind": kind}
    if "scale" in node:
        out["scale"] = _number(node, "scale")
    if "floor" in node:
        out["floor"] = _number(node, "floor")
    if "label" in node:
        if not isinstance(node["label"], str) or len(node["label"]) > 120:
            raise _refuse(_("“label” must be a short text."))
        out["label"] = node["label"]
    if kind in ("aggregate", "share_present", "inventory"):
        out["entity_type"] = _name(node, "entity_type")
        if kind != "inventory" or "attribute" in node:
            out["attribute"] = _name(node, "attribute")
        if node.get("district") is not None:
            if not isinstance(node["district"], str) or not SLUG.match(node["district"]):
                raise _refuse(_("“district” must be the short name of a district."))
            out["district"] = node["district"]
        if "match" in node:
            out["match"] = _match(node["match"])
    if kind in ("aggregate", "share_present"):
        interval = parse_duration(node.get("interval", "PT15M"))
        if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
            raise _refuse(_("The sampling interval must lie between a minute and a day."))
        out["interval"] = node.get("interval", "PT15M")
    if kind == "aggregate":
        method = node.get("method")
        if method not in METHODS:
            raise _refuse(
                _("Unknown method “%(method)s”; known methods: %(methods)s.")
                % {"method": str(method)[:40], "methods": ", ".join(METHODS)}
            )
        out["method"] = method
        across = node.get("across", "mean")
        if across not in ("mean", "sum"):
            raise _refuse(_("“across” must be “mean” or “sum”."))
        out["across"] = across
        if method in THRESHOLD_METHODS:
            out["threshold"] = _number(node, "threshold")
            out["day_coverage"] = _number(node, "day_coverage") if "day_coverage" in node else 0.75
            if not 0 < out["day_coverage"] <= 1:
                raise _refuse(_("“day_coverage” must lie between 0 and 1."))
        elif "threshold" in node or "day_coverage" in node:
            raise _refuse(_("Only the methods counting days take a threshold."))
    elif kind == "inventory":
        method = node.get("method", "sum" if "attribute" in node else "count")
        if method not in ("sum", "count"):
            raise _refuse(_("An inventory counts entities (count) or adds up a value (sum)."))
        if method == "sum" and "attribute" not in out:
            raise _refuse(_("An inventory that adds up needs an “attribute”."))
        out["method"] = method
    elif kind == "ratio":
        out["numerator"] = _validate(node.get("numerator"), depth + 1, counter)
        out["denominator"] = _validate(node.get("denominator"), depth + 1, counter)
    elif kind == "per_capita":
        out["formula"] = _validate(node.get("formula"), depth + 1, counter)
        out["population"] = _number(node, "population", positive=True)
        out["per"] = _number(node, "per", positive=True) if "per" in node else 1000.0
    elif kind in ("sum", "mean"):
        terms = node.get("terms")
        if not isinstance(terms, list) or not 1 <= len(terms) <= MAX_TERMS:
            raise _refuse(_("“terms” must be a list of 1 to %(n)s formulas.") % {"n": MAX_TERMS})
        out["terms"] = [_validate(t, depth + 1, counter) for t in terms]
    elif kind == "difference":
        out["minuend"] = _validate(node.get("minuend"), depth + 1, counter)
        out["subtrahend"] = _validate(node.get("subtrahend"), depth + 1, counter)
    elif kind == "constant":
        out["value"] = _number(node, "value")
    return out


# ------------------------------------------------------------------------------------ in words
def _method_words() -> dict[str, str]:
    return {
        "avg": _("mean"),
        "min": _("least value"),
        "max": _("greatest value"),
        "sum": _("sum"),
        "count": _("number of observations"),
        "last": _("latest value"),
        "increase": _("increase of the meter reading"),
        "energetic_mean": _("energetic mean"),
        "lden": _("day-evening-night level Lden"),
        "lnight": _("night level Lnight"),
        "days_above": _("days with a daily mean above %(threshold)s"),
        "daily_max_above": _("days with a maximum of at least %(threshold)s"),
        "nightly_min_above": _("nights with a minimum of at least %(threshold)s"),
    }


def _num(x: float) -> str:
    return f"{x:g}"


def describe(spec: dict[str, Any]) -> str:
    """The formula in words (in the active language)."""
    try:
        spec = validate(spec)
    except ValidationError:
        return _("(invalid formula)")
    return _describe(spec)


def _area(node: dict[str, Any]) -> str:
    text = ""
    if node.get("match"):
        text = " [" + ", ".join(f"{k} = {_plain_text(v)}" for k, v in node["match"].items()) + "]"
    if node.get("district"):
        text += _(" in the district “%(district)s”") % {"district": node["district"]}
    return text


def _plain_text(value: Any) -> str:
    return _num(value) if isinstance(value, float) else str(value)


def _describe(node: dict[str, Any]) -> str:
    kind = node["kind"]
    if kind == "aggregate":
        method = _method_words()[node["method"]] % {"threshold": _num(node.get("threshold", 0))}
        text = _(
            "%(method)s of %(attribute)s (%(type)s)%(area)s, from values every %(interval)s, %(across)s"
        ) % {
            "method": method,
            "attribute": node["attribute"],
            "type": node["entity_type"],
            "area": _area(node),
            "interval": node["interval"],
            "across": _("averaged over the entities")
            if node["across"] == "mean"
            else _("added up over the entities"),
        }
    elif kind == "share_present":
        text = _(
            "share of %(type)s entities%(area)s with a current value of %(attribute)s (every %(interval)s)"
        ) % {
            "type": node["entity_type"],
            "attribute": node["attribute"],
            "area": _area(node),
            "interval": node["interval"],
        }
    elif kind == "inventory":
        if node["method"] == "count":
            text = _("number of %(type)s entities%(area)s") % {
                "type": node["entity_type"],
                "area": _area(node),
            }
        else:
            text = _("sum of %(attribute)s over the %(type)s entities%(area)s") % {
                "type": node["entity_type"],
                "attribute": node["attribute"],
                "area": _area(node),
            }
    elif kind == "ratio":
        text = f"({_describe(node['numerator'])}) ÷ ({_describe(node['denominator'])})"
    elif kind == "per_capita":
        text = _("%(formula)s per %(per)s residents (population %(population)s)") % {
            "formula": _describe(node["formula"]),
            "per": _num(node["per"]),
            "population": _num(node["population"]),
        }
    elif kind in ("sum", "mean"):
        parts = " + ".join(f"({_describe(t)})" for t in node["terms"])
        text = parts if kind == "sum" else _("mean of %(parts)s") % {"parts": parts}
    elif kind == "difference":
        text = f"({_describe(node['minuend'])}) − ({_describe(node['subtrahend'])})"
    else:
        text = _num(node["value"])
    if node.get("scale", 1.0) != 1.0:
        text = f"{text} × {_num(node['scale'])}"
    if "floor" in node:
        text = _("%(formula)s, at least %(floor)s") % {
            "formula": text,
            "floor": _num(node["floor"]),
        }
    return text


# ------------------------------------------------------------------------------------ computing
def energetic_mean(levels: Sequence[float]) -> float:
    """L = 10·log10(mean(10^(Li/10)))."""
    return 10 * math.log10(sum(10 ** (x / 10) for x in levels) / len(levels))


def lden(ld: float, le: float, ln: float) -> float:
    """Lden = 10·log10((12·10^(Ld/10) + 4·10^((Le+5)/10) + 8·10^((Ln+10)/10)) / 24)."""
    return 10 * math.log10(
        (12 * 10 ** (ld / 10) + 4 * 10 ** ((le + 5) / 10) + 8 * 10 ** ((ln + 10) / 10)) / 24
    )


def noise_period(when: dt.datetime) -> str:
    """``"day"`` (06–18), ``"evening"`` (18–22) or ``"night"`` (22–06), local time."""
    hour = when.astimezone(LOCAL).hour
    return "day" if 6 <= hour < 18 else "evening" if 18 <= hour < 22 else "night"


def compute(spec: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any) -> Result:
    """The value of ``spec`` over ``[start, end)``."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    if not start < end or end - start > MAX_PERIOD:
        raise ValidationError(_("The period must be positive and at most a year."))
    return _compute(validate(spec), start, end, source)


def _post(node: dict[str, Any], result: Result) -> Result:
    value = result.value
    if value is not None:
        value *= node.get("scale", 1.0)
        if "floor" in node:
            value = max(value, node["floor"])
        if not math.isfinite(value):
            value = None
    return Result(value, result.coverage, result.details)


def _compute(node: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any) -> Result:
    strategy = STRATEGIES[node["kind"]]
    return _post(node, strategy(node, start, end, source))


def _constant(node: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any) -> Result:
    return Result(node["value"], 1.0, {})


def _ratio(node: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any) -> Result:
    num = _compute(node["numerator"], start, end, source)
    den = _compute(node["denominator"], start, end, source)
    value = None
    if num.value is not None and den.value not in (None, 0):
        assert den.value is not None
        value = num.value / den.value
    return Result(
        value,
        min(num.coverage, den.coverage),
        {"numerator": num.value, "denominator": den.value},
    )


def _per_capita(node: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any) -> Result:
    inner = _compute(node["formula"], start, end, source)
    value = None if inner.value is None else inner.value / node["population"] * node["per"]
    return Result(value, inner.coverage, {"total": inner.value, "population": node["population"]})


def _combine(node: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any) -> Result:
    kind = node["kind"]
    parts = [node["minuend"], node["subtrahend"]] if kind == "difference" else list(node["terms"])
    results = [_compute(p, start, end, source) for p in parts]
    values = [r.value for r in results]
    coverage = min(r.coverage for r in results)
    if any(v is None for v in values):
        return Result(None, coverage, {"terms": values})
    nums = [float(v) for v in values if v is not None]
    if kind == "difference":
        value = nums[0] - nums[1]
    elif kind == "sum":
        value = sum(nums)
    else:
        value = sum(nums) / len(nums)
    return Result(value, coverage, {"terms": values})


def _inventory(node: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any) -> Result:
    entities = _entities(node, source)
    if not entities:
        return Result(None, 0.0, {"entities": 0})
    if node["method"] == "count":
        return Result(float(len(entities)), 1.0, {"entities": len(entities)})
    values = []
    for entity in entities:
        raw = _plain(entity.get(node["attribute"]))
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
            values.append(float(raw))
    if not values:
        return Result(None, 0.0, {"entities": len(entities)})
    return Result(sum(values), len(values) / len(entities), {"entities": len(entities)})


class _Grid:
    """The period cut into intervals of the sampling interval."""

    def __init__(self, start: dt.datetime, end: dt.datetime, step: dt.timedelta) -> None:
        self.start, self.end, self.step = start, end, step
        self.n = math.ceil((end - start) / step)
        if self.n > MAX_SLOTS:
            raise ValidationError(_("The period has too many sampling intervals."))

    def index(self, when: dt.datetime) -> int | None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        if not self.start <= when < self.end:
            return None
        return int((when - self.start) // self.step)

    def time(self, k: int) -> dt.datetime:
        return self.start + k * self.step


def _binned(
    series: list[Series], grid: _Grid, energetic: bool
) -> tuple[dict[str, dict[int, float]], dict[str, set[int]], int]:
    """Per entity: the interval values (the mean of its numeric observations in the interval,
    energetic for noise), the intervals with any observation, and the number of observations."""
    values: dict[str, dict[int, float]] = {}
    present: dict[str, set[int]] = {}
    count = 0
    for entity_id, points in series:
        sums: dict[int, list[float]] = {}
        seen = present.setdefault(entity_id, set())
        for when, value in points:
            k = grid.index(when)
            if k is None:
                continue
            seen.add(k)
            if value is None or not math.isfinite(value):
                continue
            count += 1
            sums.setdefault(k, []).append(float(value))
        values[entity_id] = {
            k: (energetic_mean(v) if energetic else sum(v) / len(v)) for k, v in sums.items()
        }
    return values, present, count


def _plain(value: Any) -> Any:
    return value.get("value") if isinstance(value, dict) else value


def _matches(entity: dict[str, Any], match: dict[str, Any] | None) -> bool:
    if not match:
        return True
    for key, wanted in match.items():
        have = _plain(entity.get(key))
        if isinstance(wanted, float):
            if isinstance(have, bool) or not isinstance(have, (int, float)) or have != wanted:
                return False
        elif have != wanted:
            return False
    return True


def _guard(node: dict[str, Any], source: Any, sources: int) -> None:
    """Let the source refuse an aggregate over too few sources of personal data (``guard`` is
    optional: fixed test data has none)."""
    guard = getattr(source, "guard", None)
    if guard is not None:
        guard(node["entity_type"], sources)


def _entities(node: dict[str, Any], source: Any) -> list[dict[str, Any]]:
    found = [
        e
        for e in source.entities(node["entity_type"], node.get("district"))
        if isinstance(e, dict) and _matches(e, node.get("match"))
    ]
    _guard(node, source, len(found))
    return found


def _series(
    node: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any, step: dt.timedelta
) -> tuple[list[Series], set[str]]:
    """The observations of the node's entities and the ids of those entities (known to the
    source, or with observations; with ``match``: only the matching ones)."""
    series = source.series(
        node["entity_type"], node["attribute"], start, end, node.get("district"), step
    )
    known = {str(e.get("id")) for e in _entities(node, source) if e.get("id")}
    if node.get("match"):
        series = [s for s in series if s[0] in known]
        return series, known
    ids = known | {entity_id for entity_id, _points in series}
    _guard(node, source, len(ids))
    return series, ids


def _share_present(
    node: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any
) -> Result:
    step = parse_duration(node["interval"])
    grid = _Grid(start, end, step)
    series, ids = _series(node, start, end, source, step)
    if not ids:
        return Result(None, 0.0, {"entities": 0})
    _values, present, _count = _binned(series, grid, False)
    pairs = sum(len(present.get(i, ())) for i in ids)
    share = pairs / (len(ids) * grid.n)
    # the share itself is what the indicator says; the data behind it is complete by definition
    return Result(share, 1.0, {"entities": len(ids), "intervals": grid.n})


def _local_days(grid: _Grid, night: bool) -> dict[dt.date, list[int]]:
    """The whole local days (or nights, 18:00–06:00, named by the evening's date) inside the
    period, with their intervals."""
    groups: dict[dt.date, list[int]] = {}
    for k in range(grid.n):
        local = grid.time(k).astimezone(LOCAL)
        if night:
            if 6 <= local.hour < 18:
                continue
            key = local.date() if local.hour >= 18 else local.date() - dt.timedelta(days=1)
        else:
            key = local.date()
        groups.setdefault(key, []).append(k)
    whole = {}
    for day, ks in groups.items():
        if night:
            first = dt.datetime.combine(day, dt.time(18), LOCAL)
            last = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6), LOCAL)
        else:
            first = dt.datetime.combine(day, dt.time(0), LOCAL)
            last = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), LOCAL)
        if first >= grid.start and last <= grid.end:
            whole[day] = ks
    return whole


def _aggregate(node: dict[str, Any], start: dt.datetime, end: dt.datetime, source: Any) -> Result:
    method = node["method"]
    energetic = method in NOISE_METHODS
    step = parse_duration(node["interval"])
    grid = _Grid(start, end, step)
    series, ids = _series(node, start, end, source, step)
    values, _present, count = _binned(series, grid, energetic)
    pairs = sum(len(values.get(i, {})) for i in ids)
    coverage = pairs / (len(ids) * grid.n) if ids else 0.0
    details: dict[str, Any] = {
        "entities": len(ids),
        "observations": count,
        "intervals": grid.n,
    }
    if not pairs:
        return Result(None, 0.0, details)

    if method == "increase":
        per_entity = []
        for entity_values in values.values():
            ks = sorted(entity_values)
            rise = sum(
                max(0.0, entity_values[b] - entity_values[a]) for a, b in itertools.pairwise(ks)
            )
            if len(ks) > 1:
                per_entity.append(rise)
        if not per_entity:
            return Result(None, coverage, details)
        total = float(sum(per_entity))
        return Result(
            total if node["across"] == "sum" else total / len(per_entity), coverage, details
        )

    # the entities' values of each interval, combined
    by_slot: dict[int, list[float]] = {}
    for entity_values in values.values():
        for k, v in entity_values.items():
            by_slot.setdefault(k, []).append(v)
    combine: Callable[[list[float]], float]
    if node["across"] == "sum":
        combine = sum
    elif energetic:
        combine = energetic_mean
    else:
        combine = lambda xs: sum(xs) / len(xs)  # noqa: E731
    slots = {k: combine(v) for k, v in sorted(by_slot.items())}
    series_values = list(slots.values())

    value: float | None
    if method == "avg":
        value = sum(series_values) / len(series_values)
    elif method == "min":
        value = min(series_values)
    elif method == "max":
        value = max(series_values)
    elif method == "sum":
        value = sum(series_values)
    elif method == "count":
        value = float(count)
    elif method == "last":
        value = series_values[-1]
    elif method == "energetic_mean":
        value = energetic_mean(series_values)
    elif method in ("lden", "lnight"):
        parts: dict[str, list[float]] = {"day": [], "evening": [], "night": []}
        for k, v in slots.items():
            parts[noise_period(grid.time(k))].append(v)
        levels = {p: (energetic_mean(v) if v else None) for p, v in parts.items()}
        details.update({f"L{p[0]}": levels[p] for p in parts})
        if method == "lnight":
            value = levels["night"]
        elif None in levels.values():
            value = None
        else:
            value = lden(levels["day"], levels["evening"], levels["night"])  # type: ignore[arg-type]
    else:  # the methods counting days
        night = method == "nightly_min_above"
        days = _local_days(grid, night)
        counted, valid = 0, 0
        for ks in days.values():
            have = [slots[k] for k in ks if k in slots]
            if not have or len(have) / len(ks) < node["day_coverage"]:
                continue
            valid += 1
            if method == "days_above":
                hit = sum(have) / len(have) > node["threshold"]
            elif method == "daily_max_above":
                hit = max(have) >= node["threshold"]
            else:
                hit = min(have) >= node["threshold"]
            counted += int(hit)
        details.update({"days": len(days), "valid_days": valid})
        value = float(counted) if valid else None
        if days:
            coverage = min(coverage, valid / len(days))
    return Result(value, coverage, details)


STRATEGIES: dict[str, Callable[[dict[str, Any], dt.datetime, dt.datetime, Any], Result]] = {
    "aggregate": _aggregate,
    "share_present": _share_present,
    "inventory": _inventory,
    "ratio": _ratio,
    "per_capita": _per_capita,
    "sum": _combine,
    "mean": _combine,
    "difference": _combine,
    "constant": _constant,
}


def entity_types(spec: dict[str, Any]) -> dict[str, set[str]]:
    """``{entity type: {attributes}}`` the formula reads (for the KPI's ``aggregatedData``)."""
    found: dict[str, set[str]] = {}

    def walk(node: dict[str, Any]) -> None:
        if "entity_type" in node:
            attrs = found.setdefault(node["entity_type"], set())
            if "attribute" in node:
                attrs.add(node["attribute"])
        for key in ("numerator", "denominator", "formula", "minuend", "subtrahend"):
            if isinstance(node.get(key), dict):
                walk(node[key])
        for term in node.get("terms", ()):
            walk(term)

    walk(spec)
    return found
