"""Replicating a partner's measure ("Übernehmen") with provenance, and telling the origin.

:func:`adopt_measure` creates the new core measure, its profile with ``origin_*`` provenance and
the chosen transfer parts in ONE transaction (a part that refuses its data rolls everything back).
Afterwards, outside the transaction, the origin is told (``POST`` to the record's ``reuses_url``
with the key the partner issued); if that fails, ``report_pending`` stays set and the harvest task
retries it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from django.db import transaction
from django.utils import timezone

from herzstadt.core import registry
from herzstadt.core.models import District, FieldOfAction, Measure, MeasureStatus, Milestone
from herzstadt.knowledge.models import MaturityPhase, MeasureProfile, PartnerMeasure
from herzstadt.knowledge.network import conf
from herzstadt.knowledge.network.client import NetworkError, request

log = logging.getLogger(__name__)


class AdoptionError(Exception):
    """The measure could not be adopted; the message says why (nothing was saved)."""


@dataclass
class Choices:
    """What the staff chose in the adoption form."""

    slug: str
    field_of_action: FieldOfAction
    district: District | None = None
    title: str = ""
    profile: bool = True
    milestones: bool = True
    start_date: dt.date | None = None
    parts: list[str] = field(default_factory=list)


def _text(data: dict, key: str, limit: int | None = None) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        return ""
    return value[:limit] if limit else value


def _list_of(data: dict, key: str, kind: type, limit: int = 100) -> list:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, kind)][:limit]


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() and 0 <= d < Decimal("1e12") else None


def _milestones(data: dict, start: dt.date) -> list[tuple[dt.date, str]]:
    """The origin's milestones re-dated so that the first falls on ``start`` (same gaps)."""
    raw = []
    for m in _list_of(data, "milestones", dict, 200):
        try:
            when = dt.date.fromisoformat(str(m.get("date")))
        except ValueError:
            continue
        title = m.get("title")
        if isinstance(title, str) and title.strip():
            raw.append((when, title.strip()[:200]))
    if not raw:
        return []
    raw.sort()
    first = raw[0][0]
    return [(start + (when - first), title) for when, title in raw]


def available_parts(pm: PartnerMeasure) -> list[registry.TransferPart]:
    """The registered parts that the partner's record carries."""
    parts = pm.data.get("parts") if isinstance(pm.data, dict) else None
    if not isinstance(parts, dict):
        return []
    return [p for p in registry.transfer_parts() if p.key in parts]


def adopt_measure(user: Any, pm: PartnerMeasure, choices: Choices) -> Measure:
    """Create this city's copy of the partner measure ``pm`` (see the module text) and try to
    report it to the origin. Raises :class:`AdoptionError` when nothing could be saved."""
    city = pm.city
    data = pm.data if isinstance(pm.data, dict) else {}
    if choices.field_of_action.city_id != city.pk:
        raise AdoptionError("The field of action belongs to another city.")
    if choices.district is not None and choices.district.city_id != city.pk:
        raise AdoptionError("The district belongs to another city.")
    if Measure.objects.filter(city=city, slug=choices.slug).exists():
        raise AdoptionError("A measure with this short name exists already.")
    available = {p.key: p for p in available_parts(pm)}
    unknown = [k for k in choices.parts if k not in available]
    if unknown:
        raise AdoptionError(f"The record has no part {unknown[0]!r} to take over.")
    copied: list[str] = []
    try:
        with transaction.atomic():
            measure = Measure(
                city=city,
                slug=choices.slug,
                title=(choices.title or pm.title)[:200],
                summary=(_text(data, "summary") or pm.summary or pm.title)[:600],
                field_of_action=choices.field_of_action,
                district=choices.district,
                status=MeasureStatus.IDEA,
                # public and shared at once, so that the record reported to the origin exists
                # (status "idea" says it is not done here yet; the staff adapt it next)
                is_public=True,
            )
            if choices.profile:
                measure.description = _text(data, "description", 20000)
                measure.goals = [g[:500] for g in _list_of(data, "goals", str)]
                measure.funding = _text(data, "funding", 300)
                copied.append("profile")
            measure.full_clean()
            measure.save()
            profile = MeasureProfile(measure=measure, shared=True)
            if choices.profile:
                phase = _text(data, "phase")
                profile.phase = phase if phase in MaturityPhase.values else MaturityPhase.IDEA
                for name in ("problem", "target_groups", "operator_model", "obstacles"):
                    setattr(profile, name, _text(data, name, 20000))
                profile.success_factors = _text(data, "success_factors", 20000)
                profile.implementation_steps = [
                    s[:1000] for s in _list_of(data, "implementation_steps", str)
                ]
                profile.entity_types = [t[:200] for t in _list_of(data, "entity_types", str)]
                profile.datasets = _list_of(data, "datasets", dict)
                profile.software = _list_of(data, "software", dict)
                profile.cost_investment_eur = _decimal(data.get("cost_investment_eur"))
                profile.cost_operation_eur = _decimal(data.get("cost_operation_eur"))
            profile.origin_uri = pm.remote_id
            profile.origin_city = pm.partner.name[:200]
            profile.origin_title = pm.title[:200]
            profile.origin_version = pm.version
            profile.origin_partner = pm.partner
            profile.adopted_at = timezone.now()
            profile.report_pending = True
            if choices.milestones:
                start = choices.start_date or timezone.localdate()
                for when, title in _milestones(data, start):
                    Milestone.objects.create(measure=measure, date=when, title=title, done=False)
                copied.append("milestones")
            for key in choices.parts:
                part = available[key]
                summary = part.adopt(measure, data["parts"][key], user)
                log.info("adopted part %s of %s: %s", key, pm.remote_id, summary)
                copied.append(key)
            profile.adopted_parts = copied
            profile.full_clean(exclude=["measure"])
            profile.save()
    except AdoptionError:
        raise
    except Exception as e:
        from django.core.exceptions import ValidationError

        if isinstance(e, ValidationError):
            raise AdoptionError("; ".join(e.messages)) from e
        if isinstance(e, (ValueError, TypeError, KeyError)):
            raise AdoptionError(f"The partner's data could not be taken over: {e}") from e
        raise
    report_back(profile)
    return measure


