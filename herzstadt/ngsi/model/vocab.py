"""The vocabulary of the stored form: NGSI-LD names, attribute types and their value members,
reserved names, and the checks of names, URIs and date-times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..errors import BadRequestData

NGSI = "https://uri.etsi.org/ngsi-ld/"
LOCATION = NGSI + "location"
OBSERVATION_SPACE = NGSI + "observationSpace"
OPERATION_SPACE = NGSI + "operationSpace"
GEO_DEFAULTS = frozenset((LOCATION, OBSERVATION_SPACE, OPERATION_SPACE))
NULL = "urn:ngsi-ld:null"

VALUE_MEMBER = {
    "Property": "value",
    "Relationship": "object",
    "GeoProperty": "value",
    "LanguageProperty": "languageMap",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
    "JsonProperty": "json",
    "VocabProperty": "vocab",
}
ATTR_TYPES = frozenset(VALUE_MEMBER)
VALUE_MEMBERS = frozenset(VALUE_MEMBER.values())
# members of a request's instance that parsing skips (system-generated or request-only)
IGNORED_MEMBERS = frozenset(
    ("createdAt", "modifiedAt", "deletedAt", "instanceId", "lang", "@context", "previousValue")
)
# members of an instance that are not sub-attributes
INSTANCE_META = (
    frozenset(("type", "observedAt", "unitCode", "datasetId", "objectType"))
    | IGNORED_MEMBERS
    | VALUE_MEMBERS
)
ENTITY_RESERVED = frozenset(
    ("id", "@id", "type", "@type", "scope", "@context", "createdAt", "modifiedAt", "deletedAt")
)
# names that cannot be used as attribute names
FORBIDDEN_ATTR_NAMES = frozenset(
    (
        "id",
        "type",
        "@id",
        "@type",
        "value",
        "object",
        "scope",
        "languageMap",
        "valueList",
        "objectList",
        "json",
        "vocab",
    )
)

# no whitespace, no control characters (NUL included: PostgreSQL text cannot hold it)
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$")
_FORBIDDEN_NAME_RE = re.compile(r"[<>\"'=;()\s\x00-\x1f\x7f&?]")
_SCOPE_RE = re.compile(r"^/([^/#+\s\x00-\x1f\x7f]+(/[^/#+\s\x00-\x1f\x7f]+)*)?$|^/#$")
_DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_LANG_RE = re.compile(r"^(@none|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$")


def now_iso() -> str:
    d = datetime.now(UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def is_uri(s: Any) -> bool:
    return isinstance(s, str) and len(s) < 2048 and _URI_RE.match(s) is not None


_GOOD_NAMES: set[str] = set()


def check_name(name: Any, what: str = "attribute name") -> str:
    if type(name) is str and name in _GOOD_NAMES:
        return name
    if not isinstance(name, str) or not name or name[0] == "@":
        raise BadRequestData(f"invalid {what}: {name!r}")
    if _FORBIDDEN_NAME_RE.search(name):
        raise BadRequestData(f"invalid character in {what} {name!r}")
    if len(_GOOD_NAMES) < 50_000:
        _GOOD_NAMES.add(name)
    return name


def check_datetime(v: Any, what: str) -> str:
    if not isinstance(v, str) or not _DATETIME_RE.match(v):
        raise BadRequestData(f"{what} must be an ISO 8601 DateTime string, got {v!r}")
    try:
        datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestData(f"{what} is not a valid DateTime: {v!r}") from None
    return v


def check_language_tag(tag: Any) -> bool:
    return type(tag) is str and _LANG_RE.match(tag) is not None
