"""The catalogue's index and German-aware full-text search, on the database the suite runs on
(SQLite by default; PostgreSQL with HERZSTADT_TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest
from django.db import connection

from herzstadt.knowledge import search
from herzstadt.knowledge.models import CatalogueEntry, CatalogueKind

pytestmark = pytest.mark.django_db


def titles(city, q: str) -> list[str]:
    return [e.title for e in search.search(search.catalogue(city), q)]


def test_shared_profiles_and_partner_measures_are_indexed(
    city, make_profile, make_partner, make_partner_measure
):
    own = make_profile(title="Smarte Laternen", phase="pilot", entity_types=["Streetlight"])
    make_profile(title="Entwurf", shared=False)
    partner = make_partner("Wolfsburg")
    pm = make_partner_measure(partner, title="Parkplatzsensoren", entity_types=["ParkingSpot"])
    entries = {e.title: e for e in search.catalogue(city)}
    assert set(entries) == {"Smarte Laternen", "Parkplatzsensoren"}
    assert entries["Smarte Laternen"].kind == CatalogueKind.OWN
    assert entries["Smarte Laternen"].slug == own.measure.slug
    assert entries["Parkplatzsensoren"].partner_measure_id == pm.pk
    assert entries["Parkplatzsensoren"].source_name == "Wolfsburg"
    assert list(entries["Parkplatzsensoren"].types.values_list("name", flat=True)) == [
        "ParkingSpot"
    ]


def test_index_follows_changes(city, make_profile, make_partner, make_partner_measure):
    profile = make_profile(title="Smarte Laternen")
    measure = profile.measure
    measure.title = "Intelligente Straßenbeleuchtung"
    measure.save()
    assert titles(city, "Straßenbeleuchtung") == ["Intelligente Straßenbeleuchtung"]
    assert titles(city, "Laternen") == []
    profile.shared = False
    profile.save()
    assert not CatalogueEntry.objects.filter(city=city).exists()
    profile.shared = True
    profile.save()
    measure.is_public = False
    measure.save()
    assert not CatalogueEntry.objects.filter(city=city).exists()

    partner = make_partner()
    pm = make_partner_measure(partner, title="Parkplatzsensoren")
    assert titles(city, "Parkplatzsensoren") == ["Parkplatzsensoren"]
    partner.enabled = False
    partner.save()
    assert titles(city, "Parkplatzsensoren") == []  # a partner no longer followed is not shown
    partner.enabled = True
    partner.save()
    pm.delete()
    assert titles(city, "Parkplatzsensoren") == []
    assert not CatalogueEntry.objects.filter(city=city).exists()


def test_reindex_partner_measure_after_a_bulk_write(city, make_partner, make_partner_measure):
    from herzstadt.knowledge.models import PartnerMeasure

    pm = make_partner_measure(make_partner(), title="Parkplatzsensoren")
    PartnerMeasure.objects.filter(pk=pm.pk).update(title="Ladesäulen-Finder")  # no signal
    assert titles(city, "Ladesäulen") == []
    pm.refresh_from_db()
    search.reindex_partner_measure(pm)
    assert titles(city, "Ladesäulen") == ["Ladesäulen-Finder"]


def test_german_word_forms_find_each_other(city, make_profile):
    make_profile(
        title="Freie Parkplätze finden", summary="Sensoren melden, wo geparkt werden kann."
    )
    make_profile(title="Parkplatz-App", summary="Eine App für die Innenstadt.")
    make_profile(title="Stadtbäume", summary="Bewässerung mit Bodenfeuchtesensoren.")
    # both databases: singular finds plural and plural finds singular, umlauts included
    assert set(titles(city, "Parkplatz")) == {"Freie Parkplätze finden", "Parkplatz-App"}
    assert set(titles(city, "Parkplätze")) == {"Freie Parkplätze finden", "Parkplatz-App"}
    # prefixes, case and several words (all must match)
    assert titles(city, "bewässer") == ["Stadtbäume"]
    assert titles(city, "PARKPLATZ innenstadt") == ["Parkplatz-App"]
    assert titles(city, "Parkplatz Bewässerung") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the german stemmer is PostgreSQL's")
def test_postgresql_stems_and_ignores_stop_words(city, make_profile):
    make_profile(title="Bürgerbeteiligung", summary="Die Bürger entscheiden über Haushaltsmittel.")
    # the Snowball stemmer: "Bürgern" and "Bürger" both stem to "burg"
    assert titles(city, "Bürgern") == ["Bürgerbeteiligung"]
    # "und", "oder" are German stop words: they do not have to occur
    assert titles(city, "Bürger und oder Haushaltsmittel") == ["Bürgerbeteiligung"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 prefix search")
def test_sqlite_folds_umlauts_and_matches_prefixes(city, make_profile):
    make_profile(title="Bürgerbeteiligung", summary="Die Bürger entscheiden über Haushaltsmittel.")
    assert titles(city, "Burger") == ["Bürgerbeteiligung"]  # umlauts folded
    assert titles(city, "haushalt") == ["Bürgerbeteiligung"]  # a prefix of a compound
    assert titles(city, "Bürger und") == []  # no stop words: "und" must occur


def test_ranking_prefers_title_hits(city, make_profile):
    make_profile(title="Stadtbäume", summary="Auch Parkplätze bekommen Bäume.")
    make_profile(title="Parkplatzsensoren", summary="Sensoren im Boden.")
    assert titles(city, "Parkplatz") == ["Parkplatzsensoren", "Stadtbäume"]


def test_odd_queries_are_harmless(city, make_profile):
    make_profile(title="Parkplatzsensoren")
    for q in ['"', "*", "AND OR NOT", "a:*", "'); DROP TABLE x; --", "NEAR(", "^", "\\", "   "]:
        list(search.search(search.catalogue(city), q))  # no error
    assert search.words("  ") == []
    assert len(search.words(" ".join(["wort"] * 50))) == search.MAX_WORDS


def test_every_city_has_its_own_catalogue(city, other_city, make_profile):
    from herzstadt.knowledge.models import MeasureProfile
    from tests.factories import make_measure

    make_profile(title="Parkplatzsensoren")
    measure = make_measure(other_city, slug="park", title="Parkplatzsensoren Musterstadt")
    MeasureProfile.objects.create(measure=measure)
    assert titles(city, "Parkplatz") == ["Parkplatzsensoren"]
    assert titles(other_city, "Parkplatz") == ["Parkplatzsensoren Musterstadt"]
    assert search.reindex_city(city) == 1


def test_reindex_command(city, make_profile, make_partner, make_partner_measure):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from herzstadt.knowledge.models import PartnerMeasure

    make_profile(title="Smarte Laternen")
    pm = make_partner_measure(make_partner(), title="Parkplatzsensoren")
    PartnerMeasure.objects.filter(pk=pm.pk).update(title="Ladesäulen-Finder")
    out = StringIO()
    call_command("reindex_knowledge", "kaiserslautern", stdout=out)
    assert "kaiserslautern: 2 catalogue entries" in out.getvalue()
    assert titles(city, "Ladesäulen") == ["Ladesäulen-Finder"]
    with pytest.raises(CommandError):
        call_command("reindex_knowledge", "atlantis")
