"""The catalogue's index and its German-aware full-text search.

Every catalogue item — a shared profile of one of the city's own public measures, or a measure
harvested from a partner — is one :class:`~herzstadt.knowledge.models.CatalogueEntry` row, kept in
step by the signals below. The full-text index over ``search_title``/``search_body`` is the
database's own:

- **PostgreSQL**: a generated ``tsvector`` column in the ``german`` configuration with a GIN index
  (migration 0002). Each word of a query is stemmed by the German Snowball stemmer and matched as a
  prefix, so "Parkplatz" finds "Parkplätze" (both stem to ``parkplatz``) and "Parkpl" finds both;
  German stop words ("und", "der") are ignored. Ranked by ``ts_rank`` (title counts more).
- **SQLite**: an FTS5 table (``unicode61`` with umlauts folded, so "a" matches "ä") filled by
  triggers. There is no stemmer and there are no stop words: each word of a query loses one common
  German ending ("-en", "-e", "-er", "-n", "-s", …) when at least four letters remain and is
  matched as a prefix, so "Parkplätze" and "Parkplatz" find each other too, but a document's word
  with a longer ending is only found by the query's shorter form, and "und" in a query must occur
  in the text. Ranked by BM25 (title counts ten times).

All words must match (AND) on both. The network helper's harvester writes
:class:`~herzstadt.knowledge.models.PartnerMeasure` rows through the ORM: the ``post_save`` and
``post_delete`` signals index them; code that writes them otherwise (``bulk_create``,
``QuerySet.update``) calls :func:`reindex_partner_measure` / :func:`reindex_partner` afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import BooleanField, FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import translation

from herzstadt.core.models import City, FieldOfAction, Measure
from herzstadt.knowledge.models import (
    CatalogueEntry,
    CatalogueEntryType,
    CatalogueKind,
    MaturityPhase,
    MeasureProfile,
    Partner,
    PartnerMeasure,
)

#: At most this many words of a query are used.
MAX_WORDS = 8
#: Endings dropped from a query word on SQLite (longest first), when at least 4 letters remain.
_SQLITE_ENDINGS = ("ern", "en", "er", "es", "em", "e", "n", "s")
_WORD = re.compile(r"[^\W_]+")
_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,119}$")


# --- building the entries ---------------------------------------------------------------------------
def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _texts(value: Any) -> list[str]:
    """The strings in a list (a partner's data may hold anything)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            out += [v for k, v in item.items() if k in ("title", "name") and isinstance(v, str)]
    return out


def _type_names(value: Any) -> list[str]:
    names: list[str] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, str) and _TYPE_NAME.match(item) and item not in names:
            names.append(item)
    return names


def _phase(value: Any) -> str:
    return value if value in MaturityPhase.values else ""


def _phase_label(value: str) -> str:
    with translation.override("de"):
        return str(MaturityPhase(value).label) if value in MaturityPhase.values else ""


def _join(parts: Iterable[str]) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


def _store(entry: CatalogueEntry, types: list[str]) -> CatalogueEntry:
    entry.save()
    CatalogueEntryType.objects.filter(entry=entry).exclude(name__in=types).delete()
    known = set(CatalogueEntryType.objects.filter(entry=entry).values_list("name", flat=True))
    CatalogueEntryType.objects.bulk_create(
        [
            CatalogueEntryType(city_id=entry.city_id, entry=entry, name=t)
            for t in types
            if t not in known
        ]
    )
    return entry


def reindex_profile(profile: MeasureProfile) -> CatalogueEntry | None:
    """Put the profile's measure into the catalogue when it is shared and public, else take it out."""
    measure = profile.measure
    if not (profile.shared and measure.is_public):
        CatalogueEntry.objects.filter(profile=profile).delete()
        return None
    entry = CatalogueEntry.objects.filter(profile=profile).first() or CatalogueEntry(
        profile=profile
    )
    field = measure.field_of_action
    types = _type_names(profile.entity_types)
    entry.city_id = measure.city_id
    entry.kind = CatalogueKind.OWN
    entry.partner = None
    entry.slug = measure.slug
    entry.title = measure.title
    entry.summary = measure.summary
    entry.field_of_action = field.name if field else ""
    entry.phase = profile.phase
    entry.source_name = measure.city.name
    entry.entity_types = types
    entry.version = profile.version
    entry.modified = max(profile.updated_at, measure.updated_at)
    entry.search_title = measure.title
    entry.search_body = _join(
        [
            measure.summary,
            measure.description,
            *_texts(measure.goals),
            profile.problem,
            profile.target_groups,
            *_texts(profile.implementation_steps),
            profile.operator_model,
            profile.obstacles,
            profile.success_factors,
            measure.results,
            measure.lessons_learned,
            *_texts(profile.datasets),
            *_texts(profile.software),
            " ".join(types),
            entry.field_of_action,
            _phase_label(profile.phase),
            measure.city.name,
            profile.origin_city,
        ]
    )
    return _store(entry, types)


