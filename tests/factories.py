"""Small factories for tests that need a city, a district, a process and a few ideas, not the whole
demo (``load_demo`` loads every pillar's demo data, the broker's entities included, and costs about
half a second per test). Plain functions: each creates exactly what it names, with real model
validation where the demo loader validates too, and returns it.

The city and district are the demo's own Kaiserslautern and Pfaff-Areal (the boundary comes from the
demo's data file), so a test written against the ``demo`` fixture keeps its slugs and geometry.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from typing import Any

from django.utils import timezone

from herzstadt.core.demo import DEMO_DIR
from herzstadt.core.models import City, CityRole, District, FieldOfAction, Measure
from herzstadt.participation.models import Category, Phase, Process

DAY = dt.timedelta(days=1)


@cache
def _demo_boundaries() -> dict[str, dict[str, Any]]:
    with (DEMO_DIR / "kaiserslautern" / "districts.geojson").open(encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    return {f["properties"]["slug"]: f["geometry"] for f in features}


def make_city(
    slug: str = "kaiserslautern",
    name: str = "Kaiserslautern",
    role: str = CityRole.HOSTED,
    **fields: Any,
) -> City:
    """A city (by default the demo's hosted Kaiserslautern, without its content)."""
    defaults: dict[str, Any] = {"lon": 7.7689, "lat": 49.4447} if slug == "kaiserslautern" else {}
    city = City(slug=slug, name=name, role=role, **{**defaults, **fields})
    city.full_clean()
    city.save()
    return city


def make_district(
    city: City,
    slug: str = "pfaff-areal",
    name: str = "Pfaff-Areal",
    boundary: dict[str, Any] | None = None,
) -> District:
    """A district; without ``boundary`` the demo's boundary of that slug (Pfaff-Areal, Innenstadt)."""
    district = District(
        city=city,
        slug=slug,
        name=name,
        boundary=boundary if boundary is not None else _demo_boundaries()[slug],
    )
    district.full_clean()
    district.save()
    return district


def make_process(
    city: City,
    district: District | None = None,
    slug: str = "test-pfaff",
    title: str = "Testprozess Pfaff-Areal",
    summary: str = "Wie wollen wir hier leben?",
    phases: tuple[str, ...] = ("information", "ideas", "evaluation"),
    active: str = "ideas",
    categories: tuple[str, ...] = ("Mobilität", "Grün und Klima"),
    is_published: bool = True,
) -> Process:
    """A process with dated phases, the ``active`` one running now (earlier ones ended, later ones
    not begun, ten days each), and categories."""
    now = timezone.now()
    proc = Process.objects.create(
        city=city,
        slug=slug,
        title=title,
        summary=summary,
        district=district,
        is_published=is_published,
    )
    current = phases.index(active)
    for i, kind in enumerate(phases):
        if i < current:
            end = now - (10 + 10 * (current - 1 - i)) * DAY
            start = end - 10 * DAY
        elif i == current:
            start, end = now - 10 * DAY, now + 10 * DAY
        else:
            start = now + (10 + 10 * (i - current - 1)) * DAY
            end = start + 10 * DAY
        Phase.objects.create(
            city=city, process=proc, kind=kind, title=kind.title(), start=start, end=end
        )
    for name in categories:
        Category.objects.create(city=city, process=proc, name=name)
    return proc


def make_measure(
    city: City,
    district: District | None = None,
    slug: str = "mobilitaetsstation",
    title: str = "Mobilitätsstation",
    summary: str = "Rad, Bus und Carsharing an einem Ort.",
    **fields: Any,
) -> Measure:
    """A public measure, in a field of action of its own (``mobilitaet``, created when missing)."""
    field_of_action, _ = FieldOfAction.objects.get_or_create(
        city=city, slug="mobilitaet", defaults={"name": "Mobilität"}
    )
    measure = Measure(
        city=city,
        district=district,
        slug=slug,
        title=title,
        summary=summary,
        field_of_action=field_of_action,
        **fields,
    )
    measure.full_clean()
    measure.save()
    return measure