def _adopted_url(measure: Measure) -> str:
    """The adopted measure's network record at this installation (its RDF subject, too)."""
    from django.urls import reverse

    path = reverse(
        "api:network-measure", kwargs={"city": measure.city.slug, "measure": measure.slug}
    )
    return (conf.self_url() or _public_url()) + path


def _public_url() -> str:
    from django.conf import settings

    if getattr(settings, "HERZSTADT_PUBLIC_URL", ""):
        return str(settings.HERZSTADT_PUBLIC_URL)
    import os

    hosts = [h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")]
    host = hosts[0] if hosts else "localhost"
    return f"http://{host}:{os.environ.get('HERZSTADT_PORT', '8000')}"


def report_back(profile: MeasureProfile) -> bool:
    """Tell the origin about the adoption; True when it accepted (or nothing to tell)."""
    if not profile.report_pending:
        return True
    partner = profile.origin_partner
    pm = (
        PartnerMeasure.objects.filter(partner=partner, remote_id=profile.origin_uri).first()
        if partner
        else None
    )
    reuses_url = (pm.data.get("reuses_url") if pm and isinstance(pm.data, dict) else None) or (
        profile.origin_uri.rstrip("/") + "/reuses/"
    )
    error = ""
    if partner is None:
        error = "The partner was removed; the origin cannot be told."
    elif not partner.api_key:
        error = "No key for reports to this partner is set (ask the partner for one)."
    elif conf.origin(reuses_url) != conf.origin(profile.origin_uri):
        error = "The record's report address is not on the partner's address."
    if not error:
        measure = profile.measure
        body = {
            "city": measure.city.name,
            "installation": conf.self_url() or _public_url(),
            "measure_url": _adopted_url(measure),
            "title": measure.title,
            "origin_version": profile.origin_version,
            "adopted_at": profile.adopted_at.isoformat() if profile.adopted_at else None,
        }
        try:
            answer = request(
                "POST",
                reuses_url,
                headers={
                    "Authorization": f"Bearer {partner.api_key}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
                body=orjson.dumps(body),
                max_bytes=64 * 1024,
            )
            if answer.status in (200, 201):
                MeasureProfile.objects.filter(pk=profile.pk).update(
                    report_pending=False, report_error=""
                )
                profile.report_pending, profile.report_error = False, ""
                return True
            error = f"The origin answered with HTTP {answer.status}."
            if answer.status in (401, 403):
                error += " Check the key for reports to this partner."
        except NetworkError as e:
            error = str(e)
    MeasureProfile.objects.filter(pk=profile.pk).update(report_error=error[:1000])
    profile.report_error = error
    return False


def retry_pending_reports(limit: int = 20) -> int:
    """Retry the reports the origin has not accepted yet; how many succeeded."""
    done = 0
    pending = MeasureProfile.objects.filter(
        report_pending=True, origin_partner__isnull=False, origin_partner__enabled=True
    ).select_related("measure__city", "origin_partner")[:limit]
    for profile in pending:
        if report_back(profile):
            done += 1
    return done
