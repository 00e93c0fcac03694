"""The broker's OpenAPI 3.1 description, generated from the route table.

``document(routes, base_path)`` builds it from ``routes.ROUTES`` (paths, methods, which query
parameters each operation takes, whether it takes a body, the scope it needs) and
``params.QUERY_PARAMETERS`` (each parameter's schema), so the description cannot drift from what
the broker serves: a route without a response entry here, or a parameter without a schema, is an
error when the document is built (and the tests build it). The request bodies are reasonable JSON
schemas, not the full ETSI ones. ``serve_openapi`` answers ``GET /ngsi-ld/v1/openapi.json`` with
the document as cached bytes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import orjson

from . import contexts_api, ops_temporal, service, subscriptions
from .broker import Broker, Kind, Req, Result
from .csource import api as csource_api
from .csource import subs as csource_subs
from .params import QUERY_PARAMETERS

if TYPE_CHECKING:
    from .routes import Route

TITLE = "herzstadt NGSI-LD API"
VERSION = "1.0.0"

JSON = "application/json"
LD = "application/ld+json"
GEO = "application/geo+json"
MERGE = "application/merge-patch+json"
PROBLEM = "application/problem+json"

_REF = "#/components/schemas/"
_ERR = "#/components/responses/"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


# ------------------------------------------------------------------------------- schemas
#: what the broker accepts as a URI (``model.is_uri``) and as a name (``model.check_name``)
_URI = {
    "type": "string",
    "format": "uri",
    "pattern": r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$",
}
_NAME_PATTERN = r"^[^@<>\"'=;()\s\x00-\x1f\x7f&?][^<>\"'=;()\s\x00-\x1f\x7f&?]*$"
_NAME = {"type": "string", "pattern": _NAME_PATTERN}
_NAME_LIST = {"type": "array", "items": _NAME, "minItems": 1}
_MEMBER_NAMES = {"anyOf": [{"const": "@context"}, {"pattern": _NAME_PATTERN}]}

SCHEMAS: dict[str, dict[str, Any]] = {
    "ProblemDetails": {
        "type": "object",
        "description": "RFC 9457 problem details; `type` is an NGSI-LD error type URI"
        " (https://uri.etsi.org/ngsi-ld/errors/…) or about:blank for 401/403.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
    },
    "LdContext": {
        "description": "A JSON-LD @context: a URL, an object or an array of them.",
        "oneOf": [
            {"type": "string"},
            {"type": "object"},
            {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "object"}]}},
        ],
    },
    "Attribute": {
        "type": "object",
        "description": "An attribute instance (normalized representation).",
        "required": ["type"],
        "properties": {
            "type": {
                "type": "string",
                "enum": [
                    "Property",
                    "Relationship",
                    "GeoProperty",
                    "LanguageProperty",
                    "ListProperty",
                    "ListRelationship",
                    "JsonProperty",
                    "VocabProperty",
                ],
            },
            "value": {},
            "object": {"oneOf": [_URI, {"type": "array", "items": _URI}]},
            "languageMap": {"type": "object", "additionalProperties": {"type": "string"}},
            "valueList": {"type": "array"},
            "objectList": {"type": "array"},
            "json": {},
            "vocab": {},
            "datasetId": _URI,
            "observedAt": {"type": "string", "format": "date-time"},
            "unitCode": {"type": "string"},
        },
    },
    "AttributeFragment": {
        "type": "object",
        "description": "The members of an attribute to change (partial attribute update).",
        "minProperties": 1,
    },
    "AttributeValue": {
        "description": "An attribute: one instance, several (by datasetId), or in the"
        " keyValues/concise representations a plain value.",
        "anyOf": [
            _ref("Attribute"),
            {"type": "array", "items": _ref("Attribute"), "minItems": 1},
            {"type": ["string", "number", "boolean", "null", "object", "array"]},
        ],
    },
    "Fragment": {
        "type": "object",
        "description": "Attributes (names to attributes), as in an entity without id and type.",
        "propertyNames": _MEMBER_NAMES,
        "additionalProperties": _ref("AttributeValue"),
    },
    "Entity": {
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "id": _URI,
            "type": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "scope": {
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "@context": _ref("LdContext"),
        },
        "propertyNames": _MEMBER_NAMES,
        "additionalProperties": _ref("AttributeValue"),
    },
    "EntityList": {"type": "array", "items": _ref("Entity"), "minItems": 1},
    "EntityIdList": {"type": "array", "items": _URI, "minItems": 1},
    "BatchResult": {
        "type": "object",
        "description": "207: what succeeded and what failed (with a ProblemDetails each).",
        "properties": {
            "success": {"type": "array", "items": _URI},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"entityId": _URI, "error": _ref("ProblemDetails")},
                },
            },
        },
    },
    "UpdateResult": {
        "type": "object",
        "properties": {
            "updated": _NAME_LIST,
            "notUpdated": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "attributeName": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
            },
        },
    },
    "EntitySelector": {
        "type": "object",
        "properties": {
            "id": _URI,
            "idPattern": {"type": "string"},
            "type": {"type": "string"},
        },
    },
    "GeoQuery": {
        "type": "object",
        "required": ["georel", "geometry", "coordinates"],
        "properties": {
            "georel": {"type": "string"},
            "geometry": QUERY_PARAMETERS["geometry"][0],
            "coordinates": {"oneOf": [{"type": "array"}, {"type": "string"}]},
            "geoproperty": {"type": "string"},
        },
    },
    "Query": {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"const": "Query"},
            "entities": {"type": "array", "items": _ref("EntitySelector")},
            "attrs": _NAME_LIST,
            "q": {"type": "string"},
            "geoQ": _ref("GeoQuery"),
            "scopeQ": {"type": "string"},
            "lang": {"type": "string"},
            "join": QUERY_PARAMETERS["join"][0],
            "joinLevel": {"type": "integer", "minimum": 1},
            "@context": _ref("LdContext"),
        },
    },
    "Subscription": {
        "type": "object",
        "required": ["type", "notification"],
        "anyOf": [{"required": ["entities"]}, {"required": ["watchedAttributes"]}],
        "properties": {
            "id": _URI,
            "type": {"const": "Subscription"},
            "subscriptionName": {"type": "string"},
            "description": {"type": "string"},
            "entities": {"type": "array", "items": _ref("EntitySelector")},
            "watchedAttributes": _NAME_LIST,
            "q": {"type": "string"},
            "geoQ": _ref("GeoQuery"),
            "scopeQ": {"type": "string"},
            "isActive": {"type": "boolean"},
            "expiresAt": {"type": "string", "format": "date-time"},
            "throttling": {"type": "number", "minimum": 0},
            "timeInterval": {"type": "number", "minimum": 0},
            "notification": {
                "type": "object",
                "required": ["endpoint"],
                "properties": {
                    "attributes": _NAME_LIST,
                    "format": {"type": "string"},
                    "endpoint": {
                        "type": "object",
                        "required": ["uri"],
                        "properties": {"uri": _URI, "accept": {"type": "string"}},
                    },
                },
            },
            "@context": _ref("LdContext"),
        },
    },
    "CSourceRegistration": {
        "type": "object",
        "required": ["type", "information", "endpoint"],
        "properties": {
            "id": _URI,
            "type": {"const": "ContextSourceRegistration"},
            "registrationName": {"type": "string"},
            "description": {"type": "string"},
            "information": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "entities": {"type": "array", "items": _ref("EntitySelector")},
                        "propertyNames": _NAME_LIST,
                        "relationshipNames": _NAME_LIST,
                    },
                },
            },
            "endpoint": {
                "type": "string",
                "description": "URL of the context source; its host must be on"
                " HERZSTADT_NGSI_CSOURCE_HOSTS",
            },
            "mode": {"enum": ["inclusive", "exclusive", "redirect", "auxiliary"]},
            "operations": _NAME_LIST,
            "tenant": {"type": "string"},
            "contextSourceInfo": {"type": "array", "items": {"type": "object"}},
            "expiresAt": {"type": "string", "format": "date-time"},
            "observationInterval": {"type": "object"},
            "managementInterval": {"type": "object"},
            "location": {"type": "object"},
            "observationSpace": {"type": "object"},
            "operationSpace": {"type": "object"},
            "@context": _ref("LdContext"),
        },
        "additionalProperties": True,
    },
    "CSourceRegistrationFragment": {
        "type": "object",
        "description": "The members of a CSourceRegistration to change (null: remove).",
        "properties": {"@context": _ref("LdContext")},
        "additionalProperties": True,
    },
    "SubscriptionFragment": {
        "type": "object",
        "description": "The members of a Subscription to change.",
        "properties": {"@context": _ref("LdContext")},
        "additionalProperties": True,
    },
    "ContextPayload": {
        "type": "object",
        "required": ["@context"],
        "properties": {"@context": _ref("LdContext")},
    },
    "ContextInfo": {
        "type": "object",
        "properties": {
            "URL": {"type": "string"},
            "localId": {"type": "string"},
            "kind": QUERY_PARAMETERS["kind"][0],
            "createdAt": {"type": "string"},
            "lastUsage": {"type": "string"},
            "extraInfo": {"type": "string"},
        },
    },
    "TypeOrAttributeInfo": {
        "type": "object",
        "description": "EntityTypeList / EntityType / EntityTypeInfo / AttributeList /"
        " Attribute / AttributeInfo (clause 5.2.24–5.2.28).",
        "required": ["id", "type"],
        "properties": {"id": {"type": "string"}, "type": {"type": "string"}},
    },
    "OpenApiDocument": {"type": "object", "required": ["openapi", "paths"]},
}

_ERRORS: dict[str, str] = {
    "400": "Bad request: invalid parameters, payload, identifiers or headers",
    "401": "No or invalid credentials",
    "403": "Forbidden (scope, tenant or entity type), or too many results",
    "404": "Resource or tenant not found",
    "405": "Method not allowed (see the Allow header)",
    "406": "None of the accepted media types can be produced",
    "409": "Already exists, or a conflicting request",
    "413": "Payload too large",
    "415": "Unsupported Content-Type",
    "422": "Operation not supported",
    "501": "Not implemented by herzstadt yet",
    "503": "An @context is not available, or the broker is busy (retry)",
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            PROBLEM: {"schema": _ref("ProblemDetails")},
            JSON: {"schema": _ref("ProblemDetails")},
        },
    }


# ------------------------------------------------------------------------- success answers
def _content(schema: dict[str, Any], *types: str) -> dict[str, Any]:
    return {"content": {t: {"schema": schema} for t in types}}


_ENTITY_TYPES = (JSON, LD, GEO)
_LOCATION = {"Location": {"description": "URL of the new resource", "schema": {"type": "string"}}}
_COUNT = {
    "NGSILD-Results-Count": {
        "description": "Total number of matches (with count=true)",
        "schema": {"type": "integer"},
    }
}
_NO_CONTENT = {"204": {"description": "Done"}}
_CREATED = {"201": {"description": "Created", "headers": _LOCATION}}
_BATCH_CREATED = {
    "201": {"description": "Created: the new entity ids", **_content(_ref("EntityIdList"), JSON)},
    "204": {"description": "Done (nothing new was created)"},
    "207": {"description": "Partly done", **_content(_ref("BatchResult"), JSON)},
}
_BATCH_DONE = {
    "204": {"description": "Done"},
    "207": {"description": "Partly done", **_content(_ref("BatchResult"), JSON)},
}
_UPDATED = {
    "204": {"description": "Done"},
    "207": {"description": "Partly done", **_content(_ref("UpdateResult"), JSON)},
}
_ENTITIES = {
    "200": {
        "description": "Matching entities (a FeatureCollection with application/geo+json)",
        "headers": _COUNT,
        **_content({"oneOf": [_ref("EntityList"), {"type": "object"}]}, *_ENTITY_TYPES),
    }
}
_INFO = {
    "200": {
        "description": "Type or attribute information",
        **_content({"oneOf": [_ref("TypeOrAttributeInfo"), {"type": "array"}]}, JSON, LD),
    }
}
_NOT_IMPLEMENTED = {"501": _error_response(_ERRORS["501"])}
_RANGE = {
    "Content-Range": {
        "description": "`date-time <start>-<end>/<size>`: the time range the instances of every"
        " attribute are complete for (ETSI GS CIM 009 6.3.10); size is lastN or `*`",
        "schema": {"type": "string"},
    }
}
_TEMPORAL_ENTITIES = {
    "200": {
        "description": "The temporal representations of the matching entities",
        "headers": _COUNT,
        **_content({"type": "array", "items": {"type": "object"}}, JSON, LD),
    },
    "206": {
        "description": "Partial: the instances up to the time range of Content-Range",
        "headers": {**_COUNT, **_RANGE},
        **_content({"type": "array", "items": {"type": "object"}}, JSON, LD),
    },
}

#: the success answers of each use case (an unknown use case is an error in ``document``)
SUCCESS: dict[Callable[..., Any], dict[str, Any]] = {
    service.query_entities: _ENTITIES,
    service.create_entity: _CREATED,
    service.purge_entities: _NO_CONTENT,
    service.retrieve_entity: {
        "200": {
            "description": "The entity (a Feature with application/geo+json)",
            **_content({"oneOf": [_ref("Entity"), {"type": "object"}]}, *_ENTITY_TYPES),
        }
    },
    service.replace_entity: _NO_CONTENT,
    service.merge_entity: _NO_CONTENT,
    service.delete_entity: _NO_CONTENT,
    service.append_attrs: _UPDATED,
    service.update_attrs: _UPDATED,
    service.partial_attr_update: _NO_CONTENT,
    service.replace_attr: _NO_CONTENT,
    service.delete_attr: _NO_CONTENT,
    service.batch_create: _BATCH_CREATED,
    service.batch_upsert: _BATCH_CREATED,
    service.batch_update: _BATCH_DONE,
    service.batch_delete: _BATCH_DONE,
    service.batch_merge: _BATCH_DONE,
    service.query_entities_post: _ENTITIES,
    service.list_types: _INFO,
    service.retrieve_type: _INFO,
    service.list_attributes: _INFO,
    service.retrieve_attribute: _INFO,
    contexts_api.list_contexts: {
        "200": {
            "description": "The @contexts (URLs, or ContextInfo with details=true)",
            **_content(
                {"type": "array", "items": {"oneOf": [{"type": "string"}, _ref("ContextInfo")]}},
                JSON,
            ),
        }
    },
    contexts_api.add_context: _CREATED,
    contexts_api.serve_context: {
        "200": {
            "description": "The @context document (ContextInfo with details=true)",
            **_content({"type": "object"}, JSON, LD),
        }
    },
    contexts_api.delete_context: _NO_CONTENT,
    subscriptions.query_subscriptions: {
        "200": {
            "description": "The subscriptions",
            "headers": _COUNT,
            **_content({"type": "array", "items": _ref("Subscription")}, JSON, LD),
        }
    },
    subscriptions.create_subscription: _CREATED,
    subscriptions.retrieve_subscription: {
        "200": {"description": "The subscription", **_content(_ref("Subscription"), JSON, LD)}
    },
    subscriptions.update_subscription: _NO_CONTENT,
    subscriptions.delete_subscription: _NO_CONTENT,
    subscriptions.not_implemented: _NOT_IMPLEMENTED,
    csource_api.query_registrations: {
        "200": {
            "description": "The matching context source registrations (discovery, 5.10)",
            "headers": _COUNT,
            **_content({"type": "array", "items": _ref("CSourceRegistration")}, JSON, LD),
        }
    },
    csource_api.create_registration: _CREATED,
    csource_api.retrieve_registration: {
        "200": {
            "description": "The context source registration",
            **_content(_ref("CSourceRegistration"), JSON, LD),
        }
    },
    csource_api.update_registration: _NO_CONTENT,
    csource_api.delete_registration: _NO_CONTENT,
    csource_subs.query_subscriptions: {
        "200": {
            "description": "The context source registration subscriptions",
            "headers": _COUNT,
            **_content({"type": "array", "items": _ref("Subscription")}, JSON, LD),
        }
    },
    csource_subs.create_subscription: _CREATED,
    csource_subs.retrieve_subscription: {
        "200": {
            "description": "The context source registration subscription",
            **_content(_ref("Subscription"), JSON, LD),
        }
    },
    csource_subs.update_subscription: _NO_CONTENT,
    csource_subs.delete_subscription: _NO_CONTENT,
    ops_temporal.query_temporal: _TEMPORAL_ENTITIES,
    ops_temporal.query_temporal_post: _TEMPORAL_ENTITIES,
    ops_temporal.create_temporal: {**_CREATED, **_NO_CONTENT},
    ops_temporal.retrieve_temporal: {
        "200": {
            "description": "The temporal representation of the entity (normalized:"
            " attribute instances; temporalValues: [value, time] pairs; aggregatedValues:"
            " [value, start, end] per method and period)",
            **_content({"type": "object"}, JSON, LD),
        },
        "206": {
            "description": "Partial: the instances up to the time range of Content-Range",
            "headers": _RANGE,
            **_content({"type": "object"}, JSON, LD),
        },
    },
    ops_temporal.delete_temporal: _NO_CONTENT,
    ops_temporal.append_temporal_attrs: _NO_CONTENT,
    ops_temporal.delete_temporal_attr: _NO_CONTENT,
    ops_temporal.modify_instance: _NO_CONTENT,
    ops_temporal.delete_instance: _NO_CONTENT,
}


def _body_schema(pattern: str, method: str) -> dict[str, Any]:
    """The request body of an operation (by path and method)."""
    if pattern in ("entities", "temporal/entities"):
        return _ref("Entity")
    if pattern == "entities/{entityId}":
        return _ref("Entity") if method == "PUT" else _ref("Fragment")
    if pattern in ("entities/{entityId}/attrs", "temporal/entities/{entityId}/attrs"):
        return _ref("Fragment")
    if pattern == "entities/{entityId}/attrs/{attrId}":
        return _ref("Attribute") if method == "PUT" else _ref("AttributeFragment")
    if pattern in ("entityOperations/query", "temporal/entityOperations/query"):
        return _ref("Query")
    if pattern == "entityOperations/delete":
        return _ref("EntityIdList")
    if pattern.startswith("entityOperations/"):
        return _ref("EntityList")
    if pattern == "jsonldContexts":
        return _ref("ContextPayload")
    if pattern in ("subscriptions", "csourceSubscriptions"):
        return _ref("Subscription")
    if pattern in ("subscriptions/{subscriptionId}", "csourceSubscriptions/{subscriptionId}"):
        return _ref("SubscriptionFragment")
    if pattern == "csourceRegistrations":
        return _ref("CSourceRegistration")
    if pattern == "csourceRegistrations/{registrationId}":
        return _ref("CSourceRegistrationFragment")
    return {"type": "object"}


#: an identifier in a path: a URI (``urn:…``; other schemes percent-encoded)
_ID = {"type": "string", "pattern": _URI["pattern"]}

_PATH_PARAMS: dict[str, tuple[dict[str, Any], str]] = {
    "entityId": (_ID, "Entity id (a URI)"),
    "attrId": ({"type": "string", "minLength": 1}, "Attribute name (short or expanded)"),
    "type": ({"type": "string", "minLength": 1}, "Entity type (short or expanded)"),
    "contextId": ({"type": "string", "minLength": 1}, "@context id (localId) or URL"),
    "subscriptionId": (_ID, "Subscription id (a URI)"),
    "registrationId": (_ID, "Registration id (a URI)"),
    "instanceId": (_ID, "Attribute instance id (a URI, the instanceId of the instance)"),
}

_HEADERS = {
    "Tenant": {
        "name": "NGSILD-Tenant",
        "in": "header",
        "required": False,
        "description": "The tenant (default: the credential's tenant; it must exist).",
        "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_\-.:/]{1,128}$"},
    },
    "Link": {
        "name": "Link",
        "in": "header",
        "required": False,
        "description": 'The @context: `<url>; rel="http://www.w3.org/ns/json-ld#context";'
        ' type="application/ld+json"` (not with application/ld+json payloads). A URL the'
        " broker does not hold and may not fetch is a 503 LdContextNotAvailable.",
        "schema": {
            "type": "string",
            "pattern": r'^<https?://[^<>\s]+>\s*;\s*rel="http://www\.w3\.org/ns/json-ld#context"'
            r'(\s*;\s*type="application/ld\+json")?$',
        },
    },
}


def _op_id(method: str, pattern: str, handler: Callable[..., Any], seen: set[str]) -> str:
    name = handler.__name__
    if name == "not_implemented" or name in seen:
        words = re.findall(r"[A-Za-z]+", pattern.replace("{", " by ").replace("}", " "))
        name = method.lower() + "".join(w[:1].upper() + w[1:] for w in words)
    seen.add(name)
    return name


def _tag(pattern: str) -> str:
    head = pattern.split("/", 1)[0]
    return "openapi" if head == "openapi.json" else head


def _parameters(route: Route, names: Iterable[str], public: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in route.names:
        schema, desc = _PATH_PARAMS[name]
        out.append(
            {"name": name, "in": "path", "required": True, "description": desc, "schema": schema}
        )
    for name in sorted(names):
        schema, desc = QUERY_PARAMETERS[name]  # KeyError: a parameter without a description
        p: dict[str, Any] = {"name": name, "in": "query", "description": desc, "schema": schema}
        if schema.get("type") == "array":
            p["style"], p["explode"] = "form", False
        out.append(p)
    if not public:
        out.append({"$ref": "#/components/parameters/Tenant"})
        out.append({"$ref": "#/components/parameters/Link"})
    return out


def document(routes: list[Route], base_path: str = "/ngsi-ld/v1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes`` served under ``base_path``."""
    paths: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for route in routes:
        path = "/" + re.sub(r"\{(\w+):path\}", r"{\1}", route.pattern)
        item: dict[str, Any] = {}
        for method, op in sorted(route.methods.items()):
            public = op.scope is None
            # write use cases are wrapped by the distributed operations (federation.writes)
            handler = getattr(op.handler, "__wrapped__", op.handler)
            federated = handler is not op.handler
            is_openapi = handler is serve_openapi
            responses: dict[str, Any] = dict(
                {"200": {"description": "This document", **_content(_ref("OpenApiDocument"), JSON)}}
                if is_openapi
                else SUCCESS[handler]  # KeyError: a use case without documented answers
            )
            if federated and "207" not in responses:
                responses["207"] = {
                    "description": "Forwarded to context sources (distributed operations) and a"
                    " part failed: `success` and `errors` (with `entityId`, `registrationId`)",
                    **_content({"type": "object"}, JSON),
                }
            codes = ["400", "404", "405", "406", "503"]
            if not public:
                codes += ["401", "403"]
            if op.body:
                codes += ["409", "413", "415", "422"]
            for code in sorted(codes):
                responses.setdefault(code, {"$ref": _ERR + code})
            o: dict[str, Any] = {
                "operationId": _op_id(method, route.pattern, handler, seen),
                "tags": [_tag(route.pattern)],
                "summary": (handler.__doc__ or "").strip().split("\n", 1)[0] or f"{method} {path}",
                "parameters": _parameters(route, op.params, is_openapi),
                "responses": dict(sorted(responses.items())),
            }
            if op.handler is subscriptions.not_implemented:
                o["summary"] = "Not implemented yet (501 after the common checks)"
            if public:
                o["security"] = [{}, {"apiKey": []}, {"bearer": []}]
            else:
                o["description"] = f"Needs the `{op.scope}` scope (or open access)."
            if op.body:
                types = [JSON, LD]
                if method == "PATCH":
                    types.append(MERGE)
                schema = _body_schema(route.pattern, method)
                o["requestBody"] = {"required": True, **_content(schema, *types)}
            item[method.lower()] = o
        paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "NGSI-LD (ETSI GS CIM 009) as served by herzstadt's broker; generated"
            " from its route table. Credentials: an API key in `X-API-Key` (or"
            " `Authorization: ApiKey …`) or an OAuth2 bearer token; without them only public"
            " operations and openly published entity types are served.",
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "servers": [{"url": base_path}],
        "security": [{"apiKey": []}, {"bearer": []}, {}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "parameters": _HEADERS,
            "responses": {code: _error_response(d) for code, d in _ERRORS.items()},
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@functools.cache
def document_bytes(base_path: str) -> bytes:
    from .routes import ROUTES  # the route table names this module's use case

    return orjson.dumps(document(ROUTES, base_path))


def serve_openapi(broker: Broker, req: Req, params: None = None) -> Result:
    """The OpenAPI 3.1 description of this API."""
    return Result(200, document_bytes(broker.config.base_path), Kind.BYTES)
