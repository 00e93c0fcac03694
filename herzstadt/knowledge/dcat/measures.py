"""The knowledge pillar's own dataset in the catalogue (the city's measure catalogue) and the links
between the parts of the pillar (the network API and the profile pages, resolved when the helper that
owns them has registered the URL, else the fixed path of the URL plan)."""

from __future__ import annotations

from django.db.models import Max, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _

from herzstadt.core.models import Measure
from herzstadt.core.registry import Dataset, Distribution

#: Datenlizenz Deutschland – Namensnennung – 2.0 (the measure profiles' licence)
LICENCE = "http://dcat-ap.de/def/licenses/dl-by-de/2.0"
IDENTIFIER = "knowledge-measures"


def shared_measures(city) -> QuerySet[Measure]:
    """The city's measures other cities may see: public, with a profile the city shares."""
    return (
        Measure.objects.filter(city=city, is_public=True, profile__shared=True)
        .select_related("profile", "field_of_action", "city")
        .order_by("title", "pk")
    )


def shared_measure(city, slug: str) -> Measure | None:
    return shared_measures(city).filter(slug=slug).first()


def _reverse(name: str, kwargs: dict, fallback: str) -> str:
    with translation.override("de"):
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            return fallback


def network_measures_path(city) -> str:
    """The network API's measure list of ``city`` (network helper; fixed by the URL plan)."""
    return _reverse(
        "api:network-measures", {"city": city.slug}, f"/api/v1/network/{city.slug}/measures/"
    )


def network_measure_path(measure: Measure) -> str:
    """The network record of a measure: the identity of the measure in RDF (``id`` of the record)."""
    return _reverse(
        "api:network-measure",
        {"city": measure.city.slug, "measure": measure.slug},
        f"/api/v1/network/{measure.city.slug}/measures/{measure.slug}/",
    )


def profile_path(measure: Measure) -> str:
    """The measure's profile page (knowledge catalogue), else the measure's page."""
    return _reverse("knowledge:profile", {"slug": measure.slug}, measure.get_absolute_url())


def catalogue_path() -> str:
    return _reverse("knowledge:catalogue", {}, "/wissen/")


def rdf_path(measure: Measure, suffix: str = "") -> str:
    with translation.override("de"):
        return reverse("knowledge:dcat-measure", kwargs={"slug": measure.slug}) + suffix


def datasets(city) -> list[Dataset]:
    """The measure catalogue as one dataset: the network API's JSON and the measures' RDF."""
    measures = shared_measures(city)
    if not measures.exists():
        return []
    agg = measures.aggregate(m=Max("updated_at"), p=Max("profile__updated_at"))
    modified = max(d for d in (agg["m"], agg["p"]) if d is not None)
    with translation.override("de"):
        rdf = reverse("knowledge:dcat-measures")
    distributions = (
        Distribution(
            url=network_measures_path(city),
            media_type="application/json",
            title=_("Measures of the city network (JSON)"),
            format="JSON",
        ),
        Distribution(
            url=rdf + ".ttl",
            media_type="text/turtle",
            title=_("Measures with their provenance (Turtle)"),
            format="turtle",
        ),
        Distribution(
            url=rdf + ".rdf",
            media_type="application/rdf+xml",
            title=_("Measures with their provenance (RDF/XML)"),
            format="RDF/XML",
        ),
        Distribution(
            url=rdf + ".jsonld",
            media_type="application/ld+json",
            title=_("Measures with their provenance (JSON-LD)"),
            format="JSON-LD",
        ),
    )
    return [
        Dataset(
            identifier=IDENTIFIER,
            title=_("Measures of %(city)s for other cities") % {"city": city.tr.name},
            description=_(
                "The smart-city measures %(city)s shares with other cities: goals, results, "
                "lessons learned, costs, the data models and software used, and which city took "
                "a measure over from which (W3C PROV)."
            )
            % {"city": city.tr.name},
            distributions=distributions,
            licence=LICENCE,
            keywords=("Smart City", "Maßnahmen", "Wissenstransfer"),
            themes=("GOVE", "TECH"),
            landing_page=catalogue_path(),
            modified=modified,
        )
    ]
