"""``herzstadt manage compute_indicators [city-slug …] [--due]``: compute the compass's indicators
now (all of the given cities, default all cities; ``--due``: only those whose schedule has come,
as the worker task ``compass-indicators`` does)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from herzstadt.compass import services
from herzstadt.core.models import City


class Command(BaseCommand):
    help = "Compute the values compass's indicators of the given cities (default: all)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("cities", nargs="*", help="short names of cities (default: all)")
        parser.add_argument(
            "--due", action="store_true", help="only the indicators whose schedule has come"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["due"]:
            if options["cities"]:
                raise CommandError("--due computes every city's due indicators; name no city")
            self.stdout.write(f"{services.compute_due()} indicators computed")
            return
        cities = City.objects.order_by("slug")
        if options["cities"]:
            cities = cities.filter(slug__in=options["cities"])
            missing = set(options["cities"]) - set(cities.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"unknown cities: {', '.join(sorted(missing))}")
        for city in cities:
            self.stdout.write(f"{city.slug}: {services.compute_city(city)} indicators computed")
