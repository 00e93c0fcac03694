"""Entity and attribute payloads: parse + validate into the stored form, render the stored form.

The stored form is described in docs/ngsi-ld.md: expanded names, every attribute a list of instances
(default instance first), one value member per instance chosen by its type. By concern:

    vocab.py      names, attribute types and value members, checks of names/URIs/date-times
    parse.py      request entities/attributes -> stored form (GeoJSON through ..geojson)
    instances.py  timestamps, datasetId look-up/insertion, merge of one instance
    render.py     stored form -> normalized / concise / keyValues / GeoJSON Feature

This module re-exports the public names, so ``from herzstadt.ngsi import model; model.X`` works.
"""

from __future__ import annotations

from ..geojson import GEO_TYPES
from ..httputil import weighted_items  # Accept/lang weights: HTTP layer, re-exported for callers
from .instances import instance_index, merge_instance, put_instance, stamp, stamp_attrs
from .parse import (
    ParseOptions,
    check_geometry,
    looks_like_geometry,
    parse_attribute,
    parse_attrs,
    parse_entity,
    parse_entity_id,
    parse_instance,
    parse_scope,
    parse_types,
)
from .render import RenderOptions, geometry_of, render_entity, render_feature
from .vocab import (
    ATTR_TYPES,
    ENTITY_RESERVED,
    FORBIDDEN_ATTR_NAMES,
    GEO_DEFAULTS,
    IGNORED_MEMBERS,
    INSTANCE_META,
    LOCATION,
    NGSI,
    NULL,
    OBSERVATION_SPACE,
    OPERATION_SPACE,
    VALUE_MEMBER,
    VALUE_MEMBERS,
    check_datetime,
    check_name,
    is_uri,
    now_iso,
)

__all__ = [
    "ATTR_TYPES",
    "ENTITY_RESERVED",
    "FORBIDDEN_ATTR_NAMES",
    "GEO_DEFAULTS",
    "GEO_TYPES",
    "IGNORED_MEMBERS",
    "INSTANCE_META",
    "LOCATION",
    "NGSI",
    "NULL",
    "OBSERVATION_SPACE",
    "OPERATION_SPACE",
    "VALUE_MEMBER",
    "VALUE_MEMBERS",
    "ParseOptions",
    "RenderOptions",
    "check_datetime",
    "check_geometry",
    "check_name",
    "geometry_of",
    "instance_index",
    "is_uri",
    "looks_like_geometry",
    "merge_instance",
    "now_iso",
    "parse_attribute",
    "parse_attrs",
    "parse_entity",
    "parse_entity_id",
    "parse_instance",
    "parse_scope",
    "parse_types",
    "put_instance",
    "render_entity",
    "render_feature",
    "stamp",
    "stamp_attrs",
    "weighted_items",
]
