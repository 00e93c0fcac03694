"""Use cases of the knowledge pillar's own part: one function per use case, permission checked
inside, one transaction each."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from herzstadt.core import permissions
from herzstadt.core.models import Measure
from herzstadt.knowledge.models import MeasureProfile

#: What staff edit of a profile (the provenance ``origin_*`` is written by the adoption, not here).
EDITABLE = (
    "shared",
    "phase",
    "problem",
    "target_groups",
    "implementation_steps",
    "entity_types",
    "datasets",
    "software",
    "operator_model",
    "cost_investment_eur",
    "cost_operation_eur",
    "obstacles",
    "success_factors",
    "contact_name",
    "contact_email",
)


def save_profile(user: Any, measure: Measure, data: dict[str, Any]) -> MeasureProfile:
    """Create or change the profile of ``measure`` from ``data`` (the editable fields; missing keys
    keep their value). A change bumps ``version``; saving without a change does not. Requires
    ``knowledge.manage`` for the measure's city; raises ``ValidationError`` on bad data (nothing is
    written then)."""
    permissions.require(user, "knowledge.manage", measure)
    with transaction.atomic():
        profile = MeasureProfile.objects.select_for_update().filter(measure=measure).first()
        created = profile is None
        if profile is None:
            profile = MeasureProfile(measure=measure, city=measure.city)
        before = {name: getattr(profile, name) for name in EDITABLE}
        for name in EDITABLE:
            if name in data:
                setattr(profile, name, data[name])
        profile.full_clean()
        changed = any(before[name] != getattr(profile, name) for name in EDITABLE)
        if created:
            profile.version = 1
        elif changed:
            profile.version += 1
        if created or changed:
            profile.save()
    return profile
