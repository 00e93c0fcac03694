"""NGSI-LD use cases, one function per endpoint (framework-free) — the facade.

Every function is called as ``use_case(broker, req, params, *path_arguments)``: the ``Broker``, a
``Req`` (principal, tenant, active @context, body), the query parameters parsed into a typed object
of ``params`` (None for use cases without any) and the path's identifiers; it returns a ``Result``
whose ``kind`` (``Kind``) says how to render it; errors are raised as ``NgsiError``. The route
table (``routes``) says which use case serves which path and method; the ASGI layer does HTTP.

The functions live in small modules: ``ops_entities``, ``ops_attributes``, ``ops_query``,
``ops_batch``, ``ops_types``, ``ops_temporal`` (plus ``contexts_api`` and ``subscriptions``); shared pieces in
``broker`` (Broker, Req, Result, parameters), ``edits`` (document changes) and ``render``.
"""

from __future__ import annotations

from .broker import NO_CONTENT, Broker, FragmentCache, Kind, Req, Result, render_options
from .ops_attributes import (
    append_attrs,
    delete_attr,
    partial_attr_update,
    replace_attr,
    update_attrs,
)
from .ops_batch import (
    batch_create,
    batch_delete,
    batch_merge,
    batch_update,
    batch_upsert,
    load_entities,
    purge_entities,
)
from .ops_entities import (
    create_entity,
    delete_entity,
    merge_entity,
    replace_entity,
    retrieve_entity,
)
from .ops_query import query_entities, query_entities_post
from .ops_temporal import (
    TemporalParams,
    TimeQuery,
    append_temporal_attrs,
    create_temporal,
    delete_temporal,
    query_temporal,
    retrieve_temporal,
)
from .ops_types import list_attributes, list_types, retrieve_attribute, retrieve_type

__all__ = [
    "NO_CONTENT",
    "Broker",
    "FragmentCache",
    "Kind",
    "Req",
    "Result",
    "TemporalParams",
    "TimeQuery",
    "append_attrs",
    "append_temporal_attrs",
    "batch_create",
    "batch_delete",
    "batch_merge",
    "batch_update",
    "batch_upsert",
    "create_entity",
    "create_temporal",
    "delete_attr",
    "delete_entity",
    "delete_temporal",
    "list_attributes",
    "list_types",
    "load_entities",
    "merge_entity",
    "partial_attr_update",
    "purge_entities",
    "query_entities",
    "query_entities_post",
    "query_temporal",
    "render_options",
    "replace_attr",
    "replace_entity",
    "retrieve_attribute",
    "retrieve_entity",
    "retrieve_temporal",
    "retrieve_type",
    "update_attrs",
]
