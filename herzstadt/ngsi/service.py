"""NGSI-LD use cases, one function per endpoint (framework-free) — the facade.

Every function takes the ``Broker`` and a ``Req`` (tenant, active @context, query parameters, body)
and returns a ``Result``; errors are raised as ``NgsiError``. The ASGI layer does HTTP.

The functions live in small modules: ``ops_entities``, ``ops_attributes``, ``ops_query``,
``ops_batch``, ``ops_types`` (plus ``contexts_api`` and ``subscriptions``); shared pieces in
``broker`` (Broker, Req, Result, parameters), ``edits`` (document changes) and ``render``.
"""

from __future__ import annotations

from .broker import NO_CONTENT, Broker, FragmentCache, Req, Result, options, render_options
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
from .ops_types import list_attributes, list_types, retrieve_attribute, retrieve_type

__all__ = [
    "NO_CONTENT",
    "Broker",
    "FragmentCache",
    "Req",
    "Result",
    "append_attrs",
    "batch_create",
    "batch_delete",
    "batch_merge",
    "batch_update",
    "batch_upsert",
    "create_entity",
    "delete_attr",
    "delete_entity",
    "list_attributes",
    "list_types",
    "load_entities",
    "merge_entity",
    "options",
    "partial_attr_update",
    "purge_entities",
    "query_entities",
    "query_entities_post",
    "render_options",
    "replace_attr",
    "replace_entity",
    "retrieve_attribute",
    "retrieve_entity",
    "retrieve_type",
    "update_attrs",
]