def reindex_partner_measure(pm: PartnerMeasure) -> CatalogueEntry:
    """Index (or re-index) a harvested partner measure; call it after writing one without
    ``save()`` (the signal does it otherwise)."""
    data = pm.data if isinstance(pm.data, dict) else {}
    entry = CatalogueEntry.objects.filter(partner_measure=pm).first() or CatalogueEntry(
        partner_measure=pm
    )
    partner = pm.partner
    types = _type_names(pm.entity_types) or _type_names(data.get("entity_types"))
    city = data.get("city") if isinstance(data.get("city"), dict) else {}
    source = _text(city.get("name")) or partner.name
    entry.city_id = pm.city_id
    entry.kind = CatalogueKind.PARTNER
    entry.partner = partner
    entry.slug = ""
    entry.title = pm.title[:200]
    entry.summary = pm.summary
    entry.field_of_action = pm.field_of_action[:200]
    entry.phase = _phase(pm.phase)
    entry.source_name = source[:200]
    entry.entity_types = types
    entry.version = pm.version
    entry.modified = pm.modified or pm.harvested_at
    entry.search_title = pm.title
    entry.search_body = _join(
        [
            pm.summary,
            _text(data.get("description")),
            *_texts(data.get("goals")),
            _text(data.get("problem")),
            _text(data.get("target_groups")),
            *_texts(data.get("implementation_steps")),
            _text(data.get("operator_model")),
            _text(data.get("obstacles")),
            _text(data.get("success_factors")),
            _text(data.get("results")),
            _text(data.get("lessons_learned")),
            *_texts(data.get("datasets")),
            *_texts(data.get("software")),
            " ".join(types),
            pm.field_of_action,
            _phase_label(entry.phase),
            source,
        ]
    )
    return _store(entry, types)


def reindex_partner(partner: Partner) -> None:
    """Re-index every harvested measure of a partner (e.g. after a bulk write)."""
    for pm in PartnerMeasure.objects.filter(partner=partner).select_related("partner"):
        reindex_partner_measure(pm)


def reindex_city(city: City) -> int:
    """Rebuild the catalogue of ``city`` from its profiles and partner measures; the number of
    entries."""
    CatalogueEntry.objects.filter(city=city).delete()
    for profile in MeasureProfile.objects.filter(city=city).select_related(
        "measure__field_of_action", "measure__city"
    ):
        reindex_profile(profile)
    for pm in PartnerMeasure.objects.filter(city=city).select_related("partner"):
        reindex_partner_measure(pm)
    return CatalogueEntry.objects.filter(city=city).count()


# --- keeping it in step -----------------------------------------------------------------------------
@receiver(post_save, sender=MeasureProfile, dispatch_uid="knowledge-index-profile")
def _profile_saved(sender: Any, instance: MeasureProfile, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        reindex_profile(instance)


@receiver(post_save, sender=Measure, dispatch_uid="knowledge-index-measure")
def _measure_saved(sender: Any, instance: Measure, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    profile = MeasureProfile.objects.filter(measure=instance).first()
    if profile is not None:
        profile.measure = instance
        reindex_profile(profile)


@receiver(post_save, sender=FieldOfAction, dispatch_uid="knowledge-index-field")
def _field_saved(sender: Any, instance: FieldOfAction, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    for profile in MeasureProfile.objects.filter(measure__field_of_action=instance).select_related(
        "measure__field_of_action", "measure__city"
    ):
        reindex_profile(profile)


@receiver(post_save, sender=PartnerMeasure, dispatch_uid="knowledge-index-partner-measure")
def _partner_measure_saved(
    sender: Any, instance: PartnerMeasure, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        reindex_partner_measure(instance)


@receiver(post_delete, sender=PartnerMeasure, dispatch_uid="knowledge-unindex-partner-measure")
def _partner_measure_deleted(sender: Any, instance: PartnerMeasure, **kwargs: Any) -> None:
    CatalogueEntry.objects.filter(partner_measure_id=instance.pk).delete()


# --- searching --------------------------------------------------------------------------------------
def words(query: str) -> list[str]:
    """The words of a query (letters and digits; at most :data:`MAX_WORDS`, each at most 40)."""
    return [w[:40].lower() for w in _WORD.findall(query or "")][:MAX_WORDS]


def _sqlite_word(word: str) -> str:
    for ending in _SQLITE_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


_PG_MATCH = "knowledge_catalogueentry.search_document @@ to_tsquery('german'::regconfig, %s)"
_PG_RANK = "ts_rank(knowledge_catalogueentry.search_document, to_tsquery('german'::regconfig, %s))"
_SQLITE_MATCH = (
    "knowledge_catalogueentry.id IN "
    "(SELECT rowid FROM knowledge_search_fts WHERE knowledge_search_fts MATCH %s)"
)
_SQLITE_RANK = (
    "(SELECT -bm25(knowledge_search_fts, 10.0, 1.0) FROM knowledge_search_fts "
    "WHERE knowledge_search_fts MATCH %s AND rowid = knowledge_catalogueentry.id)"
)


def catalogue(city: City) -> QuerySet[CatalogueEntry]:
    """The city's catalogue: its shared profiles and the measures of partners it follows."""
    return CatalogueEntry.objects.filter(city=city).filter(
        Q(partner__isnull=True) | Q(partner__enabled=True)
    )


def search(entries: QuerySet[CatalogueEntry], query: str) -> QuerySet[CatalogueEntry]:
    """``entries`` matching every word of ``query``, best first (annotated ``rank``)."""
    terms = words(query)
    if not terms:
        return entries
    if connection.vendor == "postgresql":
        match, rank = _PG_MATCH, _PG_RANK
        params = [" & ".join(f"{t}:*" for t in terms)]
    else:
        match, rank = _SQLITE_MATCH, _SQLITE_RANK
        params = [" ".join(f'"{_sqlite_word(t)}"*' for t in terms)]
    # fixed SQL text; the query is bound as a parameter (its words are letters and digits only)
    return (
        entries.filter(RawSQL(match, params, output_field=BooleanField()))  # noqa: S611
        .annotate(rank=RawSQL(rank, params, output_field=FloatField()))  # noqa: S611
        .order_by("-rank", "title", "pk")
    )
