"""Demo measure profiles of the hosted cities: one file ``<city slug>.json`` per city in this folder,
a list of profiles of that city's demo measures (see :class:`~herzstadt.knowledge.models.
MeasureProfile`; English texts under ``en``).

A profile with ``origin`` is a replication of another demo city's measure: its provenance
(``origin_*``, ``adopted_at``, ``adopted_parts``) points at the origin's network record on this
installation, and the origin's measure gets the matching :class:`~herzstadt.knowledge.models.Reuse`
record — so the demo shows provenance before the network's harvesting has run. Dataset addresses
that start with ``/`` are on this installation (its public address in front).

Idempotent: a profile is saved only when a value differs, so a second run changes nothing (not even
``updated_at``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from herzstadt.core.models import City, Measure
from herzstadt.knowledge.models import MeasureProfile, Reuse

DEMO_DIR = Path(__file__).resolve().parent
#: the texts of a profile that have an English version under ``en``
TRANSLATED = (
    "problem",
    "target_groups",
    "implementation_steps",
    "operator_model",
    "obstacles",
    "success_factors",
)
PLAIN = (
    "phase",
    "problem",
    "target_groups",
    "implementation_steps",
    "entity_types",
    "software",
    "operator_model",
    "obstacles",
    "success_factors",
    "contact_name",
    "contact_email",
)


def base_url() -> str:
    """This installation's public address (``HERZSTADT_PUBLIC_URL``, else the first named host of
    ``ALLOWED_HOSTS`` — as the NGSI-LD API's links do)."""
    if settings.HERZSTADT_PUBLIC_URL:
        return str(settings.HERZSTADT_PUBLIC_URL).rstrip("/")
    hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
    host = hosts[0] if hosts else "localhost"
    if settings.CONFIG.production:
        return f"https://{host}"
    return f"http://{host}:{os.environ.get('HERZSTADT_PORT', '8000')}"


def record_url(city: City, measure: Measure) -> str:
    """The absolute address of a measure's network record (``api:network-measure``)."""
    try:
        path = reverse("api:network-measure", kwargs={"city": city.slug, "measure": measure.slug})
    except NoReverseMatch:  # the network API is not installed: its fixed address
        path = f"/api/v1/network/{city.slug}/measures/{measure.slug}/"
    return base_url() + path


def page_url(measure: Measure) -> str:
    with translation.override("de"):
        return base_url() + reverse("core:measure", kwargs={"slug": measure.slug})


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _values(item: dict[str, Any]) -> dict[str, Any]:
    values = {
        key: item.get(key, [] if key in ("implementation_steps", "entity_types") else "")
        for key in PLAIN
    }
    values["shared"] = bool(item.get("shared", True))
    values["cost_investment_eur"] = _money(item.get("cost_investment_eur"))
    values["cost_operation_eur"] = _money(item.get("cost_operation_eur"))
    base = base_url()
    values["datasets"] = [
        {"title": d["title"], "url": base + d["url"] if d["url"].startswith("/") else d["url"]}
        for d in item.get("datasets") or []
    ]
    english = {k: v for k, v in (item.get("en") or {}).items() if k in TRANSLATED and v}
    values["i18n"] = {"en": english} if english else {}
    return values


def _save(profile: MeasureProfile, values: dict[str, Any]) -> bool:
    """Set ``values`` on ``profile`` and save it when something changed; returns whether it did."""
    changed = profile.pk is None
    for key, value in values.items():
        if getattr(profile, key) != value:
            setattr(profile, key, value)
            changed = True
    if changed:
        profile.full_clean()
        profile.save()
    return changed


def _provenance(
    profile: MeasureProfile, origin: dict[str, Any], cities: dict[str, City]
) -> tuple[dict[str, Any], Measure]:
    city = cities[origin["city"]]
    source = Measure.objects.select_related("city").get(city=city, slug=origin["measure"])
    source_profile = MeasureProfile.objects.filter(measure=source).first()
    return (
        {
            "origin_uri": record_url(city, source),
            "origin_city": city.name,
            "origin_title": source.title,
            "origin_version": source_profile.version if source_profile else 1,
            "adopted_at": dt.datetime.fromisoformat(origin["adopted_at"]),
            "adopted_parts": list(origin.get("parts") or []),
        },
        source,
    )


@transaction.atomic
def load_profiles(context: Any) -> str:
    """The profiles of every demo city that has a file here; returns a short summary."""
    cities: dict[str, City] = dict(getattr(context, "cities", None) or {})
    loaded = changed = reuses = 0
    replicated: list[tuple[MeasureProfile, dict[str, Any]]] = []
    for slug, city in sorted(cities.items()):
        path = DEMO_DIR / f"{slug}.json"
        if not path.is_file():
            continue
        for item in json.loads(path.read_text(encoding="utf-8")):
            measure = Measure.objects.get(city=city, slug=item["measure"])
            profile = MeasureProfile.objects.filter(measure=measure).first() or MeasureProfile(
                measure=measure, city=city
            )
            changed += _save(profile, _values(item))
            loaded += 1
            if item.get("origin"):
                replicated.append((profile, item["origin"]))
    for profile, origin in replicated:  # after all profiles: the origin's version is known
        values, source = _provenance(profile, origin, cities)
        changed += _save(profile, values)
        adopter = profile.measure.city
        _reuse, created = Reuse.objects.get_or_create(
            measure=source,
            adopted_measure_url=page_url(profile.measure),
            defaults={
                "adopter_name": adopter.name,
                "adopter_uri": base_url() + "/",
                "adopted_title": profile.measure.title,
                "origin_version": values["origin_version"],
                "adopted_at": values["adopted_at"],
            },
        )
        reuses += 1
        changed += created
    plural = "" if reuses == 1 else "s"
    return f"{loaded} measure profiles ({changed} changed), {reuses} replication{plural} with provenance"
