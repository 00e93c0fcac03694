"""The compass part of a measure another city can take over (``TransferPart``
"compass-indicators"): the definitions of the indicators that show the measure's effect.

``export(measure)``: ``{"format": 1, "indicators": [{slug, name, description, explanation,
reference, reference_url, unit, direction, target, warning, period, schedule_minutes, formula}]}``
(public indicators only; ``None`` when the measure has none).

``adopt(measure, data, user)``: creates the indicators for the adopting city, linked to its new
measure and its district. A partner's template is hostile: every field is checked, every formula
validated (:func:`herzstadt.compass.formulas.validate`), district names in formulas are dropped
(they name the partner's districts), slugs are made unique in the city; invalid entries are
skipped with a note. No address in the template is fetched. Only staff of the city may do it.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from herzstadt.compass import formulas
from herzstadt.compass.models import Direction, Indicator
from herzstadt.core import permissions, registry
from herzstadt.core.models import Measure

KEY = "compass-indicators"
FORMAT = 1
MAX_INDICATORS = 30
TEXT_LIMITS = {
    "name": 200,
    "description": 4000,
    "explanation": 4000,
    "reference": 120,
    "unit": 40,
}
PERIODS = ("PT1H", "P1D", "P7D", "P30D", "P1Y")
SLUG = re.compile(r"^[-a-z0-9_]{1,80}$")


def _definition(indicator: Indicator) -> dict[str, Any]:
    return {
        "slug": indicator.slug,
        "name": indicator.name,
        "description": indicator.description,
        "explanation": indicator.explanation,
        "reference": indicator.reference,
        "reference_url": indicator.reference_url,
        "unit": indicator.unit,
        "direction": indicator.direction,
        "target": indicator.target,
        "warning": indicator.warning,
        "period": indicator.period,
        "schedule_minutes": indicator.schedule_minutes,
        "formula": indicator.formula,
    }


def export(measure: Measure) -> dict[str, Any] | None:
    indicators = measure.compass_indicators.filter(is_public=True).order_by("position", "name")
    items = [_definition(i) for i in indicators]
    return {"format": FORMAT, "indicators": items} if items else None


def _without_districts(spec: Any) -> Any:
    if isinstance(spec, dict):
        return {k: _without_districts(v) for k, v in spec.items() if k != "district"}
    if isinstance(spec, list):
        return [_without_districts(v) for v in spec]
    return spec


def _text(item: dict[str, Any], key: str, required: bool = False) -> str:
    value = item.get(key, "")
    if value is None:
        value = ""
    if (
        not isinstance(value, str)
        or len(value) > TEXT_LIMITS[key]
        or (required and not value.strip())
    ):
        raise ValidationError(_("“%(key)s” is missing or too long.") % {"key": key})
    return value.strip()


def _optional_number(item: dict[str, Any], key: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(_("“%(key)s” must be a number.") % {"key": key})
    return float(value)


def check_item(item: Any) -> dict[str, Any]:
    """The fields of one indicator of a partner's template; raises ``ValidationError``."""
    if not isinstance(item, dict):
        raise ValidationError(_("an indicator must be an object"))
    url = item.get("reference_url") or ""
    if url:
        parts = urlsplit(url) if isinstance(url, str) and len(url) <= 300 else None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username
        ):
            url = ""  # dropped, not fetched
    direction = item.get("direction", Direction.LOWER)
    if direction not in Direction.values:
        raise ValidationError(_("unknown direction"))
    period = item.get("period", "P1D")
    if period not in PERIODS:
        raise ValidationError(_("unknown period"))
    schedule = item.get("schedule_minutes", 15)
    if isinstance(schedule, bool) or not isinstance(schedule, int) or not 5 <= schedule <= 10080:
        schedule = 15
    return {
        "slug": item.get("slug")
        if isinstance(item.get("slug"), str) and SLUG.match(item["slug"])
        else "",
        "name": _text(item, "name", required=True),
        "description": _text(item, "description"),
        "explanation": _text(item, "explanation"),
        "reference": _text(item, "reference"),
        "reference_url": url,
        "unit": _text(item, "unit"),
        "direction": direction,
        "target": _optional_number(item, "target"),
        "warning": _optional_number(item, "warning"),
        "period": period,
        "schedule_minutes": schedule,
        "formula": formulas.validate(_without_districts(item.get("formula"))),
    }


def _unique_slug(city: Any, wanted: str, name: str) -> str:
    base = (wanted or slugify(name) or "indikator")[:70]
    slug, n = base, 2
    while Indicator.objects.filter(city=city, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def adopt(measure: Measure, data: Any, user: Any) -> str:
    """Create the template's indicators for ``measure``'s city; returns what was created."""
    permissions.require(user, "accounts.city_staff", measure.city)
    if not isinstance(data, dict) or not isinstance(data.get("indicators"), list):
        raise ValidationError(_("The indicators were refused: the template is not one."))
    fmt = data.get("format", FORMAT)
    if isinstance(fmt, bool) or not isinstance(fmt, int) or not 1 <= fmt <= FORMAT:
        raise ValidationError(_("The indicators were refused: unknown format."))
    items = data["indicators"]
    if len(items) > MAX_INDICATORS:
        raise ValidationError(
            _("The indicators were refused: at most %(n)s.") % {"n": MAX_INDICATORS}
        )
    created, skipped = [], 0
    for raw in items:
        try:
            fields = check_item(raw)
        except ValidationError:
            skipped += 1
            continue
        slug = _unique_slug(measure.city, fields.pop("slug"), fields["name"])
        indicator = Indicator.objects.create(
            city=measure.city, slug=slug, district=measure.district, **fields
        )
        indicator.measures.add(measure)
        created.append(indicator.name)
    text = ngettext("%(n)s indicator: %(names)s", "%(n)s indicators: %(names)s", len(created)) % {
        "n": len(created),
        "names": ", ".join(created) or "–",
    }
    if skipped:
        text += (
            " ("
            + ngettext("%(n)s invalid entry skipped", "%(n)s invalid entries skipped", skipped)
            % {"n": skipped}
            + ")"
        )
    return text


PART = registry.TransferPart(
    key=KEY,
    label=gettext_lazy("Indicators of the values compass (definitions and formulas)"),
    export=export,
    adopt=adopt,
    order=60,
)
