"""The urban-data part of a measure another city can take over (``TransferPart`` "data-models"):
the entity types the measure names (:class:`~herzstadt.urbandata.models.MeasureEntityTypes`), as
Smart Data Model names with their links.

``export(measure)``: ``{"format": 1, "entity_types": [{"name", "type", "subject", "url"}]}`` —
``type`` the expanded type IRI, ``name`` its short name, and for a FIWARE Smart Data Model
(``https://smartdatamodels.org/dataModel.<Subject>/<Name>``) ``subject`` and ``url``, the model's
folder at https://github.com/smart-data-models; ``None`` when the measure names no type.

``adopt(measure, data, user)``: sets the new measure's entity types to the template's syntactically
valid type IRIs (absolute http(s) IRIs without user info or query, or ``urn:`` names;
Smart Data Model IRIs must have the model's form); entries that are not are skipped with a note. No
address in the template is ever fetched. Only staff of the measure's city may do it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from herzstadt.core import permissions, registry
from herzstadt.core.models import Measure
from herzstadt.urbandata.models import MeasureEntityTypes

KEY = "data-models"
FORMAT = 1
MAX_TYPES = 50
MAX_IRI = 300
SDM_BASE = "https://smartdatamodels.org/"
SDM_GITHUB = "https://github.com/smart-data-models/"
#: https://smartdatamodels.org/dataModel.<Subject>/<Name>
SDM_IRI = re.compile(
    r"^https://smartdatamodels\.org/(dataModel\.[A-Za-z0-9]{1,60})/([A-Za-z][A-Za-z0-9_-]{0,99})$"
)
#: a short NGSI-LD type name (what follows the last "/" or "#")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
URN = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[A-Za-z0-9()+,\-.:=@;$_!*'%/?#]{1,250}$")


def short_name(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1]


def describe(iri: str) -> dict[str, Any]:
    """One entity type as the template lists it."""
    found = SDM_IRI.match(iri)
    item: dict[str, Any] = {"name": short_name(iri), "type": iri}
    if found:
        subject, name = found.groups()
        item.update(subject=subject, url=f"{SDM_GITHUB}{subject}/tree/master/{name}")
    return item


def export(measure: Measure) -> dict[str, Any] | None:
    linked = MeasureEntityTypes.objects.filter(measure=measure).first()
    types = sorted(
        {t for t in (linked.entity_types if linked else None) or [] if isinstance(t, str)}
    )
    if not types:
        return None
    return {"format": FORMAT, "entity_types": [describe(t) for t in types]}


def valid_type(iri: Any) -> bool:
    """Whether ``iri`` is a syntactically valid expanded entity type (never fetched)."""
    if not isinstance(iri, str) or not 0 < len(iri) <= MAX_IRI or iri != iri.strip():
        return False
    if any(c.isspace() or ord(c) < 32 or c in '<>"{}|\\^`' for c in iri):
        return False
    if iri.startswith("urn:"):
        return bool(URN.match(iri))
    if iri.startswith(SDM_BASE):
        return bool(SDM_IRI.match(iri))
    try:
        parts = urlsplit(iri)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.username or parts.password or "?" in iri or "/" in parts.fragment:
        return False
    if not parts.path.strip("/") and not parts.fragment:
        return False  # a host alone names no type
    return bool(NAME.match(short_name(iri)))


def check(data: Any) -> tuple[list[str], int]:
    """The template's valid type IRIs (sorted, unique) and how many entries were skipped; raises
    ``ValidationError`` when the template is not one."""

    def refused(problem: str) -> ValidationError:
        return ValidationError(
            _("The data models were refused: %(problem)s.") % {"problem": problem}, code="invalid"
        )

    if not isinstance(data, dict):
        raise refused(_("the template must be an object"))
    fmt = data.get("format", FORMAT)
    if isinstance(fmt, bool) or not isinstance(fmt, int) or not 1 <= fmt <= FORMAT:
        raise refused(_("the format is not one this installation reads"))
    items = data.get("entity_types")
    if not isinstance(items, list):
        raise refused(_("entity_types must be a list"))
    if len(items) > MAX_TYPES:
        raise refused(_("at most %(n)s entity types") % {"n": MAX_TYPES})
    types: set[str] = set()
    skipped = 0
    for item in items:
        iri = item.get("type") if isinstance(item, dict) else item
        if isinstance(iri, str) and valid_type(iri):
            types.add(iri)
        else:
            skipped += 1
    return sorted(types), skipped


def adopt(measure: Measure, data: Any, user: Any) -> str:
    """Set ``measure``'s entity types from the partner's template; returns what was set."""
    permissions.require(user, "accounts.city_staff", measure.city)
    types, skipped = check(data)
    MeasureEntityTypes.objects.update_or_create(
        measure=measure, defaults={"city_id": measure.city_id, "entity_types": types}
    )
    names = ", ".join(short_name(t) for t in types)
    text = ngettext("%(n)s data model: %(names)s", "%(n)s data models: %(names)s", len(types)) % {
        "n": len(types),
        "names": names or "–",
    }
    if skipped:
        text += (
            " ("
            + ngettext("%(n)s invalid entry skipped", "%(n)s invalid entries skipped", skipped)
            % {"n": skipped}
            + ")"
        )
    return text


LABEL = gettext_lazy("Data models (Smart Data Models the measure uses)")

PART = registry.TransferPart(key=KEY, label=LABEL, export=export, adopt=adopt, order=30)
