"""``herzstadt manage reindex_knowledge [city-slug …]``: rebuild the knowledge catalogue's index
(after rows were written without signals, e.g. a bulk import or a restored backup)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from herzstadt.core.models import City
from herzstadt.knowledge.search import reindex_city


class Command(BaseCommand):
    help = "Rebuild the knowledge catalogue's index of the given cities (default: all)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("cities", nargs="*", help="short names of cities (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        cities = City.objects.order_by("slug")
        if options["cities"]:
            cities = cities.filter(slug__in=options["cities"])
            missing = set(options["cities"]) - set(cities.values_list("slug", flat=True))
            if missing:
                raise CommandError(f"unknown cities: {', '.join(sorted(missing))}")
        for city in cities:
            n = reindex_city(city)
            self.stdout.write(f"{city.slug}: {n} catalogue entries")
