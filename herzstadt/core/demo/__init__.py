"""Load the demo city (Kaiserslautern with the Pfaff-Areal) from the data files in this folder.

The files are the single source of the demo: ``cities.json`` and one folder per hosted city with
``fields_of_action.json``, ``offices.json``, ``measures.json`` and (optionally) ``districts.geojson``.
Kaiserslautern (the first hosted city, the one the demo server shows) has the Pfaff-Areal; Solingen,
Wolfsburg and Cottbus are hosted too, each with a small catalogue of invented model-project measures
(no districts), so the city network has partners to harvest from the same installation. Loading is
idempotent: rows are matched by (city, slug) and updated in place, so running it twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from herzstadt.core.models import (
    City,
    CityRole,
    District,
    FieldOfAction,
    Measure,
    MeasureLink,
    Milestone,
    Office,
)

DEMO_DIR = Path(__file__).resolve().parent


@dataclass
class DemoReport:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    def __str__(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in self.counts.items())


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _translations(item: dict[str, Any], *keys: str) -> dict[str, dict[str, Any]]:
    """The ``en`` block of a data item, limited to the translatable keys."""
    english = {k: v for k, v in (item.get("en") or {}).items() if k in keys and v}
    return {"en": english} if english else {}


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _save(obj, report: DemoReport, kind: str):
    obj.full_clean()
    obj.save()
    report.add(kind)
    return obj


def load_cities(report: DemoReport, data_dir: Path = DEMO_DIR) -> dict[str, City]:
    cities: dict[str, City] = {}
    items = _read(data_dir / "cities.json")
    for item in items:
        city = City.objects.filter(slug=item["slug"]).first() or City(slug=item["slug"])
        for key in (
            "name",
            "official_name",
            "state",
            "ags",
            "role",
            "website",
            "contact_email",
            "description",
            "ngsi_tenant",
        ):
            setattr(city, key, item.get(key, ""))
        city.lon, city.lat = item.get("lon"), item.get("lat")
        city.i18n = _translations(item, "name", "official_name", "description")
        city.ls_description = (item.get("ls") or {}).get("description", "")
        cities[city.slug] = _save(city, report, "cities")
    for item in items:
        cities[item["slug"]].partners.add(*(cities[slug] for slug in item.get("partners", [])))
    return cities


def _upsert(model, city: City, slug: str, values: dict[str, Any], report: DemoReport, kind: str):
    obj = model.objects.filter(city=city, slug=slug).first() or model(city=city, slug=slug)
    for key, value in values.items():
        setattr(obj, key, value)
    return _save(obj, report, kind)


def load_city_content(city: City, report: DemoReport, data_dir: Path = DEMO_DIR) -> None:
    folder = data_dir / city.slug
    districts = {}
    districts_file = folder / "districts.geojson"
    features = _read(districts_file)["features"] if districts_file.exists() else []
    for feature in features:
        props = feature["properties"]
        districts[props["slug"]] = _upsert(
            District,
            city,
            props["slug"],
            {
                "name": props["name"],
                "description": props.get("description", ""),
                "boundary": feature["geometry"],
                "boundary_approximate": bool(props.get("approximate")),
                "boundary_source": props.get("source", ""),
                "i18n": _translations(props, "name", "description", "boundary_source"),
            },
            report,
            "districts",
        )
    fields = {}
    for position, item in enumerate(_read(folder / "fields_of_action.json")):
        fields[item["slug"]] = _upsert(
            FieldOfAction,
            city,
            item["slug"],
            {
                "name": item["name"],
                "description": item.get("description", ""),
                "position": position,
                "i18n": _translations(item, "name", "description"),
            },
            report,
            "fields of action",
        )
    offices = {}
    for item in _read(folder / "offices.json"):
        offices[item["slug"]] = _upsert(
            Office,
            city,
            item["slug"],
            {
                "name": item["name"],
                "email": item.get("email", ""),
                "website": item.get("website", ""),
                "i18n": _translations(item, "name"),
            },
            report,
            "offices",
        )
    measures_file = folder / "measures.json"
    for item in _read(measures_file) if measures_file.exists() else []:
        _load_measure(city, item, districts, fields, offices, report)


def _load_measure(city, item, districts, fields, offices, report: DemoReport) -> None:
    location = item.get("location")
    measure = _upsert(
        Measure,
        city,
        item["slug"],
        {
            "title": item["title"],
            "summary": item["summary"],
            "description": item.get("description", ""),
            "field_of_action": fields[item["field_of_action"]],
            "district": districts[item["district"]] if item.get("district") else None,
            "status": item["status"],
            "start_date": _date(item.get("start")),
            "end_date": _date(item.get("end")),
            "budget_eur": Decimal(str(item["budget_eur"]))
            if item.get("budget_eur") is not None
            else None,
            "funding": item.get("funding") or "",
            "office": offices[item["office"]] if item.get("office") else None,
            "goals": item.get("goals") or [],
            "location": {"type": "Point", "coordinates": location} if location else None,
            "results": item.get("results") or "",
            "lessons_learned": item.get("lessons_learned") or "",
            # Leichte Sprache (easy-to-read German), where the data file has it
            "ls_summary": (item.get("ls") or {}).get("summary", ""),
            "ls_description": (item.get("ls") or {}).get("description", ""),
            "i18n": _translations(
                item, "title", "summary", "description", "goals", "results", "lessons_learned"
            ),
        },
        report,
        "measures",
    )
    # Children are replaced as a whole: the data file is the source of truth.
    measure.milestones.all().delete()
    english = (item.get("en") or {}).get("milestones") or []
    for index, stone in enumerate(item.get("milestones") or []):
        title_en = english[index] if index < len(english) else ""
        _save(
            Milestone(
                measure=measure,
                date=_date(stone["date"]),  # type: ignore[misc]  # full_clean() refuses None
                title=stone["title"],
                done=bool(stone.get("done")),
                i18n={"en": {"title": title_en}} if title_en else {},
            ),
            report,
            "milestones",
        )
    measure.links.all().delete()
    for position, link in enumerate(item.get("links") or []):
        _save(
            MeasureLink(measure=measure, title=link["title"], url=link["url"], position=position),
            report,
            "links",
        )


def demo_loader(context) -> DemoReport:
    """The core's ``DemoLoader``: loads the cities and leaves them in the shared ``DemoContext``
    (``context.city`` is the first hosted city of ``cities.json``, the one the demo shows)."""
    report = DemoReport()
    with transaction.atomic():
        cities = load_cities(report)
        for city in cities.values():
            if (DEMO_DIR / city.slug).is_dir():
                load_city_content(city, report)
    context.cities = cities
    context.city = next((c for c in cities.values() if c.role == CityRole.HOSTED), None)
    return report


@transaction.atomic
def load_demo(data_dir: Path = DEMO_DIR) -> DemoReport:
    """Create or update the demo cities and their content. Safe to run again."""
    report = DemoReport()
    cities = load_cities(report, data_dir)
    for city in cities.values():
        if (data_dir / city.slug).is_dir():
            load_city_content(city, report, data_dir)
    return report
